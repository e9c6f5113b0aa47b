/** Stable error codes of the codemods and the `dify-sso patch` CLI (public API: never renamed). */
export type CodemodErrorCode =
  | 'ERR_PATCH_UNSUPPORTED_VERSION'
  | 'ERR_PATCH_NOT_A_CHECKOUT'
  | 'ERR_PATCH_DIRTY_TREE'
  | 'ERR_PATCH_NOT_APPLIED'
  | 'ERR_PATCH_DRIFTED'
  | 'ERR_PATCH_NOTHING_TO_REVERT'
  | 'ERR_PATCH_WRITE_FAILED'
  | 'ERR_PATCH_NO_DOCKERFILE'
  | 'ERR_PATCH_ENGINE_NOT_FOUND'
  | 'ERR_PATCH_BUILD_FAILED'
  | 'ERR_CODEMOD_TARGET_NOT_FOUND'
  | 'ERR_CODEMOD_UNEXPECTED_SHAPE'
  | 'ERR_CODEMOD_SYNTAX_ERROR';

/** Where an error happened: the Dify version and the file (relative to the checkout). */
export type CodemodErrorDetails = {
  version?: string;
  file?: string;
  slug?: string;
};

/** Base error of this package; `code` is stable, `message` is for humans. */
export class SsoError extends Error {
  readonly code: CodemodErrorCode;
  readonly details: CodemodErrorDetails;

  constructor(
    code: CodemodErrorCode,
    message: string,
    details: CodemodErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A transform could not find the code it has to change, or found it in an unknown form. */
export class CodemodError extends SsoError {}

/** The checkout as a whole cannot be patched, reverted or checked. */
export class PatchError extends SsoError {}

/** Builds the standard "target not found" error, naming the file and the Dify version. */
export function targetNotFound(what: string, ctx: { version: string; file: string; slug: string }): CodemodError {
  return new CodemodError(
    'ERR_CODEMOD_TARGET_NOT_FOUND',
    `${ctx.slug}: ${what} not found in ${ctx.file} (Dify ${ctx.version})`,
    ctx,
  );
}

/** Builds the standard "unexpected shape" error, naming the file and the Dify version. */
export function unexpectedShape(what: string, ctx: { version: string; file: string; slug: string }): CodemodError {
  return new CodemodError(
    'ERR_CODEMOD_UNEXPECTED_SHAPE',
    `${ctx.slug}: unexpected shape in ${ctx.file} (Dify ${ctx.version}): ${what}`,
    ctx,
  );
}
