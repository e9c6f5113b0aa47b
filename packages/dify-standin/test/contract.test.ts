/**
 * The console contract, against a real dify-api when `DIFY_CONTRACT_API_URL` is set (see
 * test/contract/target.ts and the package README), otherwise against the stand-in in several
 * deployment shapes (plain http, TLS URLs with `__Host-` cookies, `COOKIE_DOMAIN`, older versions —
 * 1.11.0, 1.12.1, 1.15.0, upstream main after 1.16.1 — password login left on).
 */
import { contractSuite } from './contract/suite.js';
import { envTarget, realTargetConfigured, standinTarget } from './contract/target.js';

if (realTargetConfigured()) {
  contractSuite(process.env['DIFY_CONTRACT_API_URL'] ?? 'real dify-api', () => envTarget());
} else {
  contractSuite('stand-in, newest, lockdown flags, plain http', () => standinTarget());
  contractSuite('stand-in, https console URLs (__Host- cookies)', () =>
    standinTarget({ consoleApiUrl: 'https://console.example.com', consoleWebUrl: 'https://console.example.com' }),
  );
  contractSuite('stand-in, https + COOKIE_DOMAIN (no __Host-, Domain set)', () =>
    standinTarget({
      consoleApiUrl: 'https://console.example.com',
      consoleWebUrl: 'https://console.example.com',
      cookieDomain: '.example.com',
    }),
  );
  // one run per block of version-dependent answers (invitation flow, member errors, setup shape)
  contractSuite('stand-in 1.12.1, password login on', () =>
    standinTarget({ version: '1.12.1', enableEmailPasswordLogin: true }),
  );
  contractSuite('stand-in 1.15.0, lockdown flags', () => standinTarget({ version: '1.15.0' }));
  contractSuite('stand-in main after 1.16.1 (no POST /workspaces/current)', () => standinTarget({ version: 'main' }));
  contractSuite('stand-in 1.11.0, password login and registration on, short lifetimes', () =>
    standinTarget({
      version: '1.11.0',
      enableEmailPasswordLogin: true,
      allowRegister: true,
      accessTokenExpireMinutes: 15,
      refreshTokenExpireDays: 7,
    }),
  );
}
