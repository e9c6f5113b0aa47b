/**
 * Key derivation (HKDF-SHA256 from the session secrets), sealed cookies (JWE `dir`/`A256GCM`)
 * and encryption of IdP tokens at rest.
 *
 * @module
 */
import { hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { CompactEncrypt, EncryptJWT, compactDecrypt, jwtDecrypt, type JWTPayload } from 'jose';

/** A derived key with a short identifier (used as JWE `kid` so rotation picks the right key). */
export interface DerivedKey {
  /** Key id: first 12 characters of the base64url SHA-256 of the key. */
  kid: string;
  /** 32 bytes of key material. */
  key: Uint8Array;
}

/** Purposes keys are derived for (HKDF `info`). */
export type KeyPurpose = 'transaction-cookie' | 'token-at-rest';

/**
 * Derives one key per secret for a purpose; the first secret is the current one.
 *
 * @example
 * ```ts
 * const keys = deriveKeys([secret, ...previousSecrets], 'transaction-cookie')
 * ```
 */
export function deriveKeys(secrets: readonly string[], purpose: KeyPurpose): DerivedKey[] {
  return secrets.map((secret) => {
    const key = new Uint8Array(
      hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('dify-sso-kit'), `dify-sso ${purpose} v1`, 32),
    );
    return { kid: sha256(Buffer.from(key)).slice(0, 12), key };
  });
}

/**
 * Base64url SHA-256 of a value.
 *
 * @example
 * ```ts
 * sha256('abc') // 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0'
 * ```
 */
export function sha256(value: string | Buffer): string {
  // One-shot `crypto.hash`: no Hash object per call (one per gate decision, for the store key).
  return hash('sha256', value, 'base64url');
}

/**
 * CSPRNG value of `bytes` bytes, base64url (default 32 bytes = 256 bits).
 *
 * @example
 * ```ts
 * const sessionId = randomToken()
 * ```
 */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Constant-time string comparison.
 *
 * @example
 * ```ts
 * safeEqual(a, b)
 * ```
 */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function pickKey(keys: readonly DerivedKey[], kid: unknown): Uint8Array {
  const found = keys.find((k) => k.kid === kid);
  if (!found) throw new Error('unknown key id');
  return found.key;
}

/**
 * Seals a payload into a JWE (dir, A256GCM) that expires after `ttlSeconds`.
 *
 * @example
 * ```ts
 * const sealed = await seal({ state }, keys, 600, new Date())
 * ```
 */
export async function seal(
  payload: JWTPayload,
  keys: readonly DerivedKey[],
  ttlSeconds: number,
  now: Date,
): Promise<string> {
  const current = keys[0];
  if (!current) throw new Error('no key');
  const iat = Math.floor(now.getTime() / 1000);
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .encrypt(current.key);
}

/**
 * Opens a value made by {@link seal}; throws when tampered with, expired or sealed with an unknown key.
 *
 * @example
 * ```ts
 * const payload = await unseal(cookie, keys, new Date())
 * ```
 */
export async function unseal(value: string, keys: readonly DerivedKey[], now: Date): Promise<JWTPayload> {
  const { payload } = await jwtDecrypt(value, (header) => pickKey(keys, header.kid), {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
    currentDate: now,
    clockTolerance: 0,
  });
  return payload;
}

/**
 * Encrypts a string at rest (JWE compact, dir, A256GCM).
 *
 * @example
 * ```ts
 * record.tokens = await encryptAtRest(JSON.stringify(tokens), keys)
 * ```
 */
export async function encryptAtRest(plaintext: string, keys: readonly DerivedKey[]): Promise<string> {
  const current = keys[0];
  if (!current) throw new Error('no key');
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
    .encrypt(current.key);
}

/**
 * Decrypts a value made by {@link encryptAtRest}, with any key of the rotation list.
 *
 * @example
 * ```ts
 * const tokens = JSON.parse(await decryptAtRest(record.tokens, keys))
 * ```
 */
export async function decryptAtRest(ciphertext: string, keys: readonly DerivedKey[]): Promise<string> {
  const { plaintext } = await compactDecrypt(ciphertext, (header) => pickKey(keys, header.kid), {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
  });
  return new TextDecoder().decode(plaintext);
}
