/** What a transform knows about the file it edits. */
export type EditContext = {
  /** Dify version read from web/package.json. */
  version: string;
  /** Path relative to the checkout root, e.g. `web/app/signin/normal-form.tsx`. */
  file: string;
  /** The transform's slug (for error messages). */
  slug: string;
};

/** One file a transform edits. `edit` is pure: text in, text out, idempotent. */
export type FileEdit = {
  /** Short name used in fixture case names (`<version>-<key>`). */
  key: string;
  /** Path relative to the checkout root. */
  path: string;
  edit: (text: string, ctx: EditContext) => string;
};

/** A codemod: edits existing files and/or adds files. Slugs are public API. */
export type Transform = {
  slug: string;
  description: string;
  edits: readonly FileEdit[];
  /** Files to add (path relative to the checkout root → content). */
  adds?: () => ReadonlyMap<string, Uint8Array>;
  /**
   * Where each added file comes from: checkout path → `<npm package>/<path in the package>`
   * (recorded in the generated `patches/<line>/manifest.json`). Files the transform writes from
   * its own code have no entry.
   */
  sources?: () => ReadonlyMap<string, string>;
  /** Files that must exist for the transform to make sense (ERR_CODEMOD_TARGET_NOT_FOUND otherwise). */
  requires?: readonly string[];
};
