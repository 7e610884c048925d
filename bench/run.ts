// `npm run bench [-- --quick] [-- --only=cache,node,wasm,webgpu,ui] [-- --render]`: runs the benchmarks and writes
// bench/results.json and bench/RESULTS.md. A part that fails is recorded in `errors`, the rest go on.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { browserBench, buildBenchPage } from './browser.bench.ts';
import { cacheBench } from './cache.bench.ts';
import { chromiumVersion } from './lib/chromium.ts';
import { renderReport } from './lib/report.ts';
import type { BenchResults } from './lib/results.ts';
import { nodeSuiteBench } from './nodeSuite.bench.ts';
import { buildApp, uiBench } from './ui.bench.ts';

const args = process.argv.slice(2);
if (args.includes('--render')) {
  // Re-renders RESULTS.md from the recorded results.json (e.g. after a report wording change).
  const { readFileSync } = await import('node:fs');
  const recorded = JSON.parse(
    readFileSync(new URL('./results.json', import.meta.url), 'utf8'),
  ) as BenchResults;
  writeFileSync(new URL('./RESULTS.md', import.meta.url), renderReport(recorded));
  console.log('[bench] re-rendered bench/RESULTS.md from bench/results.json');
  process.exit(0);
}
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg === undefined ? null : new Set(onlyArg.slice('--only='.length).split(','));
const wants = (part: string) => only === null || only.has(part);

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const started = performance.now();
const cpuList = cpus();
const results: BenchResults = {
  env: {
    date: new Date().toISOString(),
    quick,
    gitCommit: gitCommit(),
    node: process.version,
    os: `${platform()} ${release()}`,
    cpus: `${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}`,
    chromium: await chromiumVersion(),
    totalS: 0,
  },
  cache: null,
  suite: [],
  batchScaling: [],
  persistence: null,
  export: null,
  ui: null,
  absent: [
    {
      what: 'Real GPU (WebGPU on hardware)',
      reason:
        'no GPU machine was available to this run; the WebGPU figures come from SwiftShader, which emulates a GPU on the CPU and is far slower than WASM here. Suite speedup, batch scaling and long tasks on a real GPU are therefore not measured.',
    },
  ],
  errors: [],
};

async function part(name: string, fn: () => Promise<void>): Promise<void> {
  if (!wants(name)) return;
  const t0 = performance.now();
  console.log(`[bench] ${name}${quick ? ' (quick)' : ''}`);
  try {
    await fn();
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    console.error(`[bench] ${name} failed: ${message}`);
    results.errors.push({ part: name, message });
  }
  console.log(`[bench] ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await part('cache', async () => {
  results.cache = await cacheBench(quick);
});
await part('node', async () => {
  const r = await nodeSuiteBench(quick);
  results.suite.push(r.suite);
  results.batchScaling.push(r.scaling);
});
if (wants('wasm') || wants('webgpu')) buildBenchPage();
for (const device of ['wasm', 'webgpu'] as const) {
  await part(device, async () => {
    const r = await browserBench(device, quick);
    results.suite.push(r.suite);
    results.batchScaling.push(r.scaling);
    if (r.persistence !== null) results.persistence = r.persistence;
    if (r.export !== null) results.export = r.export;
  });
}
await part('ui', async () => {
  buildApp();
  results.ui = await uiBench(quick);
});

results.env.totalS = (performance.now() - started) / 1000;
const dir = new URL('./', import.meta.url);
writeFileSync(new URL('results.json', dir), JSON.stringify(results, null, 2) + '\n');
writeFileSync(new URL('RESULTS.md', dir), renderReport(results));
console.log(`[bench] wrote bench/results.json and bench/RESULTS.md in ${results.env.totalS.toFixed(0)} s`);
