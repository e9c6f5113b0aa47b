/**
 * dify-api's error bodies.
 *
 * follows api/libs/exception.py + api/libs/external_api.py (1.12.1–main): a `BaseHTTPException`
 * or a Werkzeug HTTP error becomes `{"code", "message", "status"}`; a `ValueError` becomes 400
 * `invalid_param`. Flask-Login's unauthorized handler (api/extensions/ext_login.py) answers
 * `{"code":"unauthorized","message":"Unauthorized."}` without `status`. 401s raised through the
 * error handler carry `WWW-Authenticate: Bearer realm="api"`.
 */

export class DifyHttpError extends Error {
  override readonly name = 'DifyHttpError';
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;
  /**
   * Raised through flask-restx's error handler, which adds `WWW-Authenticate: Bearer realm="api"`
   * to 401s (api/libs/external_api.py). False for Flask-Login's anonymous 401 and for bodies a view
   * returns itself.
   */
  readonly viaErrorHandler: boolean;

  constructor(
    status: number,
    code: string,
    message: string,
    body?: Record<string, unknown>,
    viaErrorHandler = body === undefined,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body ?? { code, message, status };
    this.viaErrorHandler = viaErrorHandler;
  }
}

/** A body a view returns itself (`return {...}, status`): no `status` key unless given, no WWW-Authenticate. */
export function viewError(status: number, code: string, message: string): DifyHttpError {
  return new DifyHttpError(status, code, message, { code, message }, false);
}

/** Werkzeug default descriptions. */
const WERKZEUG: Record<number, [string, string]> = {
  400: ['bad_request', 'The browser (or proxy) sent a request that this server could not understand.'],
  401: [
    'unauthorized',
    "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
  ],
  403: [
    'forbidden',
    "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
  ],
  404: [
    'not_found',
    'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  ],
  413: ['request_entity_too_large', 'The data value transmitted exceeds the capacity limit.'],
};

/** `abort(status)` / `raise Forbidden(description)` etc. */
export function httpError(status: 400 | 401 | 403 | 404 | 413, description?: string): DifyHttpError {
  const [code, message] = WERKZEUG[status] ?? ['unknown', 'Unknown error.'];
  return new DifyHttpError(status, code, description ?? message);
}

/** `raise Unauthorized(description)` (request loader, CSRF check). */
export function unauthorized(description: string): DifyHttpError {
  return new DifyHttpError(401, 'unauthorized', description);
}

/** Flask-Login `unauthorized_handler` for anonymous users on `login_required` views. */
export function loginRequired(): DifyHttpError {
  return new DifyHttpError(
    401,
    'unauthorized',
    'Unauthorized.',
    { code: 'unauthorized', message: 'Unauthorized.' },
    false,
  );
}

/** `ValueError(msg)` surfaced by external_api. */
export function invalidParam(message: string): DifyHttpError {
  return new DifyHttpError(400, 'invalid_param', message);
}

/**
 * A pydantic `ValidationError` surfaced by external_api as 400 `invalid_param`; the message imitates
 * pydantic's summary (`N validation error(s) for <Model>` + one block per field).
 */
export function validationError(
  model: string,
  errors: { field: string; message: string; type: string; input?: unknown }[],
): DifyHttpError {
  const head = `${errors.length} validation error${errors.length === 1 ? '' : 's'} for ${model}`;
  const lines = errors.map((e) => {
    const input =
      e.input === undefined
        ? ''
        : `, input_value=${typeof e.input === 'string' ? `'${e.input}'` : JSON.stringify(e.input)}`;
    return `${e.field}\n  ${e.message} [type=${e.type}${input}]`;
  });
  return invalidParam([head, ...lines].join('\n'));
}

/**
 * 404 raised inside a flask-restx view (`abort(404)`): the JSON not-found body plus Flask's
 * "did you mean" hint naming the route the path matched.
 */
export function notFoundInView(path: string, route: string): DifyHttpError {
  const base = WERKZEUG[404]?.[1] ?? '';
  return new DifyHttpError(
    404,
    'not_found',
    `${base} You have requested this URI [${path}] but did you mean ${route} ?`,
  );
}

/** Werkzeug's HTML page for a path no route matches (text/html). */
export const WERKZEUG_NOT_FOUND_HTML =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

/**
 * fastopenapi routes (setup, init; ≥1.12.0) turn a 403 into this body instead of `{code,message,status}`.
 */
export function fastopenapiForbidden(): DifyHttpError {
  return new DifyHttpError(
    403,
    'authorization_error',
    'Forbidden',
    { error: { type: 'authorization_error', message: 'Forbidden', status: 403 } },
    false,
  );
}

/** Named `BaseHTTPException`s used by the endpoints the stand-in serves. */
export const DifyErrors = {
  // api/controllers/console/error.py
  alreadySetup: () =>
    new DifyHttpError(
      403,
      'already_setup',
      'Dify has been successfully installed. Please refresh the page or return to the dashboard homepage.',
    ),
  notSetup: () =>
    new DifyHttpError(
      401,
      'not_setup',
      'Dify has not been initialized and installed yet. Please proceed with the initialization and installation process first.',
    ),
  invalidMemberRole: () => new DifyHttpError(400, 'invalid_role', 'Invalid role.'),
  alreadyActivate: () =>
    new DifyHttpError(
      403,
      'already_activate',
      'Auth Token is invalid or account already activated, please check again.',
    ),
  accountNotFound: () => new DifyHttpError(400, 'account_not_found', 'Account not found.'),
  accountBanned: () => new DifyHttpError(400, 'account_banned', 'Account is banned.'),
  notAllowedCreateWorkspace: () =>
    new DifyHttpError(
      400,
      'not_allowed_create_workspace',
      'Workspace not found, please contact system admin to invite you to join in a workspace.',
    ),
  // api/controllers/console/auth/error.py
  authenticationFailed: () => new DifyHttpError(401, 'authentication_failed', 'Invalid email or password.'),
  loginLimit: () =>
    new DifyHttpError(429, 'email_code_login_limit', 'Too many incorrect password attempts. Please try again later.'),
  invalidEmail: () => new DifyHttpError(400, 'invalid_email', 'The email address is not valid.'),
  invalidToken: () => new DifyHttpError(400, 'invalid_or_expired_token', 'The token is invalid or has expired.'),
  emailCode: () => new DifyHttpError(400, 'email_code_error', 'Email code is invalid or expired.'),
  passwordMismatch: () => new DifyHttpError(400, 'password_mismatch', 'The passwords do not match.'),
  emailAlreadyInUse: () => new DifyHttpError(400, 'email_already_in_use', 'A user with this email already exists.'),
  // api/controllers/console/workspace/error.py
  accountNotInitialized: () =>
    new DifyHttpError(
      400,
      'account_not_initialized',
      'The account has not been initialized yet. Please proceed with the initialization process first.',
    ),
} as const;
