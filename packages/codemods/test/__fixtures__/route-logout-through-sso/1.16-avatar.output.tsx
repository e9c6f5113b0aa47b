import { forgetFixtureUser, useFixtureProfile } from './sso-fixture-session'
import { ssoLogout } from '@/app/components/dify-sso'

// dify-sso-kit test fixture, made up for the codemod tests: the account page's sign-out
// button with the 1.16 logout shape (renders nothing until the profile is loaded).
export default function AccountPageSignOutSketch() {
  const profile = useFixtureProfile()

  if (!profile)
    return null

  const handleLogout = async () => {
    forgetFixtureUser()
    ssoLogout()
  }

  return (
    <button type="button" className="sso-fixture-signout" onClick={handleLogout}>
      Sign out ({profile.name})
    </button>
  )
}
