/**
 * What the hardening layer needs to know about a Dify web image, read from the checkout's own
 * `web/Dockerfile` (never copied, only read):
 *
 * - build context: the repository root when the Dockerfile copies paths under `web/` (Dify
 *   1.14 and later: pnpm workspace at the root; dify `.github/workflows/build-push.yml` builds
 *   with context `.` and file `web/Dockerfile`), else `web/` (up to 1.13.x: `COPY . .` in web/);
 * - where the Next.js standalone server lives, hence its cache folder `<app>/.next/cache`:
 *   `/app/targets/next/web` (dify `web/Dockerfile` 1.14+) or `/app/web` (up to 1.13.x).
 */
export type WebLayout = {
  /** Build context relative to the checkout root: '.' or 'web'. */
  context: '.' | 'web';
  /** Folder of the Next.js standalone `server.js` in the image. */
  appDir: string;
  /** Folders that must be writable at run time (tmpfs) when the root filesystem is read-only. */
  writableDirs: string[];
};

const COPY_LINE = /^\s*(?:COPY|ADD)\s+(.*)$/gim;

/** Reads the layout from the text of `web/Dockerfile`. */
export function webLayout(dockerfile: string): WebLayout {
  let rootContext = false;
  for (const m of dockerfile.matchAll(COPY_LINE)) {
    const words = (m[1] ?? '').trim().split(/\s+/);
    if (words.some((w) => w.startsWith('--from='))) continue;
    const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
    if (sources.some((s) => s.startsWith('web/') || s === 'pnpm-workspace.yaml')) rootContext = true;
  }
  // 1.14+: `WORKDIR /app` then `COPY … ./targets/next/web/…`; the hardening layer checks that
  // `<appDir>/server.js` exists and fails the build otherwise.
  const appDir = /(?:^|[\s/.])targets\/next\/web\b/m.test(dockerfile) ? '/app/targets/next/web' : '/app/web';
  return { context: rootContext ? '.' : 'web', appDir, writableDirs: ['/tmp', `${appDir}/.next/cache`] };
}
