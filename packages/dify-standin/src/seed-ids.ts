/** Fixed ids of the default seed (src/seed.json), for tests and the e2e. */
export const SEED_IDS = {
  workspaceId: '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57',
  ownerId: '4a0c9f2e-1b7d-4e36-8a5f-0c2d9b7e6a14',
  aliceId: 'a11ce000-7d3b-4c2a-9f1e-5b6d8c0e2f43',
  daveId: 'da7e0000-3c1f-4b8e-a2d4-6e9f1b3c5d70',
} as const;
