import type { ReactElement } from 'react'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { resetUser } from '@/app/components/base/amplitude/utils'
import { useRouter } from '@/next/navigation'
import { useLogout } from '@/service/use-common'
import { MainNavMenuContent } from './main-nav-menu-content'

type AccountDropdownProps = {
  trigger: (props: { ariaLabel: string }) => ReactElement
}

// Minimal reproduction of the shape of the account menu (not Dify's source).
export default function AccountDropdown({ trigger }: AccountDropdownProps) {
  const router = useRouter()
  const [isAccountMenuOpen, setIsAccountMenuOpen] = useState(false)
  const { t } = useTranslation()

  const { mutateAsync: logout } = useLogout()

  const handleLogout = async () => {
    await logout()
    resetUser()
    // Tokens live in cookies and are cleared by the backend

    router.push('/signin')
  }

  return (
    <div data-open={isAccountMenuOpen} onClick={() => setIsAccountMenuOpen(!isAccountMenuOpen)}>
      {trigger({ ariaLabel: t(($) => $['account.account'], { ns: 'common' }) })}
      <MainNavMenuContent onLogout={handleLogout} />
    </div>
  )
}
