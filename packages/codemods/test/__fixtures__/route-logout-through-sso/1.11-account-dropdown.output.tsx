import { RiLogoutBoxRLine } from '@remixicon/react'
import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { ssoLogout } from '@/app/components/dify-sso'

// Minimal reproduction of the shape of the account menu (not Dify's source).
export default function AppSelector() {
  const { t } = useTranslation()

  const handleLogout = async () => {
    resetUser()
    localStorage.removeItem('setup_status')
    // Tokens live in cookies and are cleared by the backend

    ssoLogout()
  }

  return (
    <div className="p-1" onClick={() => handleLogout()}>
      <RiLogoutBoxRLine className="size-4" />
      <span>{t('userProfile.logout', { ns: 'common' })}</span>
    </div>
  )
}
