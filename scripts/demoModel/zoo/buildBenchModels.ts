/**
 * `npm run build:bench-models`: generates the 135M-class bench model into
 * .cache/bench-models/ (git-ignored), fp32 and q4, with a progress line.
 *
 *   npx tsx scripts/demoModel/zoo/buildBenchModels.ts [--out DIR] [--dtypes fp32,q4]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBenchModels, type BenchDtype } from './benchModels.ts';

export const DEFAULT_BENCH_MODELS_DIR = '.cache/bench-models';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: DEFAULT_BENCH_MODELS_DIR },
      dtypes: { type: 'string', default: 'fp32,q4' },
    },
  });
  const dtypes = (values.dtypes ?? '').split(',').filter(Boolean);
  for (const d of dtypes) {
    if (d !== 'fp32' && d !== 'q4') throw new Error(`--dtypes: ${d} is not one of fp32, q4`);
  }
  const started = Date.now();
  const tty = process.stdout.isTTY;
  let last = 0;
  const { dir, bytes } = await buildBenchModels({
    outDir: resolve(values.out ?? DEFAULT_BENCH_MODELS_DIR),
    dtypes: dtypes as BenchDtype[],
    onProgress: (line) => {
      // A redrawn line on a terminal; at most one line every 2 s in a log.
      if (tty) process.stdout.write(`\r${line}\u001b[K`);
      else if (Date.now() - last > 2000) {
        last = Date.now();
        console.log(line);
      }
    },
  });
  if (tty) process.stdout.write('\n');
  console.log(`${dir}: ${(bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
