import { existsSync, readFileSync, rmSync } from 'node:fs';
import { test as teardown } from '@playwright/test';
import { stopStackDaemons, type StackInfo } from '../../scripts/lib/stack.js';
import { stackFile } from '../support/target.js';

teardown('stop the kit stack the setup started', async () => {
  teardown.setTimeout(60_000);
  if (!existsSync(stackFile)) return;
  const info = JSON.parse(readFileSync(stackFile, 'utf8')) as StackInfo;
  await stopStackDaemons(info.started);
  rmSync(stackFile, { force: true });
});
