/**
 * A tiny HTTP client for contract checks (global fetch; no cookies jar — every header explicit).
 */
import type { ContractTarget } from './target.js';

export interface CallOptions {
  cookie?: string;
  csrf?: string;
  bearer?: string;
  workspaceId?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  setCookies: string[];
  text: string;
  body: Record<string, unknown>;
}

export async function call(
  target: ContractTarget,
  method: string,
  path: string,
  o: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.cookie) headers['cookie'] = o.cookie;
  if (o.csrf !== undefined) headers['x-csrf-token'] = o.csrf;
  if (o.bearer) headers['authorization'] = `Bearer ${o.bearer}`;
  if (o.workspaceId) headers['x-workspace-id'] = o.workspaceId;
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${target.baseUrl}${path}`, {
    method,
    headers,
    redirect: 'manual',
    ...(o.json !== undefined ? { body: JSON.stringify(o.json) } : {}),
  });
  const text = await r.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: r.status, headers: r.headers, setCookies: r.headers.getSetCookie(), text, body };
}

/** Admin-key call on the target's workspace. */
export function admin(target: ContractTarget, method: string, path: string, json?: unknown): Promise<CallResult> {
  return call(target, method, path, {
    bearer: target.adminApiKey,
    workspaceId: target.workspaceId,
    ...(json === undefined ? {} : { json }),
  });
}

export interface ParsedCookie {
  name: string;
  value: string;
  attrs: Map<string, string | true>;
}

export function parseSetCookie(header: string): ParsedCookie {
  const [first = '', ...rest] = header.split(';');
  const eq = first.indexOf('=');
  const attrs = new Map<string, string | true>();
  for (const part of rest) {
    const p = part.trim();
    if (!p) continue;
    const i = p.indexOf('=');
    if (i < 0) attrs.set(p.toLowerCase(), true);
    else attrs.set(p.slice(0, i).toLowerCase(), p.slice(i + 1));
  }
  return {
    name: first.slice(0, eq).trim(),
    value: first
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1'),
    attrs,
  };
}

/** Decode a JWT payload without verifying it. */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
