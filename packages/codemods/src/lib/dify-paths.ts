/** Files of a Dify checkout the transforms touch (relative to the checkout root). */
export const NORMAL_FORM = 'web/app/signin/normal-form.tsx';
export const ACCOUNT_DROPDOWN = 'web/app/components/header/account-dropdown/index.tsx';
export const ACCOUNT_AVATAR = 'web/app/account/(commonLayout)/avatar.tsx';
export const ROOT_LAYOUT = 'web/app/layout.tsx';
export const WEB_PACKAGE_JSON = 'web/package.json';

/** Where the console plugin is added, and how Dify code imports it. */
export const PLUGIN_DIR = 'web/app/components/dify-sso';
export const PLUGIN_IMPORT = '@/app/components/dify-sso';

/** Where the vendored OFL fonts are added (next/font/local paths are relative to layout.tsx). */
export const FONT_DIR = 'web/app/fonts/dify-sso';

/** Kit state inside the checkout: manifest and backups for --revert. */
export const STATE_DIR = 'web/.dify-sso';
