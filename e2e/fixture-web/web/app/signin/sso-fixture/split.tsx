// dify-sso-kit e2e fixture: a divider.
export default function Split({ className }: { className?: string }) {
  return <hr className={className} />
}
