import { toast } from '@langgenius/dify-ui/toast'
import { RiDoorLockLine } from '@remixicon/react'
import { useEffect } from 'react'
import Link from '@/next/link'
import { useSearchParams } from '@/next/navigation'
import { basePath } from '@/utils/var'
import { useFixtureFeatures, useFixtureMode } from './sso-fixture/state'
import MailAndCodeAuth from './sso-fixture/code-form'
import MailAndPasswordAuth from './sso-fixture/password-form'
import SocialAuth from './sso-fixture/social'
import SSOAuth from './sso-fixture/sso'
import Split from './sso-fixture/split'

// dify-sso-kit test fixture, made up for the codemod tests: a sign-in form with the 1.16
// shape the transforms edit: has*Login flags, sign-up link keeps the query string,
// one-line ?message= toast effect.
function SignInFormSketch() {
  const query = useSearchParams()
  const passthrough = query.toString()
  const signupLink = passthrough ? `/signup?${passthrough}` : '/signup'
  const message = query.get('message') ?? ''
  const features = useFixtureFeatures()
  const [picked, setPicked] = useFixtureMode(null)

  const socialOn = features.enable_social_oauth_login
  const ssoOn = features.sso_enforced_for_signin
  const hasEmailCodeLogin = features.enable_email_code_login
  const hasEmailPasswordLogin = features.enable_email_password_login
  const emailOn = hasEmailCodeLogin || hasEmailPasswordLogin
  const mode = picked ?? (hasEmailPasswordLogin ? 'password' : 'code')
  const showORLine = (socialOn || ssoOn) && emailOn
  const allMethodsAreDisabled = !socialOn && !ssoOn && !emailOn

  const signedIn = features.fixture_signed_in
  useEffect(() => void (signedIn && window.location.assign(`${basePath}/apps`)), [signedIn])

  useEffect(() => {
    if (message) toast.error(message)
  }, [message])

  return (
    <>
      <div className="sso-fixture-page">
        <div className="sso-fixture-stack">
          <div className="sso-fixture-buttons flex flex-col">
            {socialOn && <SocialAuth />}
            {ssoOn && (
              <div className="sso-fixture-sso">
                <SSOAuth protocol={features.fixture_protocol} />
              </div>
            )}
          </div>
          {showORLine && (
            <p className="sso-fixture-or">or</p>
          )}
          {emailOn && (
            <>
              {hasEmailCodeLogin && mode === 'code' && (
                <>
                  <MailAndCodeAuth />
                  {hasEmailPasswordLogin && (
                    <button type="button" onClick={() => setPicked('password')}>Use a password</button>
                  )}
                </>
              )}
              {hasEmailPasswordLogin && mode === 'password' && (
                <>
                  <MailAndPasswordAuth />
                  {hasEmailCodeLogin && (
                    <button type="button" onClick={() => setPicked('code')}>E-mail me a code</button>
                  )}
                </>
              )}
              <Split className="sso-fixture-split" />
            </>
          )}
          {features.is_allow_register && mode === 'password' && (
            <p className="sso-fixture-signup">
              No account yet? <Link href={signupLink}>Create one</Link>
            </p>
          )}
          {allMethodsAreDisabled && (
            <p className="sso-fixture-none">
              <RiDoorLockLine />
              No sign-in method is enabled.
            </p>
          )}
        </div>
      </div>
    </>
  )
}

export default SignInFormSketch
