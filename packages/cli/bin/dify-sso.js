#!/usr/bin/env node
// `dify-sso <command> [options]`: runs the compiled CLI (`npm run build` writes dist/; no
// TypeScript at run time). `dify-sso --help` lists the commands.
// Output piped into a reader that quits early (`| head`) is not an error of the command.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2), process.env, {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
