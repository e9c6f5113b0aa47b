/**
 * SSE chunks reach a client one by one, and large uploads stream through (real listen: these are
 * transport behaviours).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { SEED_IDS } from '../src/seed-ids.js';
import { INTROSPECTION, SECRET, listen, standin } from './helpers.js';

const APP = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';

async function aliceHeaders(): Promise<Record<string, string>> {
  const key = new TextEncoder().encode(SECRET);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const access = await new SignJWT({ user_id: SEED_IDS.aliceId, exp, iss: 'SELF_HOSTED', sub: 'Console API Passport' })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
  const csrf = await new SignJWT({ exp, sub: SEED_IDS.aliceId }).setProtectedHeader({ alg: 'HS256' }).sign(key);
  return { cookie: `access_token=${access}; csrf_token=${csrf}`, 'x-csrf-token': csrf };
}

/** Reads SSE events from a fetch body, one at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  return {
    get ended() {
      return ended;
    },
    async next(): Promise<Record<string, unknown> | null> {
      for (;;) {
        const i = buffer.indexOf('\n\n');
        if (i >= 0) {
          const frame = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (frame.startsWith('data: ')) return JSON.parse(frame.slice(6)) as Record<string, unknown>;
          continue;
        }
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          return null;
        }
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('SSE chat endpoint', () => {
  it('each chunk reaches the client before the next one is even produced (gate)', { timeout: 20_000 }, async (t) => {
    const s = standin();
    t.after(() => s.close());
    const base = await listen(s.app);
    const r = await fetch(`${base}/console/api/apps/${APP}/chat-messages?chunks=3&gate=g1`, {
      method: 'POST',
      headers: { ...(await aliceHeaders()), 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'hi', inputs: {}, response_mode: 'streaming' }),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(r.headers.get('x-version'), '1.16.1');
    const sse = sseReader(r.body!);
    const release = () =>
      fetch(`${base}/__standin/gates/g1/release`, { method: 'POST', headers: { 'x-standin-secret': INTROSPECTION } });
    const first = await sse.next();
    assert.equal(first?.['answer'], 'chunk 1 of 3');
    assert.equal(sse.ended, false);
    await release();
    assert.equal((await sse.next())?.['answer'], 'chunk 2 of 3');
    await release();
    assert.equal((await sse.next())?.['answer'], 'chunk 3 of 3');
    assert.equal((await sse.next())?.['event'], 'message_end');
    assert.equal(await sse.next(), null);
    assert.equal(sse.ended, true);
  });

  it('with an interval, the first chunk arrives before the stream ends and all arrive in order', {
    timeout: 20_000,
  }, async (t) => {
    const s = standin();
    t.after(() => s.close());
    const base = await listen(s.app);
    const r = await fetch(`${base}/console/api/apps/${APP}/chat-messages`, {
      method: 'POST',
      headers: { ...(await aliceHeaders()), 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'hi', chunks: 4, interval_ms: 150 }),
    });
    const sse = sseReader(r.body!);
    const first = await sse.next();
    assert.equal(first?.['seq'], 1);
    assert.equal(sse.ended, false, 'stream still open after the first chunk');
    const seqs = [1];
    for (;;) {
      const ev = await sse.next();
      if (!ev || ev['event'] === 'message_end') break;
      seqs.push(ev['seq'] as number);
    }
    assert.deepEqual(seqs, [1, 2, 3, 4]);
  });

  it('is login_required (no cookie → 401)', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const r = await s.app.inject({ method: 'POST', url: `/console/api/apps/${APP}/chat-messages` });
    assert.equal(r.statusCode, 401);
  });
});

describe('file upload', () => {
  it('streams a 100 MB multipart upload and reports its size and digest; signed preview URL works', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const base = await listen(s.app);
    const size = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const hash = createHash('sha256');
    for (let i = 0; i < size / chunk.length; i += 1) hash.update(chunk);
    const boundary = 'standinboundary42';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head);
      },
      pull(controller) {
        if (sent >= size) {
          controller.enqueue(tail);
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const r = await fetch(`${base}/console/api/files/upload`, {
      method: 'POST',
      headers: { ...(await aliceHeaders()), 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(r.status, 201, await r.clone().text());
    const rec = (await r.json()) as Record<string, unknown>;
    assert.equal(rec['size'], size);
    assert.equal(rec['sha256'], hash.digest('hex'));
    assert.equal(rec['name'], 'big.bin');
    assert.equal(rec['extension'], 'bin');

    const signed = new URL(String(rec['source_url']), base);
    const ok = await fetch(`${base}${signed.pathname}${signed.search}`);
    assert.equal(ok.status, 200);
    assert.equal((await ok.arrayBuffer()).byteLength > 0, true);
    signed.searchParams.set('nonce', 'tampered');
    const bad = await fetch(`${base}${signed.pathname}${signed.search}`);
    assert.equal(bad.status, 404);
    assert.deepEqual(await bad.json(), {
      code: 'not_found',
      message: 'File not found or signature is invalid',
      status: 404,
    });
  });

  it('refuses a file over the limit with 413 file_too_large', async (t) => {
    const s = standin({ uploadLimitBytes: 1024 });
    t.after(() => s.close());
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(4096, 1)]), 'x.txt');
    const base = await listen(s.app);
    const r = await fetch(`${base}/console/api/files/upload`, {
      method: 'POST',
      headers: await aliceHeaders(),
      body: form,
    });
    assert.equal(r.status, 413);
    assert.deepEqual(await r.json(), { code: 'file_too_large', message: '', status: 413 });
  });

  it('answers the upload limits; record fields per version; several "file" parts take the first, another file field is refused, no file → 400', async (t) => {
    const a = standin({ version: '1.16.1' });
    const b = standin({ version: '1.11.0' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const baseA = await listen(a.app);
    const baseB = await listen(b.app);
    const cfg = (await (
      await fetch(`${baseA}/console/api/files/upload`, { headers: await aliceHeaders() })
    ).json()) as Record<string, unknown>;
    assert.equal(cfg['file_size_limit'], 101);
    assert.equal(cfg['file_upload_limit'], 20);
    const two = new FormData();
    two.append('file', new Blob(['a']), 'a.txt');
    two.append('file', new Blob(['b']), 'b.txt');
    const r2 = await fetch(`${baseA}/console/api/files/upload`, {
      method: 'POST',
      headers: await aliceHeaders(),
      body: two,
    });
    assert.equal(r2.status, 201);
    const rec = (await r2.json()) as Record<string, unknown>;
    assert.equal(rec['name'], 'a.txt');
    for (const k of ['reference', 'original_url', 'user_id', 'conversation_id', 'file_key'])
      assert.equal(rec[k], null, k);
    assert.equal(rec['tenant_id'], SEED_IDS.workspaceId);
    const preview = await fetch(
      `${baseA}${new URL(String(rec['source_url']), baseA).pathname}${new URL(String(rec['source_url']), baseA).search}`,
    );
    assert.equal(preview.headers.get('content-type'), 'application/octet-stream');
    const other = new FormData();
    other.append('file', new Blob(['a']), 'a.txt');
    other.append('extra', new Blob(['b']), 'b.txt');
    const r3 = await fetch(`${baseA}/console/api/files/upload`, {
      method: 'POST',
      headers: await aliceHeaders(),
      body: other,
    });
    assert.equal(r3.status, 400);
    assert.equal(((await r3.json()) as { code: string }).code, 'too_many_files');
    const none = await fetch(`${baseA}/console/api/files/upload`, {
      method: 'POST',
      headers: { ...(await aliceHeaders()), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    assert.equal(none.status, 400);
    assert.equal(((await none.json()) as { code: string }).code, 'no_file_uploaded');
    const old = new FormData();
    old.append('file', new Blob(['hello']), 'hello.txt');
    const r4 = (await (
      await fetch(`${baseB}/console/api/files/upload`, { method: 'POST', headers: await aliceHeaders(), body: old })
    ).json()) as Record<string, unknown>;
    assert.equal('tenant_id' in r4 || 'reference' in r4, false);
  });

  it('signed preview URLs expire after FILES_ACCESS_TIMEOUT', async (t) => {
    let now = Date.now();
    const s = standin({ now: () => now, filesAccessTimeoutSeconds: 300 });
    t.after(() => s.close());
    const base = await listen(s.app);
    const form = new FormData();
    form.append('file', new Blob(['hello']), 'hello.txt');
    const r = await fetch(`${base}/console/api/files/upload`, {
      method: 'POST',
      headers: await aliceHeaders(),
      body: form,
    });
    const url = new URL(String(((await r.json()) as Record<string, unknown>)['source_url']), base);
    assert.equal((await fetch(`${base}${url.pathname}${url.search}`)).status, 200);
    now += 301_000;
    assert.equal((await fetch(`${base}${url.pathname}${url.search}`)).status, 404);
  });
});
