/**
 * Times applying every transform of a checkout's Dify version, in memory (nothing is written).
 *
 *   node --import tsx bench/codemods.bench.ts <dify-checkout> [runs]
 *
 * Without a path it uses the kit's 1.16 fixture reproduction. Prints milliseconds for the
 * first run (includes loading the TypeScript compiler that ts-morph bundles) and warm runs.
 * Not asserted anywhere: timing is never a test.
 */
import { fileURLToPath } from 'node:url';

const start = performance.now();
const { planPatch } = await import('../packages/codemods/src/patch.js');
const loaded = performance.now();

const checkout =
  process.argv[2] ?? fileURLToPath(new URL('../packages/codemods/test/__fixtures__/stock/1.16/', import.meta.url));
const runs = Number(process.argv[3] ?? 5);

const t0 = performance.now();
const plan = planPatch(checkout);
const first = performance.now() - t0;
const warm: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  planPatch(checkout);
  warm.push(performance.now() - t);
}
warm.sort((a, b) => a - b);
const ms = (n: number) => `${n.toFixed(0)} ms`;
process.stdout.write(
  [
    `checkout: ${plan.checkout} (Dify ${plan.version}, ${plan.slugs.length} transforms, ${plan.changes.length} files changed)`,
    `module load: ${ms(loaded - start)}`,
    `first run (cold): ${ms(first)}`,
    `warm runs (${runs}): median ${ms(warm[Math.floor(warm.length / 2)] ?? 0)}, min ${ms(warm[0] ?? 0)}, max ${ms(warm[warm.length - 1] ?? 0)}`,
    `load + first run: ${ms(loaded - start + first)}`,
    '',
  ].join('\n'),
);
