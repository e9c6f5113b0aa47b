import { RiDoorLockLine } from '@remixicon/react'
import Link from 'next/link'
import { useRouter, useSearchParams } from 'next/navigation'
import * as React from 'react'
import { useCallback, useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import Toast from '@/app/components/base/toast'
import { IS_CE_EDITION } from '@/config'
import { useGlobalPublicStore } from '@/context/global-public-context'
import { useIsLogin } from '@/service/use-common'
import MailAndCodeAuth from './components/mail-and-code-auth'
import MailAndPasswordAuth from './components/mail-and-password-auth'
import SocialAuth from './components/social-auth'
import SSOAuth from './components/sso-auth'
import Split from './split'

// Minimal reproduction of the shape of the sign-in form (not Dify's source).
const NormalForm = () => {
  const { t } = useTranslation()
  const router = useRouter()
  const searchParams = useSearchParams()
  const { data: loginData } = useIsLogin()
  const message = decodeURIComponent(searchParams.get('message') || '')
  const invite_token = decodeURIComponent(searchParams.get('invite_token') || '')
  const { systemFeatures } = useGlobalPublicStore()
  const [authType, updateAuthType] = useState<'code' | 'password'>('password')
  const [showORLine, setShowORLine] = useState(false)
  const [allMethodsAreDisabled, setAllMethodsAreDisabled] = useState(false)
  const isInviteLink = Boolean(invite_token)

  const init = useCallback(async () => {
    if (loginData?.logged_in) {
      router.replace('/apps')
      return
    }

    if (message) {
      Toast.notify({
        type: 'error',
        message,
      })
    }
    setAllMethodsAreDisabled(!systemFeatures.enable_email_password_login && !systemFeatures.sso_enforced_for_signin)
    setShowORLine(systemFeatures.sso_enforced_for_signin && systemFeatures.enable_email_password_login)
    updateAuthType(systemFeatures.enable_email_password_login ? 'password' : 'code')
  }, [loginData, message, router, systemFeatures])
  useEffect(() => {
    init()
  }, [init])

  return (
    <>
      <div className="mx-auto mt-8 w-full">
        <h2 className="title-4xl-semi-bold text-text-primary">{t('pageTitle', { ns: 'login' })}</h2>
        <div className="relative">
          <div className="mt-6 flex flex-col gap-3">
            {systemFeatures.enable_social_oauth_login && <SocialAuth />}
            {systemFeatures.sso_enforced_for_signin && (
              <div className="w-full">
                <SSOAuth protocol={systemFeatures.sso_enforced_for_signin_protocol} />
              </div>
            )}
          </div>

          {showORLine && (
            <div className="relative mt-6">
              <span className="px-3 text-text-tertiary">{t('or', { ns: 'login' })}</span>
            </div>
          )}
          {
            (systemFeatures.enable_email_code_login || systemFeatures.enable_email_password_login) && (
              <>
                {systemFeatures.enable_email_code_login && authType === 'code' && (
                  <>
                    <MailAndCodeAuth isInvite={isInviteLink} />
                    {systemFeatures.enable_email_password_login && (
                      <div className="cursor-pointer py-1 text-center" onClick={() => { updateAuthType('password') }}>
                        <span>{t('usePassword', { ns: 'login' })}</span>
                      </div>
                    )}
                  </>
                )}
                {systemFeatures.enable_email_password_login && authType === 'password' && (
                  <>
                    <MailAndPasswordAuth isInvite={isInviteLink} isEmailSetup={systemFeatures.is_email_setup} allowRegistration={systemFeatures.is_allow_register} />
                    {systemFeatures.enable_email_code_login && (
                      <div className="cursor-pointer py-1 text-center" onClick={() => { updateAuthType('code') }}>
                        <span>{t('useVerificationCode', { ns: 'login' })}</span>
                      </div>
                    )}
                  </>
                )}
                <Split className="mb-5 mt-4" />
              </>
            )
          }

          {systemFeatures.is_allow_register && authType === 'password' && (
            <div className="mb-3 text-[13px] text-text-secondary">
              <span>{t('signup.noAccount', { ns: 'login' })}</span>
              <Link
                className="text-text-accent"
                href="/signup"
              >
                {t('signup.signUp', { ns: 'login' })}
              </Link>
            </div>
          )}
          {allMethodsAreDisabled && (
            <div className="rounded-lg p-4">
              <RiDoorLockLine className="h-5 w-5" />
              <p className="system-sm-medium text-text-primary">{t('noLoginMethod', { ns: 'login' })}</p>
            </div>
          )}
          {IS_CE_EDITION && (
            <div className="mt-2 block text-text-tertiary">
              <Link href="/install">{t('setAdminAccount', { ns: 'login' })}</Link>
            </div>
          )}
        </div>
      </div>
    </>
  )
}

export default NormalForm
