// dify-sso-kit e2e fixture: stands in for the icon package the sign-in form imports.
export function RiDoorLockLine() {
  return <span aria-hidden="true">🔒</span>
}
