import type { ReactElement } from 'react'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { MainNavMenuContent } from './main-nav-menu-content'
import { ssoLogout } from '@/app/components/dify-sso'

type AccountDropdownProps = {
  trigger: (props: { ariaLabel: string }) => ReactElement
}

// Minimal reproduction of the shape of the account menu (not Dify's source).
export default function AccountDropdown({ trigger }: AccountDropdownProps) {
  const [isAccountMenuOpen, setIsAccountMenuOpen] = useState(false)
  const { t } = useTranslation()

  const handleLogout = async () => {
    resetUser()
    // Tokens live in cookies and are cleared by the backend

    ssoLogout()
  }

  return (
    <div data-open={isAccountMenuOpen} onClick={() => setIsAccountMenuOpen(!isAccountMenuOpen)}>
      {trigger({ ariaLabel: t(($) => $['account.account'], { ns: 'common' }) })}
      <MainNavMenuContent onLogout={handleLogout} />
    </div>
  )
}
