'use client'
import AccountPageSignOut from './avatar'

// dify-sso-kit e2e fixture: the account page with its own sign-out button.
export default function AccountPage() {
  return (
    <main>
      <h1>Account</h1>
      <AccountPageSignOut />
    </main>
  )
}
