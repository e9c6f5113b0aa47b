import { useRouter } from '@/next/navigation'
import { useLogout } from '@/service/use-common'
import { forgetFixtureUser, useFixtureProfile } from './sso-fixture-session'

// dify-sso-kit test fixture, made up for the codemod tests: the account page's sign-out
// button with the 1.16 logout shape (renders nothing until the profile is loaded).
export default function AccountPageSignOutSketch() {
  const router = useRouter()
  const profile = useFixtureProfile()
  const { mutateAsync: logout } = useLogout()

  if (!profile)
    return null

  const handleLogout = async () => {
    await logout()
    forgetFixtureUser()
    router.push('/signin')
  }

  return (
    <button type="button" className="sso-fixture-signout" onClick={handleLogout}>
      Sign out ({profile.name})
    </button>
  )
}
