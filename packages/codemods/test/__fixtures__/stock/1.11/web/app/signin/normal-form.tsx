import { RiDoorLockLine } from '@remixicon/react'
import Link from 'next/link'
import { useSearchParams } from 'next/navigation'
import { useCallback, useEffect } from 'react'
import Toast from '@/app/components/base/toast'
import { useFixtureFeatures, useFixtureFlag, useFixtureMode } from './sso-fixture/state'
import MailAndCodeAuth from './sso-fixture/code-form'
import MailAndPasswordAuth from './sso-fixture/password-form'
import SocialAuth from './sso-fixture/social'
import SSOAuth from './sso-fixture/sso'
import Split from './sso-fixture/split'

// dify-sso-kit test fixture, made up for the codemod tests: a sign-in form with the 1.11
// shape the transforms edit (next/* imports, Toast.notify for ?message=; init() callback sets the
// "or" line and the "no method" panel).
const SignInFormSketch = () => {
  const query = useSearchParams()
  const message = query.get('message') ?? ''
  const features = useFixtureFeatures()
  const [mode, setMode] = useFixtureMode('password')
  const [showORLine, setOrLine] = useFixtureFlag()
  const [allMethodsAreDisabled, setNoMethod] = useFixtureFlag()

  const prepare = useCallback(async () => {
    if (features.fixture_signed_in) {
      window.location.assign('/apps')
      return
    }
    if (message) {
      Toast.notify({ type: 'error', message })
    }
    setNoMethod(!features.enable_email_password_login && !features.sso_enforced_for_signin)
    setOrLine(features.sso_enforced_for_signin && features.enable_email_password_login)
  }, [features, message, setNoMethod, setOrLine])
  useEffect(() => {
    prepare()
  }, [prepare])

  return (
    <>
      <div className="sso-fixture-page">
        <div className="sso-fixture-stack">
          <div className="sso-fixture-buttons flex flex-col">
            {features.enable_social_oauth_login && <SocialAuth />}
            {features.sso_enforced_for_signin && (
              <div className="sso-fixture-sso">
                <SSOAuth protocol={features.fixture_protocol} />
              </div>
            )}
          </div>
          {showORLine && (
            <p className="sso-fixture-or">or</p>
          )}
          {(features.enable_email_code_login || features.enable_email_password_login) && (
            <>
              {features.enable_email_code_login && mode === 'code' && (
                <>
                  <MailAndCodeAuth />
                  {features.enable_email_password_login && (
                    <button type="button" onClick={() => setMode('password')}>Use a password</button>
                  )}
                </>
              )}
              {features.enable_email_password_login && mode === 'password' && (
                <>
                  <MailAndPasswordAuth />
                  {features.enable_email_code_login && (
                    <button type="button" onClick={() => setMode('code')}>E-mail me a code</button>
                  )}
                </>
              )}
              <Split className="sso-fixture-split" />
            </>
          )}
          {features.is_allow_register && mode === 'password' && (
            <p className="sso-fixture-signup">
              No account yet? <Link href="/signup">Create one</Link>
            </p>
          )}
          {allMethodsAreDisabled && (
            <p className="sso-fixture-none">
              <RiDoorLockLine />
              No sign-in method is enabled.
            </p>
          )}
          {features.fixture_setup_pending && (
            <Link className="sso-fixture-setup" href="/install">Finish the setup</Link>
          )}
        </div>
      </div>
    </>
  )
}

export default SignInFormSketch
