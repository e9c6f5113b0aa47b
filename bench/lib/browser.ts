/**
 * A minimal browser for the benches: one cookie jar per origin (scheme, host and port: the
 * servers of a bench all live on 127.0.0.1), redirects followed by hand, the bench OP's password
 * form filled in. It runs the real sign-in flows — the sidecar's `/sso/login` and oauth2-proxy's
 * `/oauth2/start` through the OP to each callback — so every session a bench measures was made by
 * the server itself, never forged. Cookie values never leave this module except as the `Cookie`
 * header of a request.
 */

/** Password of every bench user (see `op.ts`). */
export const BENCH_PASSWORD = 'bench-user-password';
/** The OP knows `bench-user-0` … `bench-user-<USERS-1>`. */
export const USERS = 1000;

export interface Answer {
  status: number;
  location: string | undefined;
  body: string;
  url: string;
}

/** A failed sign-in or logout, with a stable reason (never a cookie or code). */
export class FlowError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'FlowError';
  }
}

export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  /** The `Cookie` header this browser sends to `origin`. */
  cookieHeader(origin: string): string {
    const jar = this.jars.get(new URL(origin).origin);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  has(origin: string, name: string): boolean {
    return this.jars.get(new URL(origin).origin)?.has(name) ?? false;
  }

  private store(origin: string, setCookies: string[]): void {
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** One request, no redirect followed. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const u = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.cookieHeader(u.origin);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(u, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
      ...(body !== undefined ? { body } : {}),
    });
    this.store(u.origin, res.headers.getSetCookie());
    const location = res.headers.get('location') ?? undefined;
    return {
      status: res.status,
      location: location ? new URL(location, u).href : undefined,
      body: await res.text(),
      url: u.href,
    };
  }

  /**
   * Follows redirects from `url`, filling in the OP's password form as `user`, until an answer
   * that is not a redirect, or a redirect for which `stop(location)` is true (returned as is).
   */
  async navigate(
    url: string,
    user: string,
    stop: (location: URL) => boolean,
    init: Parameters<Browser['request']>[1] = {},
  ): Promise<Answer> {
    let a = await this.request(url, init);
    for (let hop = 0; hop < 20; hop++) {
      if (a.status >= 300 && a.status < 400 && a.location) {
        if (stop(new URL(a.location))) return a;
        a = await this.request(a.location);
        continue;
      }
      const form = /<form method="post" action="(\/interaction\/[\w-]+\/login)"/.exec(a.body);
      if (a.status === 200 && form) {
        a = await this.request(new URL(form[1] as string, a.url).href, {
          method: 'POST',
          form: { username: user, password: BENCH_PASSWORD },
        });
        continue;
      }
      return a;
    }
    throw new FlowError('too_many_redirects', `more than 20 redirects from ${new URL(url).pathname}`);
  }
}

/**
 * Signs `user` in to the sidecar at `sidecarUrl` (its public URL): `/sso/login` → OP → password →
 * `/sso/callback`, which must end in a redirect into the console with the kit's session cookie set.
 */
export async function sidecarSignIn(b: Browser, sidecarUrl: string, user: string): Promise<void> {
  const origin = new URL(sidecarUrl).origin;
  const last = await b.navigate(
    `${origin}/sso/login?redirect=%2Fapps`,
    user,
    (l) => l.origin === origin && !l.pathname.startsWith('/sso/'),
  );
  const to = last.location ? new URL(last.location) : undefined;
  if (!to || to.pathname.startsWith('/signin')) {
    throw new FlowError(
      to?.searchParams.get('message') ?? `status_${last.status}`,
      `sidecar sign-in of ${user} did not reach the console (${to?.pathname ?? last.status})`,
    );
  }
  if (!b.has(origin, 'dify_sso')) throw new FlowError('no_session_cookie', 'the sidecar set no session cookie');
}

/** Signs `user` in to oauth2-proxy at `proxyUrl`: `/oauth2/start` → OP → password → `/oauth2/callback`. */
export async function oauth2ProxySignIn(b: Browser, proxyUrl: string, user: string): Promise<void> {
  const origin = new URL(proxyUrl).origin;
  const last = await b.navigate(
    `${origin}/oauth2/start?rd=%2F`,
    user,
    (l) => l.origin === origin && !l.pathname.startsWith('/oauth2/'),
  );
  if (!last.location || !b.has(origin, '_oauth2_proxy')) {
    throw new FlowError(
      `status_${last.status}`,
      `oauth2-proxy sign-in of ${user} did not set its session cookie (${last.status})`,
    );
  }
}

/**
 * Logs out at the sidecar the way the console does (same-origin `POST /sso/logout`), then
 * confirms the OP's logout page it is sent to (which also sends back-channel logouts).
 */
export async function sidecarLogout(b: Browser, sidecarUrl: string, user: string): Promise<void> {
  const origin = new URL(sidecarUrl).origin;
  const a = await b.request(`${origin}/sso/logout`, { method: 'POST', headers: { origin }, form: {} });
  if (a.status !== 303 || !a.location)
    throw new FlowError(`status_${a.status}`, `POST /sso/logout answered ${a.status}`);
  if (new URL(a.location).origin !== origin) await opLogout(b, a.location, user);
}

/**
 * Ends the OP session in the browser (`end_session` page → confirm): the OP then posts a logout
 * token to every client's back-channel logout URI before it answers.
 */
export async function opLogout(b: Browser, endSessionUrl: string, user: string): Promise<void> {
  const page = await b.request(endSessionUrl);
  const action =
    /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(
      page.body,
    );
  if (page.status !== 200 || !action)
    throw new FlowError(`end_session_${page.status}`, `the OP's logout page for ${user} answered ${page.status}`);
  const done = await b.request(new URL(action[1] as string, endSessionUrl).href, {
    method: 'POST',
    form: { xsrf: action[2] as string, logout: 'yes' },
  });
  if (done.status !== 303 && done.status !== 302 && done.status !== 200)
    throw new FlowError(`end_session_confirm_${done.status}`, `the OP's logout confirmation answered ${done.status}`);
}
