import { useRouter } from 'next/navigation'
import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { useLogout } from '@/service/use-common'

// Minimal reproduction of the shape of the account page avatar menu (not Dify's source).
export default function AppSelector() {
  const router = useRouter()
  const { t } = useTranslation()
  const { mutateAsync: logout } = useLogout()
  const handleLogout = async () => {
    await logout()

    localStorage.removeItem('setup_status')
    resetUser()

    router.push('/signin')
  }

  return (
    <button type="button" onClick={handleLogout}>{t('userProfile.logout', { ns: 'common' })}</button>
  )
}
