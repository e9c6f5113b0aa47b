import { test as teardown } from '@playwright/test';
import { stopDaemon } from '../../scripts/lib/proc.js';
import { readState, writeState } from './state.js';

teardown('stop what setup started', async () => {
  teardown.setTimeout(60_000);
  const state = readState();
  for (const name of [...state.started].reverse()) await stopDaemon(name);
  writeState({ started: [] });
});
