import { forgetFixtureUser } from './sso-fixture-session'
import { ssoLogout } from '@/app/components/dify-sso'

// dify-sso-kit test fixture, made up for the codemod tests: an account menu with the 1.11
// logout shape (handleLogout awaits logout(), then pushes /signin; a plain menu entry).
export default function AccountMenuSketch() {
  const handleLogout = async () => {
    forgetFixtureUser()
    ssoLogout()
  }

  return (
    <button type="button" className="sso-fixture-menu-item" onClick={() => handleLogout()}>
      Sign out
    </button>
  )
}
