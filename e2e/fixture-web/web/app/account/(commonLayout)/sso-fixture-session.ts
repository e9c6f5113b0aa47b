// dify-sso-kit e2e fixture: the session helpers the account menu sketch imports.
export { forgetFixtureUser, useFixtureProfile } from '@/fixture-lib/profile'
