/**
 * Reading Dify's console access token (a JWT signed with Dify's SECRET_KEY, which the sidecar
 * never holds; docs/dify-contract.md §3.1).
 *
 * @module
 */

/**
 * The `user_id` claim of a Dify console access token, read **without** verifying the
 * signature (dify-api verifies it with SECRET_KEY, which the sidecar never holds; the gate only
 * compares the claim with the account of a live kit session). Tokens carrying `token_source`
 * (web-app tokens) are not console tokens and yield undefined (docs/dify-contract.md §3.1).
 */
export function accessTokenUserId(token: string | undefined): string | undefined {
  if (!token) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null) return undefined;
    const p = payload as Record<string, unknown>;
    if ('token_source' in p) return undefined;
    return typeof p['user_id'] === 'string' && p['user_id'] !== '' ? p['user_id'] : undefined;
  } catch {
    return undefined;
  }
}
