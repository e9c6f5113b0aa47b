/**
 * Every reason code the sidecar can send to the browser (`?message=` on the sign-in page, or the
 * `code` of a JSON refusal the console shows) is in the closed `ReasonCode` union of the
 * vocabulary package, and every code of the union is one the sidecar really emits (the console
 * plugin must not carry messages for codes nobody sends). The type-check enforces the first half
 * where a literal is passed; this test reads the sources, so a code built some other way, or a
 * code left in the union after its last emitter went away, is caught too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REASON_CODES, isReasonCode } from '@dify-sso-kit/vocabulary';
import { SsoError, TokenError, signInReason } from '../src/errors.js';

const SRC = join(import.meta.dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Where a reason code leaves the sidecar, as source patterns (each captures the code). */
const EMITTERS: ReadonlyArray<{ what: string; re: RegExp; line?: RegExp }> = [
  {
    what: 'reason of an SsoError that is not a TokenError',
    re: /reason: '([a-z_]+)'/g,
    line: /new (?:SsoError|OidcError|SessionStoreError|DifyError)\(|super\(/,
  },
  { what: 'exchange error mapping', re: /mk\('ERR_[A-Z_]+', '([a-z_]+)'\)/g },
  { what: 'denied login (Dify account rules)', re: /denyLogin\('([a-z_]+)'/g },
  { what: 'sign-in redirect', re: /signinUrl\('([a-z_]+)'\)/g },
  { what: 'access policy refusal', re: /ok: false, reason: '([a-z_]+)', detail/g },
  { what: 'DifyError reasons', re: /\? '([a-z_]+)' : '([a-z_]+)'/g, line: /reason: code ===/ },
  { what: 'default reason', re: /\?\? '([a-z_]+)'/g, line: /this\.reason = / },
  { what: 'gate lockdown refusal', re: /deny\(403, '(sso_required)'/g },
  { what: 'break-glass refusal', re: /code: '(break_glass_denied)'/g },
];

function emitted(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    // An emitting call the formatter spread over several lines is read as one line again.
    const lines = readFileSync(file, 'utf8')
      .replace(/(?:new (?:SsoError|OidcError|SessionStoreError|DifyError)|denyLogin|signinUrl)\([^;]*?\)/gs, (call) =>
        call.replace(/\(\s*\n\s*/g, '(').replace(/\s*\n\s*/g, ' '),
      )
      .split('\n');
    lines.forEach((text, i) => {
      if (/^\s*(?:\*|\/\/)/.test(text)) return;
      for (const e of EMITTERS) {
        if (e.line && !e.line.test(text)) continue;
        if (/new TokenError\(/.test(text)) continue;
        for (const m of text.matchAll(e.re)) {
          for (const code of m.slice(1)) {
            if (code === undefined) continue;
            const at = `${relative(SRC, file)}:${i + 1} (${e.what})`;
            found.set(code, [...(found.get(code) ?? []), at]);
          }
        }
      }
    });
  }
  return found;
}

test('every reason code the sidecar emits is in the ReasonCode union', () => {
  const found = emitted();
  assert.ok(found.size >= 10, `the source patterns still find the emitters (found ${found.size})`);
  for (const [code, where] of found)
    assert.ok(isReasonCode(code), `${code} (${where.join(', ')}) is not in REASON_CODES`);
});

test('every code of the ReasonCode union is emitted somewhere in the sidecar', () => {
  const found = emitted();
  for (const code of REASON_CODES)
    assert.ok(found.has(code), `${code} is in REASON_CODES but the sidecar never emits it`);
});

test('a token rejection reason never reaches the sign-in page', () => {
  assert.equal(signInReason(new TokenError('ERR_TOKEN_INVALID', 'x', { reason: 'claim_aud' })), 'internal_error');
  assert.equal(signInReason(new SsoError('ERR_OIDC_ACCESS_DENIED', 'x', { reason: 'no_role' })), 'no_role');
  assert.equal(signInReason(new Error('plain')), 'internal_error');
});
