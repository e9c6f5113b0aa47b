#!/usr/bin/env node
// `dify-sso-patch <dify-checkout> [--dry] [--check] [--revert] [--emit-diff FILE] [--force]`
// Deprecated alias of `dify-sso patch` (package @dify-sso-kit/cli); kept because bins are public
// API. Runs the compiled CLI (`npm run build` writes dist/; no TypeScript at run time).
process.stderr.write('dify-sso-patch: deprecated: use `dify-sso patch` (package @dify-sso-kit/cli); same arguments\n');
// Output piped into a reader that quits early (`| head`) is not an error of the patch.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
