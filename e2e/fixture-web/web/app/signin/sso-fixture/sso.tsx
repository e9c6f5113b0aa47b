// dify-sso-kit e2e fixture: the stock, flag-dependent SSO button (replaced by the kit's).
export default function StockSso({ protocol }: { protocol: string }) {
  return <button type="button" data-protocol={protocol}>Continue with SSO</button>
}
