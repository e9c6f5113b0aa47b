/**
 * Long-lived and large traffic the kit's gate must pass through untouched.
 *
 * - SSE: follows api/controllers/console/app/completion.py `ChatMessageApi` + api/libs/helper.py
 *   `compact_generate_response` (1.12.1–main): `text/event-stream`, one `data: {json}\n\n` per event,
 *   `message` events then `message_end`. The stand-in streams N synthetic chunks, one every
 *   `interval_ms`, or — for deterministic tests — one per release of a named gate.
 * - Upload: follows api/controllers/console/files.py `FileApi.get/post` (1.11.0–1.16.1, record
 *   fields per version): multipart field `file`, 201 with the upload record; `no_file_uploaded` /
 *   `too_many_files` / 413 `file_too_large`. The stand-in streams the body, counts bytes and hashes
 *   them (adds `sha256`, a stand-in field); its size limit defaults to 101 MB (Dify: 15 MB).
 * - Signed file URLs: follows api/core/file/helpers.py `get_signed_file_url` / `verify_file_signature`
 *   and api/controllers/files/image_preview.py (1.12.1–main): `timestamp`, `nonce`, `sign` =
 *   urlsafe-base64 HMAC-SHA256(SECRET_KEY, "file-preview|<id>|<timestamp>|<nonce>"), valid for
 *   `FILES_ACCESS_TIMEOUT` seconds; otherwise 404 "File not found or signature is invalid" (observed on
 *   1.11.0–1.16.1).
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { consoleUser } from '../lib/auth.js';
import { DifyHttpError, httpError } from '../lib/errors.js';
import { jsonBody } from './auth.js';

interface UploadRecord {
  id: string;
  name: string;
  size: number;
  mimeType: string;
  sha256: string;
  head: Buffer;
  createdBy: string;
  createdAt: Date;
}

const KEEP_BYTES = 64 * 1024;

function intParam(v: unknown, def: number, min: number, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) return def;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

/** Wait until gate `name` has been released at least `count` times. */
function waitForGate(ctx: StandinContext, name: string, count: number, signal: AbortSignal): Promise<void> {
  let gate = ctx.gates.get(name);
  if (!gate) {
    gate = { released: 0, waiters: new Set() };
    ctx.gates.set(name, gate);
  }
  const g = gate;
  if (g.released >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (g.released >= count) {
        g.waiters.delete(check);
        resolve();
      }
    };
    g.waiters.add(check);
    signal.addEventListener('abort', () => {
      g.waiters.delete(check);
      reject(new Error('aborted'));
    });
  });
}

export function signFileUrl(ctx: StandinContext, base: string, fileId: string): string {
  const timestamp = String(Math.floor(ctx.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const sign = createHmac('sha256', ctx.options.secretKey)
    .update(`file-preview|${fileId}|${timestamp}|${nonce}`)
    .digest('base64url');
  const padded = sign + '='.repeat((4 - (sign.length % 4)) % 4);
  return `${base}/files/${fileId}/file-preview?timestamp=${timestamp}&nonce=${nonce}&sign=${encodeURIComponent(padded)}`;
}

function verifyFileSignature(ctx: StandinContext, fileId: string, q: Record<string, string | undefined>): boolean {
  const { timestamp, nonce, sign } = q;
  if (!timestamp || !nonce || !sign) return false;
  const expected = createHmac('sha256', ctx.options.secretKey)
    .update(`file-preview|${fileId}|${timestamp}|${nonce}`)
    .digest();
  let given: Buffer;
  try {
    given = Buffer.from(sign.replace(/=+$/, ''), 'base64url');
  } catch {
    return false;
  }
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  return Math.floor(ctx.now() / 1000) - Number(timestamp) <= ctx.options.filesAccessTimeoutSeconds;
}

export function streamingRoutes(app: FastifyInstance, ctx: StandinContext): void {
  const uploads = new Map<string, UploadRecord>();

  app.post<{ Params: { appId: string }; Querystring: Record<string, string | undefined> }>(
    '/console/api/apps/:appId/chat-messages',
    async (request, reply) => {
      await consoleUser(ctx, request);
      const body = jsonBody(request);
      const pick = (k: string): unknown => request.query[k] ?? body[k];
      const chunks = intParam(pick('chunks'), 5, 1, 10_000);
      const intervalMs = intParam(pick('interval_ms'), 100, 0, 60_000);
      const gate = typeof pick('gate') === 'string' && pick('gate') !== '' ? String(pick('gate')) : null;
      const taskId = randomUUID();
      const messageId = randomUUID();
      const conversationId =
        typeof body['conversation_id'] === 'string' && body['conversation_id'] ? body['conversation_id'] : randomUUID();

      reply.hijack();
      const raw = reply.raw;
      const headers: Record<string, string | number | string[]> = {};
      for (const [k, v] of Object.entries(reply.getHeaders()))
        if (v !== undefined) headers[k] = v as string | number | string[];
      raw.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
      raw.flushHeaders();
      const abort = new AbortController();
      raw.on('close', () => abort.abort());
      const createdAt = Math.floor(ctx.now() / 1000);
      try {
        for (let i = 1; i <= chunks; i += 1) {
          if (i > 1) {
            if (gate) await waitForGate(ctx, gate, i - 1, abort.signal);
            else if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
          }
          if (abort.signal.aborted) return;
          const event = {
            event: 'message',
            task_id: taskId,
            id: messageId,
            message_id: messageId,
            conversation_id: conversationId,
            answer: `chunk ${i} of ${chunks}`,
            seq: i,
            created_at: createdAt,
          };
          raw.write(`data: ${JSON.stringify(event)}\n\n`);
        }
        raw.write(
          `data: ${JSON.stringify({ event: 'message_end', task_id: taskId, id: messageId, message_id: messageId, conversation_id: conversationId, metadata: {} })}\n\n`,
        );
      } catch {
        // client went away
      } finally {
        raw.end();
      }
    },
  );

  // upload limits as `GET /files/upload` reports them; `file_size_limit` is the stand-in's own
  // limit (Dify's default UPLOAD_FILE_SIZE_LIMIT is 15 MB; the stand-in defaults to 101 MB so that
  // large uploads through the gate can be tested)
  app.get('/console/api/files/upload', async (request) => {
    await consoleUser(ctx, request);
    const v112 = ctx.features.uploadFieldsV112;
    return {
      file_size_limit: Math.floor(ctx.options.uploadLimitBytes / 1024 / 1024),
      batch_count_limit: 5,
      ...(v112 ? { file_upload_limit: 20 } : {}),
      image_file_size_limit: 10,
      video_file_size_limit: 100,
      audio_file_size_limit: 50,
      workflow_file_upload_limit: 10,
      image_file_batch_limit: 10,
      single_chunk_attachment_limit: 10,
      ...(v112 ? { attachment_image_file_size_limit: 2 } : {}),
    };
  });

  app.post('/console/api/files/upload', async (request, reply) => {
    const user = await consoleUser(ctx, request);
    if (!request.isMultipart()) throw new DifyHttpError(400, 'no_file_uploaded', 'Please upload your file.');
    // Flask's request.files: "file" must be present; more than one distinct file field is refused;
    // several parts named "file" are fine (the first one is taken)
    let record: UploadRecord | undefined;
    const fileFields = new Set<string>();
    for await (const part of request.parts({ limits: { fileSize: ctx.options.uploadLimitBytes } })) {
      if (part.type !== 'file') continue;
      fileFields.add(part.fieldname);
      if (part.fieldname !== 'file' || record) {
        part.file.resume();
        continue;
      }
      const hash = createHash('sha256');
      let size = 0;
      const head: Buffer[] = [];
      let kept = 0;
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        size += chunk.length;
        hash.update(chunk);
        if (kept < KEEP_BYTES) {
          const slice = chunk.subarray(0, KEEP_BYTES - kept);
          head.push(slice);
          kept += slice.length;
        }
      }
      if (part.file.truncated) throw new DifyHttpError(413, 'file_too_large', '');
      record = {
        id: randomUUID(),
        name: part.filename,
        size,
        mimeType: part.mimetype,
        sha256: hash.digest('hex'),
        head: Buffer.concat(head),
        createdBy: user.account.id,
        createdAt: new Date(ctx.now()),
      };
    }
    if (!record) throw new DifyHttpError(400, 'no_file_uploaded', 'Please upload your file.');
    if (fileFields.size > 1) throw new DifyHttpError(400, 'too_many_files', 'Only one file is allowed.');
    uploads.set(record.id, record);
    const ext = record.name.includes('.') ? (record.name.split('.').pop() ?? '') : '';
    const f = ctx.features;
    return reply.code(201).send({
      id: record.id,
      ...(f.uploadFieldsV115 ? { reference: null } : {}),
      name: record.name,
      size: record.size,
      extension: ext,
      mime_type: record.mimeType,
      created_by: record.createdBy,
      created_at: Math.floor(record.createdAt.getTime() / 1000),
      preview_url: null,
      source_url: signFileUrl(ctx, ctx.options.consoleApiUrl, record.id),
      ...(f.uploadFieldsV112
        ? {
            original_url: null,
            user_id: null,
            tenant_id: user.membership.workspaceId,
            conversation_id: null,
            file_key: null,
          }
        : {}),
      // stand-in convenience field:
      sha256: record.sha256,
    });
  });

  // a bad or expired signature and an unknown file answer the same 404
  app.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/files/:id/file-preview',
    async (request, reply) => {
      const rec = verifyFileSignature(ctx, request.params.id, request.query)
        ? uploads.get(request.params.id)
        : undefined;
      if (!rec) throw httpError(404, 'File not found or signature is invalid');
      const type = ctx.features.uploadFieldsV115
        ? 'application/octet-stream'
        : rec.mimeType || 'application/octet-stream';
      return reply.header('content-type', type).send(rec.head);
    },
  );
}
