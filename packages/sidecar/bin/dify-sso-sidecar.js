#!/usr/bin/env node
// Starts the compiled sidecar (`npm run build` writes dist/; no TypeScript at run time).
await import('../dist/server.js');
