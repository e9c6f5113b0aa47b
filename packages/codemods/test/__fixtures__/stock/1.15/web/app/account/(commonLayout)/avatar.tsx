import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { useAppContext } from '@/context/app-context'
import { useRouter } from '@/next/navigation'
import { useLogout } from '@/service/use-common'

// Minimal reproduction of the shape of the account page avatar menu (not Dify's source).
export default function AppSelector() {
  const router = useRouter()
  const { t } = useTranslation()
  const { userProfile } = useAppContext()
  const { mutateAsync: logout } = useLogout()

  if (!userProfile) return null

  const handleLogout = async () => {
    await logout()

    resetUser()

    router.push('/signin')
  }

  return (
    <button type="button" onClick={handleLogout}>
      {t(($) => $['userProfile.logout'], { ns: 'common' })}
    </button>
  )
}
