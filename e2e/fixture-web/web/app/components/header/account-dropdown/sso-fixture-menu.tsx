// dify-sso-kit e2e fixture: the account menu's items.
export function FixtureMenuBody({ onSignOut }: { onSignOut: () => void }) {
  return (
    <div role="group" aria-label="Account actions">
      <button type="button" onClick={onSignOut}>Log out</button>
    </div>
  )
}
