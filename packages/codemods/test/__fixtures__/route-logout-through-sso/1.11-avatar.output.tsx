import { forgetFixtureUser } from './sso-fixture-session'
import { ssoLogout } from '@/app/components/dify-sso'

// dify-sso-kit test fixture, made up for the codemod tests: the account page's sign-out
// button with the 1.11 logout shape.
export default function AccountPageSignOutSketch() {
  const handleLogout = async () => {
    forgetFixtureUser()
    ssoLogout()
  }

  return <button type="button" className="sso-fixture-signout" onClick={handleLogout}>Sign out</button>
}
