import { Suspense } from 'react'
import SignInForm from './client-form'

// dify-sso-kit e2e fixture: the sign-in route; the form (the shape the codemods edit) reads the
// query string, so it renders on the client inside a Suspense boundary.
export const dynamic = 'force-dynamic'

export default function SignInPage() {
  return (
    <main>
      <h1>Sign in to the fixture console</h1>
      <Suspense fallback={null}>
        <SignInForm />
      </Suspense>
    </main>
  )
}
