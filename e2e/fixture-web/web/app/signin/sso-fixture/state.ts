'use client'
// dify-sso-kit e2e fixture: the login methods a stock console would offer (all of them on), so a
// test can see that the patched page shows the SSO button only.
import { useState } from 'react'

export type FixtureFeatures = {
  enable_social_oauth_login: boolean
  sso_enforced_for_signin: boolean
  enable_email_code_login: boolean
  enable_email_password_login: boolean
  is_allow_register: boolean
  fixture_signed_in: boolean
  fixture_protocol: string
}

const FEATURES: FixtureFeatures = {
  enable_social_oauth_login: true,
  sso_enforced_for_signin: true,
  enable_email_code_login: true,
  enable_email_password_login: true,
  is_allow_register: true,
  fixture_signed_in: false,
  fixture_protocol: 'oidc',
}

export function useFixtureFeatures(): FixtureFeatures {
  return FEATURES
}

export function useFixtureMode(initial: 'password' | 'code' | null) {
  return useState<'password' | 'code' | null>(initial)
}
