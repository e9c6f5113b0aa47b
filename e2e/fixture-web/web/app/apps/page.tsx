'use client'
import AccountMenu from '@/app/components/header/account-dropdown'
import { useFixtureProfile } from '@/fixture-lib/profile'

// dify-sso-kit e2e fixture: the app list shows who is signed in (GET /console/api/account/profile
// through the front door) and carries the header's account menu.
export default function AppsPage() {
  const profile = useFixtureProfile()
  return (
    <main>
      <header>
        <AccountMenu renderTrigger={open => <button type="button" aria-expanded={open}>Account</button>} />
      </header>
      <h1>Apps</h1>
      {profile ? <p>{`Signed in as ${profile.name} <${profile.email}>`}</p> : <p>Loading…</p>}
    </main>
  )
}
