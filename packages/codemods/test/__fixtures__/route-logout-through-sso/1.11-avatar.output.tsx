import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { ssoLogout } from '@/app/components/dify-sso'

// Minimal reproduction of the shape of the account page avatar menu (not Dify's source).
export default function AppSelector() {
  const { t } = useTranslation()
  const handleLogout = async () => {
    localStorage.removeItem('setup_status')
    resetUser()

    ssoLogout()
  }

  return (
    <button type="button" onClick={handleLogout}>{t('userProfile.logout', { ns: 'common' })}</button>
  )
}
