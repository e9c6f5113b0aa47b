import { toast } from '@langgenius/dify-ui/toast'
import { RiDoorLockLine } from '@remixicon/react'
import { useQuery, useSuspenseQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { systemFeaturesQueryOptions } from '@/features/system-features/client'
import Link from '@/next/link'
import { useRouter, useSearchParams } from '@/next/navigation'
import { replaceLoginRedirect } from '@/utils/login-redirect.client'
import { basePath } from '@/utils/var'
import MailAndPasswordAuth from './components/mail-and-password-auth'
import SocialAuth from './components/social-auth'
import SSOAuth from './components/sso-auth'
import Split from './split'

type AuthType = 'code' | 'password'

// Minimal reproduction of the shape of the sign-in form (not Dify's source).
function NormalForm() {
  const { t } = useTranslation()
  const router = useRouter()
  const searchParams = useSearchParams()
  const queryString = searchParams.toString()
  const signupHref = queryString ? `/signup?${queryString}` : '/signup'
  const { data: userResp } = useQuery({ queryKey: ['profile'] })
  const isLoggedIn = !!userResp
  const message = decodeURIComponent(searchParams.get('message') || '')
  const inviteToken = decodeURIComponent(searchParams.get('invite_token') || '')
  const { data: systemFeatures } = useSuspenseQuery(systemFeaturesQueryOptions())
  const [selectedAuthType, setSelectedAuthType] = useState<AuthType | null>(null)

  const isInviteLink = Boolean(inviteToken && inviteToken !== 'null')
  const hasSocialLogin = systemFeatures.enable_social_oauth_login
  const ssoProtocol = systemFeatures.sso_enforced_for_signin_protocol
  const hasSsoLogin = systemFeatures.sso_enforced_for_signin && ssoProtocol !== null
  const hasEmailCodeLogin = systemFeatures.enable_email_code_login
  const hasEmailPasswordLogin = systemFeatures.enable_email_password_login
  const hasEmailLogin = hasEmailCodeLogin || hasEmailPasswordLogin
  const authType = selectedAuthType ?? (hasEmailPasswordLogin ? 'password' : 'code')
  const showORLine = (hasSocialLogin || hasSsoLogin) && hasEmailLogin
  const allMethodsAreDisabled = !hasSocialLogin && !hasEmailLogin && !hasSsoLogin

  useEffect(() => {
    if (!isLoggedIn) return
    replaceLoginRedirect(null, router.replace, basePath)
  }, [isLoggedIn, router])

  useEffect(() => {
    if (message) toast.error(message)
  }, [message])

  return (
    <>
      <div className="mx-auto mt-8 w-full">
        <h1 className="title-4xl-semi-bold text-text-primary">
          {t(($) => $.pageTitle, { ns: 'login' })}
        </h1>
        <div className="relative">
          <div className="mt-6 flex flex-col gap-3">
            {hasSocialLogin && <SocialAuth />}
            {hasSsoLogin && (
              <div className="w-full">
                <SSOAuth protocol={ssoProtocol} />
              </div>
            )}
          </div>

          {showORLine && (
            <div className="relative mt-6">
              <span className="px-3 text-text-tertiary">
                {t(($) => $.or, { ns: 'login' })}
              </span>
            </div>
          )}
          {hasEmailLogin && (
            <>
              {/* dify-sso: remove-email-code-login */}
              {hasEmailPasswordLogin && authType === 'password' && (
                <>
                  <MailAndPasswordAuth
                    isInvite={isInviteLink}
                    isEmailSetup={systemFeatures.is_email_setup}
                  />
                </>
              )}
              <Split className="mt-4 mb-5" />
            </>
          )}

          {systemFeatures.is_allow_register && authType === 'password' && (
            <div className="mb-3 text-[13px] text-text-secondary">
              <span>{t(($) => $['signup.noAccount'], { ns: 'login' })}</span>
              <Link className="text-text-accent" href={signupHref}>
                {t(($) => $['signup.signUp'], { ns: 'login' })}
              </Link>
            </div>
          )}
          {allMethodsAreDisabled && (
            <div className="rounded-lg p-4">
              <RiDoorLockLine className="size-5" />
              <p className="system-sm-medium text-text-primary">
                {t(($) => $.noLoginMethod, { ns: 'login' })}
              </p>
            </div>
          )}
        </div>
      </div>
    </>
  )
}

export default NormalForm
