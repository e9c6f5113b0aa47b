/**
 * Types shared by the configuration loader and semantic checks.
 *
 * @module
 */
import type { ConfigProblemCode } from '../errors.js';

/** Adds one problem for `path` (the env name is derived from the path). */
export type ReportProblem = (code: ConfigProblemCode, path: string, message: string) => void;

/**
 * A semantic check run after type coercion; reports problems instead of throwing.
 *
 * @example
 * ```ts
 * const check: ConfigCheck = (cfg, report) => { if (!cfg.x) report('ERR_CONFIG_REQUIRED', 'x', 'is required') }
 * ```
 */
export type ConfigCheck = (config: Record<string, unknown>, report: ReportProblem) => void;
