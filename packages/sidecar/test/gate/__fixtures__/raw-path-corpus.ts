/**
 * Raw request targets for the raw-path refusal (issue 9 finding 3), used by the unit tests, the
 * sidecar's reverse-proxy tests and the live nginx test. Data only; add cases, never remove them.
 */
/** Raw request targets refused with 400 `invalid_path` before any routing (issue 9 finding 3). */
export const REFUSED_TARGETS: readonly string[] = [
  // dot segments, raw
  '/console/api/apps/../login',
  '/console/api/./login',
  '/console/api/apps/..',
  '/console/api/apps/.',
  '/console/api/apps/..?x=1',
  '/..',
  '/.',
  // encoded dots, any case, whole segment or not
  '/console/api/workspaces/current/model-providers/%2e%2e/mcp/credentials',
  '/console/api/%2E%2E/x',
  '/console/api/.%2e/x',
  '/console/api/%2e./x',
  '/console/api/%2e/x',
  '/console/api/file%2Ejson',
  // ; path parameters, raw or encoded
  '/socket.io/..;/x?EIO=4&transport=polling',
  '/socket.io/;/x?EIO=4',
  '/console/api/login;x=1',
  '/console/api/login%3bx=1',
  '/console/api/login%3B',
  // encoded slash / backslash, raw backslash
  '/console/api/apps%2f..%2fsetup',
  '/console/api%2Fsetup',
  '/console/api%5clogin',
  '/console/api%5Clogin',
  '/console/api\\login',
  '/socket.io\\..\\console/api/apps',
  // control characters, raw or encoded
  '/console/api/apps%00',
  '/console/api/apps%0d%0aX-Injected:%201',
  '/console/api/apps%1F',
  '/console/api/apps%7f',
  '/console/api/apps%7F',
  '/console/api/apps\u0000',
  '/console/api/apps\u0009x',
  '/console/api/apps\u007f',
  // bad percent escapes
  '/console/api/apps%',
  '/console/api/apps%4',
  '/console/api/apps%zz',
  '/console/api/apps%4?x=1',
  // raw fragment, not origin-form
  '/console/api/apps#x',
  '*',
  'http://evil.example/console/api/apps',
  'console/api/apps',
  '',
];

/** Legitimate shapes (Dify console, web pages, assets, APIs, the e2e suite): never refused. */
export const ACCEPTED_TARGETS: readonly string[] = [
  '/',
  '/apps',
  '/signin?message=x',
  '/_next/static/chunks/app/(commonLayout)/apps/page-1a2b3c.js',
  '/_next/static/css/4f9e1b2c.css?dpl=dpl_1',
  '/_next/image?url=%2Flogo%2Flogo.svg&w=64&q=75',
  '/logo/logo-site.png',
  '/favicon.ico',
  '/.well-known/openid-configuration',
  '/a/b..c/file.name.js',
  '/a/c.',
  '/console/api/system-features',
  '/console/api/apps?page=1&limit=30&name=&is_created_by_me=false',
  '/console/api/apps/00000000-0000-0000-0000-000000000001/chat-messages?chunks=3&gate=g-1',
  '/console/api/workspaces/current/model-providers/langgenius/openai/openai/models',
  '/console/api/refresh-token',
  '/console/api/files/upload?source=datasets',
  '/files/abc/file-preview?timestamp=1&nonce=2&sign=a%2Fb%3D',
  '/socket.io/?EIO=4&transport=websocket',
  '/v1/chat-messages',
  '/api/passport?redirect_url=%2Fchat%2Fabc',
  '/chat/abc123',
  '/sso/login?redirect=%2Fapps%2F..%2Fsetup',
  '/sso/callback?code=x&state=y',
  '/console/api/apps/name%20with%20space',
  '/console/api/apps/%E4%BD%A0%E5%A5%BD',
  '/console/api/apps/100%25',
  '/console/api/apps/%7e',
  '/console/api//apps/',
];
