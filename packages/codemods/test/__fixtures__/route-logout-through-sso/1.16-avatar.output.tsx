import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { useAppContext } from '@/context/app-context'
import { ssoLogout } from '@/app/components/dify-sso'

// Minimal reproduction of the shape of the account page avatar menu (not Dify's source).
export default function AppSelector() {
  const { t } = useTranslation()
  const { userProfile } = useAppContext()

  if (!userProfile) return null

  const handleLogout = async () => {
    resetUser()

    ssoLogout()
  }

  return (
    <button type="button" onClick={handleLogout}>
      {t(($) => $['userProfile.logout'], { ns: 'common' })}
    </button>
  )
}
