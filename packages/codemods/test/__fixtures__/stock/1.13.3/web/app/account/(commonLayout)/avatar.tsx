import { useRouter } from 'next/navigation'
import { useLogout } from '@/service/use-common'
import { forgetFixtureUser } from './sso-fixture-session'

// dify-sso-kit test fixture, made up for the codemod tests: the account page's sign-out
// button with the 1.13.3 logout shape.
export default function AccountPageSignOutSketch() {
  const router = useRouter()
  const { mutateAsync: logout } = useLogout()

  const handleLogout = async () => {
    await logout()
    forgetFixtureUser()
    router.push('/signin')
  }

  return <button type="button" className="sso-fixture-signout" onClick={handleLogout}>Sign out</button>
}
