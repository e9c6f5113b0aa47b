import { createHash } from 'node:crypto';

/** `sha256:<hex>` of the bytes. */
export function fingerprint(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
