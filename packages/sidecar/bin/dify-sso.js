#!/usr/bin/env node
// `dify-sso` (break-glass, deploy): runs the compiled CLI (`npm run build` writes dist/).
const { runCli } = await import('../dist/dify/cli.js');
process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
