import {
  test,
  expect,
  signIn,
  whoAmI,
  escapeRe,
  ssoButton,
  clickLogout,
  expectNoAuthArtifacts,
  expectDifyCookiesHttpOnly,
  requireLocal,
} from '../fixtures.js';
import { engine, FIXTURE_WEB_IMAGE, inspectImage } from '../../scripts/lib/web-image.js';

// The codemod path end to end: the fixture web tree (codemods' 1.16 reproduction + a small
// Next.js app of ours) was patched by the codemods and built into an image by
// `dify-sso image web`; the stack serves that container (read-only, non-root, no capabilities)
// behind nginx instead of the stand-in's console double (DIFY_SSO_E2E_WEB=image).
const image = process.env.DIFY_SSO_E2E_WEB_IMAGE ?? FIXTURE_WEB_IMAGE;

test.describe('plugin path through the patched web image', () => {
  test.beforeEach(({ target }) => {
    const stack = requireLocal(target);
    expect(stack.web, 'the stack serves the web image (DIFY_SSO_E2E_WEB=image)').toBe('image');
  });

  test('the patched sign-in page offers only the SSO button', async ({ page, target, blockedRequests }) => {
    await page.goto(target.signinUrl);
    await expect(ssoButton(page, 'plugin')).toBeVisible();
    // The fixture enables every login method; the codemods removed all but the kit's button.
    await expect(page.getByRole('button', { name: 'Continue with SSO' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Continue with a social account' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Sign in with password' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Send code' })).toHaveCount(0);
    await expect(page.getByLabel('Password')).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Create one' })).toHaveCount(0);
    // The local-account routes stay reachable by URL but render a redirect to /signin.
    await page.goto(`${target.baseUrl}/signup`);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    expect(blockedRequests, 'requests to hosts outside the deployment (fonts, telemetry)').toEqual([]);
  });

  test('an SSO error code from the sidecar is shown as text by the patched page', async ({ page, target }) => {
    await page.goto(`${target.signinUrl}?message=access_denied`);
    await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toBeVisible();
    await expect(ssoButton(page, 'plugin')).toBeVisible();
  });

  test("alice signs in through the patched page's SSO button and the app list shows her", async ({
    page,
    target,
    user,
    blockedRequests,
  }) => {
    const alice = user('alice');
    await signIn(page, target, alice, 'plugin');
    await expect(page.getByText(`Signed in as ${alice.name ?? alice.username} <${alice.email}>`)).toBeVisible();
    const me = await whoAmI(page, target);
    expect(me.status).toBe(200);
    expect(me.email).toBe(alice.email);
    await expectDifyCookiesHttpOnly(page);
    await expectNoAuthArtifacts(page);
    expect(blockedRequests).toEqual([]);
  });

  test("the patched account menu's logout ends the console and the IdP session", async ({ page, target, user }) => {
    const alice = user('alice');
    await signIn(page, target, alice, 'plugin');
    await expect(page.getByText(`Signed in as ${alice.name ?? alice.username} <${alice.email}>`)).toBeVisible();
    await clickLogout(page);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    expect((await whoAmI(page, target)).status).toBe(401);
    // The button acts once the page is hydrated: retry the click until the browser leaves for the IdP.
    await expect(async () => {
      await ssoButton(page, 'plugin').click();
      await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.issuer)}/`), { timeout: 3_000 });
    }).toPass({ timeout: 20_000 });
    await expect(page.getByLabel('Password', { exact: true }), 'the IdP asks for credentials again').toBeVisible();
  });

  test('without a session the app list sends the browser to the sign-in page', async ({ page, target }) => {
    await page.goto(`${target.baseUrl}/apps`);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    await expect(ssoButton(page, 'plugin')).toBeVisible();
  });

  test('the image records the Dify version, the kit version and the transforms, and runs as a fixed non-root user', () => {
    const { labels, user, healthcheck } = inspectImage(image);
    expect(labels['dify-sso-kit.dify-version']).toBe('1.16.1');
    expect(labels['dify-sso-kit.kit-version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(labels['dify-sso-kit.transforms']?.split(',')).toEqual(
      expect.arrayContaining(['add-plugin-files', 'add-sso-button', 'route-logout-through-sso']),
    );
    expect(labels['dify-sso-kit.tmpfs']).toBe('/tmp,/app/web/.next/cache');
    expect(user).toBe('65532:65532');
    expect(healthcheck?.[0]).toBe('CMD');
  });

  test('the running container is read-only, non-root, without capabilities, and its HEALTHCHECK passes', () => {
    const [info] = JSON.parse(engine(['container', 'inspect', 'web-image'])) as Array<{
      Config?: { User?: string };
      HostConfig?: { ReadonlyRootfs?: boolean; CapDrop?: string[]; CapAdd?: string[] | null; SecurityOpt?: string[] };
    }>;
    expect(info?.HostConfig?.ReadonlyRootfs).toBe(true);
    expect(info?.Config?.User).toBe('65532:65532');
    expect(info?.HostConfig?.CapAdd ?? []).toEqual([]);
    expect(info?.HostConfig?.SecurityOpt ?? []).toEqual(
      expect.arrayContaining([expect.stringMatching(/no-new-privileges/)]),
    );
    // The image's own HEALTHCHECK command, run inside the container (throws on a non-zero exit).
    engine(['healthcheck', 'run', 'web-image']);
    // Writing outside the tmpfs mounts fails; the Next.js cache folder is writable.
    const write = (path: string): string =>
      engine([
        'exec',
        'web-image',
        'node',
        '-e',
        `try { require('fs').writeFileSync(${JSON.stringify(path)}, 'x'); console.log('written') } catch (e) { console.log(e.code) }`,
      ]).trim();
    expect(write('/app/web/server.js')).toBe('EROFS');
    expect(write('/app/web/probe')).toBe('EROFS');
    expect(write('/app/web/.next/cache/probe')).toBe('written');
    expect(write('/tmp/probe')).toBe('written');
  });
});
