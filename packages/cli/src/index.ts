/**
 * Public API of `@dify-sso-kit/cli`: the `dify-sso` command line as a function, and its
 * command table.
 *
 * @module
 */
export { main, usage } from './main.js';
export { COMMANDS, EXIT, type Command, type CommandEnv, type CommandIo, type CommandMain } from './commands.js';
export { doctorMain, runChecks } from './doctor/index.js';
export type { CheckResult } from './doctor/checks.js';
