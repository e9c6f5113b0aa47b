'use client'
// dify-sso-kit e2e fixture: makes the sign-in form sketch a client component.
export { default } from './normal-form'
