#!/usr/bin/env node
// `dify-sso-patch <dify-checkout> [--dry] [--check] [--revert] [--emit-diff FILE] [--force]`
// Runs the compiled CLI (`npm run build` writes dist/; no TypeScript at run time).
// Output piped into a reader that quits early (`| head`) is not an error of the patch.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw e
})
const { main } = await import('../dist/cli.js')
process.exitCode = await main(process.argv.slice(2))
