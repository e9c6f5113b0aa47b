#!/usr/bin/env node
// `dify-sso-patch <dify-checkout> [--dry] [--check] [--revert] [--emit-diff FILE] [--force]`
// Runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli.ts')
process.exitCode = await main(process.argv.slice(2))
