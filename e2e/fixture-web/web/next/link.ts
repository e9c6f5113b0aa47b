// dify-sso-kit e2e fixture: the `@/next/*` wrapper modules the 1.13.1+ shape imports.
export { default } from 'next/link'
