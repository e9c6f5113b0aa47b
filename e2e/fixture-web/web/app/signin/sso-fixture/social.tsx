// dify-sso-kit e2e fixture: the stock social buttons (removed by the codemods).
export default function Social() {
  return <button type="button">Continue with a social account</button>
}
