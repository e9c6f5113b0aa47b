export { main } from './cli.js';
export type { CliIo } from './cli.js';
export { CodemodError, PatchError, SsoError } from './errors.js';
export type { CodemodErrorCode, CodemodErrorDetails } from './errors.js';
export type { EditContext, FileEdit, Transform } from './lib/types.js';
export {
  applyPlan,
  applyRevert,
  checkPatch,
  KIT_VERSION,
  planPatch,
  planRevert,
  readDifyVersion,
  readManifest,
  renderDiff,
  resolveCheckout,
} from './patch.js';
export type { ApplyResult, CheckResult, FileChange, Manifest, ManifestFile, PatchPlan } from './patch.js';
export { lineFor, SUPPORTED_VERSIONS, TRANSFORMS, transformsFor, VERSION_LINES } from './registry.js';
export type { Slug, VersionLine } from './registry.js';
