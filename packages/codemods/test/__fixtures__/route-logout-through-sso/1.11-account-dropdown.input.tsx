import { RiLogoutBoxRLine } from '@remixicon/react'
import { useRouter } from 'next/navigation'
import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { useLogout } from '@/service/use-common'

// Minimal reproduction of the shape of the account menu (not Dify's source).
export default function AppSelector() {
  const router = useRouter()
  const { t } = useTranslation()

  const { mutateAsync: logout } = useLogout()
  const handleLogout = async () => {
    await logout()
    resetUser()
    localStorage.removeItem('setup_status')
    // Tokens live in cookies and are cleared by the backend

    router.push('/signin')
  }

  return (
    <div className="p-1" onClick={() => handleLogout()}>
      <RiLogoutBoxRLine className="size-4" />
      <span>{t('userProfile.logout', { ns: 'common' })}</span>
    </div>
  )
}
