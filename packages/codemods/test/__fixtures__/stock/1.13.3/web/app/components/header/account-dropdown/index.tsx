import { useRouter } from 'next/navigation'
import { useLogout } from '@/service/use-common'
import { forgetFixtureUser } from './sso-fixture-session'

// dify-sso-kit test fixture, made up for the codemod tests: an account menu with the 1.13.3
// logout shape (handleLogout awaits logout(), then pushes /signin; a plain menu entry).
export default function AccountMenuSketch() {
  const router = useRouter()
  const { mutateAsync: logout } = useLogout()

  const handleLogout = async () => {
    await logout()
    forgetFixtureUser()
    router.push('/signin')
  }

  return (
    <button type="button" className="sso-fixture-menu-item" onClick={() => handleLogout()}>
      Sign out
    </button>
  )
}
