// dify-sso-kit e2e fixture: the console's base path (empty unless built with one).
export const basePath = process.env.NEXT_PUBLIC_BASE_PATH ?? ''
