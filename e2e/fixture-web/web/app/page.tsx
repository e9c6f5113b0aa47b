import { redirect } from 'next/navigation'

// dify-sso-kit e2e fixture: the console's root goes to the app list.
export default function Home() {
  redirect('/apps')
}
