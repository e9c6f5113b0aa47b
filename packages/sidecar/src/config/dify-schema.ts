/**
 * Configuration fragment of the Dify bridge, merged into the sidecar's one schema by `schema.ts`.
 *
 * Export `difySchema` as a TypeBox *properties object* (what you would pass to `Type.Object`),
 * e.g. `{ dify: Type.Object({ apiUrl: Type.String({ description: '…' }) }) }` → env
 * `DIFY_SSO_DIFY_API_URL`. Mark secrets with `secret: true` (then `…_FILE` is accepted) and
 * comma-separated lists with `Type.Array(Type.String())`. `difyConfigChecks` may add semantic
 * checks that run after type coercion (they report problems through `report`).
 *
 * @module
 */
import type { TProperties } from '@sinclair/typebox';
import type { ConfigCheck } from './checks.js';

/** Properties merged into the sidecar's configuration schema (empty until the bridge fills it). */
export const difySchema = {} satisfies TProperties;

/** Semantic checks for the bridge's part of the configuration. */
export const difyConfigChecks: readonly ConfigCheck[] = [];
