// `npm run bench [-- --quick] [-- --only=cache,node,wasm,webgpu,ui,scale-node,scale-node-q4,scale-wasm,scale-webgpu,
// scale-webgpu-q4,adapter,adapter-q4]
// [-- --render]`: runs the benchmarks and writes bench/results.json and bench/RESULTS.md. The scale-* parts
// measure the 135M-class pair (built into .cache/bench-models/ first if absent); the others the demo pair.
// adapter / adapter-q4: runtime LoRA (base + adapter as one session) on the demo and the 135M model (fp32 /
// q4): views as rows against separate batches, the base view against the unrewritten base, and memory.
// A part that fails is recorded in `errors`, the rest go on.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, platform, release } from 'node:os';
import { adapterBench } from './adapter.bench.ts';
import { browserBench, browserScaleBench, buildBenchPage } from './browser.bench.ts';
import { cacheBench } from './cache.bench.ts';
import { chromiumVersion } from './lib/chromium.ts';
import { renderReport } from './lib/report.ts';
import type { BenchResults } from './lib/results.ts';
import { nodeSuiteBench } from './nodeSuite.bench.ts';
import { scaleBench } from './scale.bench.ts';
import { BENCH_MODELS_DIR } from './vite.bench.config.ts';
import { buildApp, uiBench } from './ui.bench.ts';

const args = process.argv.slice(2);
if (args.includes('--render')) {
  // Re-renders RESULTS.md from the recorded results.json (e.g. after a report wording change).
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
  scale: [],
  cache: null,
  suite: [],
  batchScaling: [],
  persistence: null,
  export: null,
  ui: null,
  adapter: [],
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

const SCALE_PARTS = ['scale-node', 'scale-node-q4', 'scale-wasm', 'scale-webgpu', 'scale-webgpu-q4'] as const;
let benchModelDir: string | null = null;
/** The 135M-class model folder, generated on first use (a few minutes, with a progress line). */
async function benchModel(): Promise<string> {
  if (benchModelDir !== null) return benchModelDir;
  const { buildBenchModels, BENCH_MODEL_NAME } = await import('../scripts/demoModel/zoo/benchModels.ts');
  const ready = ['model.onnx', 'model_q4.onnx'].every((f) =>
    existsSync(join(BENCH_MODELS_DIR, BENCH_MODEL_NAME, 'onnx', f)),
  );
  if (!ready) console.log(`[bench] building the 135M-class bench models into ${BENCH_MODELS_DIR}`);
  let last = 0;
  const { dir } = await buildBenchModels({
    outDir: BENCH_MODELS_DIR,
    onProgress: (line) => {
      // Up to date is one line; a build prints at most one line every 5 s.
      if (Date.now() - last > 5000 || line.includes('up to date')) {
        last = Date.now();
        console.log(`  ${line}`);
      }
    },
  });
  benchModelDir = dir;
  return dir;
}
const scaleLog = (line: string) => console.log(line);
await part('scale-node', async () => {
  const r = await scaleBench({
    device: 'cpu',
    modelDir: await benchModel(),
    dtype: 'fp32',
    quick,
    log: scaleLog,
  });
  results.scale!.push({ ...r, part: 'scale-node' });
});
await part('scale-node-q4', async () => {
  const r = await scaleBench({
    device: 'cpu',
    modelDir: await benchModel(),
    dtype: 'q4',
    quick,
    log: scaleLog,
  });
  results.scale!.push({ ...r, part: 'scale-node-q4' });
});
if (wants('scale-wasm')) buildBenchPage();
await part('scale-wasm', async () => {
  const r = await browserScaleBench('wasm', await benchModel(), 'fp32', quick, scaleLog);
  results.scale!.push({ ...r, part: 'scale-wasm' });
});
await part('scale-webgpu', async () => {
  // Dawn in Node, on SwiftShader here (VK_ICD_FILENAMES); the smallest workload, fp32 only.
  const r = await scaleBench({
    device: 'webgpu',
    modelDir: await benchModel(),
    dtype: 'fp32',
    quick,
    log: scaleLog,
  });
  await part('scale-webgpu-q4', async () => {
    // MatMulNBits on ORT-web's WebGPU EP: about three times quicker than fp32 on SwiftShader.
    const r = await scaleBench({
      device: 'webgpu',
      modelDir: await benchModel(),
      dtype: 'q4',
      quick,
      log: scaleLog,
    });
    results.scale!.push({ ...r, part: 'scale-webgpu-q4' });
  });
  results.scale!.push({ ...r, part: 'scale-webgpu' });
});

const ADAPTER_PARTS = ['adapter', 'adapter-q4'] as const;
await part('adapter', async () => {
  // The demo's shipped adapter and the 135M model in fp32 with a seeded r-8 adapter on every projection.
  const r = await adapterBench({
    part: 'adapter',
    quick,
    modelDir: await benchModel(),
    dtype: 'fp32',
    demo: true,
    log: scaleLog,
  });
  results.adapter!.push(r);
});
await part('adapter-q4', async () => {
  const r = await adapterBench({
    part: 'adapter-q4',
    quick,
    modelDir: await benchModel(),
    dtype: 'q4',
    demo: false,
    log: scaleLog,
  });
  results.adapter!.push(r);
});

results.env.totalS = (performance.now() - started) / 1000;
if (only === null) {
  const stamp = `${results.env.gitCommit} (${results.env.date.slice(0, 16)}Z)`;
  results.env.partsFrom = Object.fromEntries(
    ['cache', 'node', 'wasm', 'webgpu', 'ui', ...SCALE_PARTS, ...ADAPTER_PARTS].map((p) => [p, stamp]),
  );
}
const dir = new URL('./', import.meta.url);
if (only !== null) mergeRecorded(results, new URL('results.json', dir));
writeFileSync(new URL('results.json', dir), JSON.stringify(results, null, 2) + '\n');
writeFileSync(new URL('RESULTS.md', dir), renderReport(results));
console.log(`[bench] wrote bench/results.json and bench/RESULTS.md in ${results.env.totalS.toFixed(0)} s`);

/**
 * With `--only`, the parts not run keep their figures from the recorded results.json (each figure
 * still compares against a baseline from its own run), so a partial re-run never drops the rest.
 */
function mergeRecorded(into: BenchResults, file: URL): void {
  if (!existsSync(file)) return;
  const prev = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const deviceOf = (d: string) => (d.startsWith('Node') ? 'node' : d.includes('WebGPU') ? 'webgpu' : 'wasm');
  const keep = <T extends { device: string }>(mine: T[], old: T[]): T[] =>
    (['node', 'wasm', 'webgpu'] as const).flatMap((part) =>
      (wants(part) ? mine : old).filter((r) => deviceOf(r.device) === part),
    );
  into.suite = keep(into.suite, prev.suite);
  into.scale = SCALE_PARTS.flatMap((p) =>
    (wants(p) ? (into.scale ?? []) : (prev.scale ?? [])).filter((r) => r.part === p),
  );
  into.batchScaling = keep(into.batchScaling, prev.batchScaling);
  into.adapter = ADAPTER_PARTS.flatMap((p) =>
    (wants(p) ? (into.adapter ?? []) : (prev.adapter ?? [])).filter((r) => r.part === p),
  );
  if (!wants('cache')) into.cache = prev.cache;
  if (!wants('wasm') && !wants('webgpu')) {
    into.persistence = prev.persistence;
    into.export = prev.export;
  }
  if (!wants('ui')) into.ui = prev.ui;
  into.errors = [...prev.errors.filter((e) => !wants(e.part)), ...into.errors];
  const stamp = `${into.env.gitCommit} (${into.env.date.slice(0, 16)}Z)`;
  into.env.partsFrom = { ...(prev.env.partsFrom ?? {}) };
  for (const p of only!) into.env.partsFrom[p] = stamp;
  into.env.partial = `re-ran ${[...only!].join(', ')} at ${stamp}; the other parts keep their recorded figures`;
}
