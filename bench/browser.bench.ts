// Drives the bench page (bench/browser/) in Chromium through Playwright: suite, batch scaling,
// IndexedDB ingest, tracing overhead and JSONL export, all in the page's own worker.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Page } from 'playwright';
import type { BenchPage, ExportRun } from './browser/benchPage.ts';
import type { BrowserDevice, TracedRun } from './browser/benchWorkerApi.ts';
import { DEVICE_LABEL, benchPort, launchChromium, startPreview } from './lib/chromium.ts';
import {
  compared,
  type BatchScalingResults,
  type ExportResults,
  type PersistenceResults,
  type ScaleDeviceResults,
  type SuiteResults,
} from './lib/results.ts';
import { BENCH_MODELS_DIR } from './vite.bench.config.ts';
import { scaleModelInfo } from './scale.bench.ts';
import { ratio, summarize } from './lib/stats.ts';
import {
  BATCH_SIZES,
  flattensAt,
  suitePrompts,
  suiteResults,
  suiteShape,
  type SuiteRun,
} from './lib/suiteWorkload.ts';

type W = { bench: BenchPage };

export interface BrowserOutput {
  suite: SuiteResults;
  scaling: BatchScalingResults;
  persistence: PersistenceResults | null;
  export: ExportResults | null;
}

/** Builds the bench page under node_modules/.cache (the app's dist/ is left alone). */
export function buildBenchPage(): void {
  execFileSync('node', ['scripts/copyOrtAssets.mjs'], { stdio: 'ignore' });
  execFileSync('npx', ['vite', 'build', '--config', 'bench/vite.bench.config.ts'], { stdio: 'ignore' });
}

/** Per device: how big the workloads are. SwiftShader runs WebGPU on the CPU at ~6 prompts/s. */
function plan(device: BrowserDevice, quick: boolean) {
  if (device === 'webgpu') {
    return { perProbe: 10, suiteRepeats: quick ? 1 : 2, scalePrompts: 16, scaleRepeats: quick ? 1 : 2 };
  }
  return { perProbe: 50, suiteRepeats: quick ? 3 : 5, scalePrompts: 64, scaleRepeats: quick ? 3 : 5 };
}

async function suiteBench(page: Page, device: BrowserDevice, quick: boolean): Promise<SuiteResults> {
  const p = plan(device, quick);
  const shape = suiteShape(suitePrompts(p.perProbe));
  const ours: SuiteRun[] = [];
  const naive: SuiteRun[] = [];
  // One unmeasured round (WebGPU compiles shaders per new shape), then paired repeats.
  for (let r = -1; r < p.suiteRepeats; r++) {
    const a = await page.evaluate((n) => (window as unknown as W).bench.suite(n), p.perProbe);
    const b = await page.evaluate((n) => (window as unknown as W).bench.naive(n), p.perProbe);
    if (r >= 0) {
      ours.push(a);
      naive.push(b);
    }
  }
  return suiteResults(
    DEVICE_LABEL[device],
    shape,
    ours,
    naive,
    device === 'webgpu'
      ? `small workload (SwiftShader emulates the GPU on the CPU); ${p.suiteRepeats} paired repeats after one warm-up round — fewer than 5, as each round takes ~20 s.`
      : `${p.suiteRepeats} paired repeats after one warm-up round, in the page's worker.`,
  );
}

async function scalingBench(page: Page, device: BrowserDevice, quick: boolean): Promise<BatchScalingResults> {
  const p = plan(device, quick);
  const samples = new Map<number, number[]>(BATCH_SIZES.map((b) => [b, []]));
  for (let r = 0; r < p.scaleRepeats; r++) {
    for (const b of BATCH_SIZES) {
      const v = await page.evaluate(([n, batch]) => (window as unknown as W).bench.scaling(n, batch), [
        p.scalePrompts,
        b,
      ] as const);
      samples.get(b)!.push(v);
    }
  }
  const b1 = summarize(samples.get(1)!);
  const points = BATCH_SIZES.map((batch) => {
    const s = summarize(samples.get(batch)!);
    return { batch, promptsPerS: s, vsBatch1: ratio(s, b1) };
  });
  console.log(
    `  ${device} scaling: ${points.map((q) => `${q.batch}:${q.promptsPerS.median.toFixed(1)}`).join(' ')} p/s`,
  );
  return {
    device: DEVICE_LABEL[device],
    prompts: p.scalePrompts,
    points,
    flattensAt: flattensAt(points.map((q) => ({ batch: q.batch, median: q.promptsPerS.median }))),
    note: `base model, next-token logits; ${p.scalePrompts} prompts per point, ${p.scaleRepeats} repeat(s) per batch size${
      device === 'webgpu' ? ' (fewer than 5: SwiftShader is slow)' : ''
    }.`,
  };
}

async function persistenceBench(page: Page, quick: boolean): Promise<PersistenceResults> {
  const repeats = quick ? 3 : 5;
  const wbN = quick ? 10_000 : 20_000;
  const peN = 1_000;
  const wb: number[] = [];
  const pe: number[] = [];
  for (let r = 0; r < repeats; r++) {
    wb.push(await page.evaluate((n) => (window as unknown as W).bench.ingest('writeBehind', n), wbN));
    pe.push(await page.evaluate((n) => (window as unknown as W).bench.ingest('perEvent', n), peN));
  }
  const wv = summarize(wb);
  const pv = summarize(pe);
  console.log(
    `  IndexedDB ingest: ${wv.median.toFixed(0)} ev/s vs per-event tx ${pv.median.toFixed(0)} ev/s`,
  );

  // Tracing overhead: paired on/off suite runs, order alternating so neither always goes first.
  const pairs = quick ? 5 : 9;
  const on: TracedRun[] = [];
  const off: TracedRun[] = [];
  await page.evaluate(() => (window as unknown as W).bench.tracedSuite(50, true));
  for (let r = 0; r < pairs; r++) {
    const first = r % 2 === 0;
    const a = await page.evaluate((t) => (window as unknown as W).bench.tracedSuite(50, t), first);
    const b = await page.evaluate((t) => (window as unknown as W).bench.tracedSuite(50, t), !first);
    on.push(first ? a : b);
    off.push(first ? b : a);
  }
  const onS = summarize(on.map((r) => r.wallMs));
  const offS = summarize(off.map((r) => r.wallMs));
  const overhead = summarize(on.map((r, i) => ((r.wallMs - off[i]!.wallMs) / off[i]!.wallMs) * 100));
  console.log(
    `  tracing: on ${onS.median.toFixed(0)} ms vs off ${offS.median.toFixed(0)} ms (${overhead.median.toFixed(1)}%)`,
  );
  return {
    device: DEVICE_LABEL.wasm,
    ingestEventsPerS: compared(wv, pv, ratio(wv, pv)),
    ingestEvents: { writeBehind: wbN, perEvent: peN },
    tracingWallMs: compared(onS, offS, ratio(onS, offS)),
    tracingOverheadPct: overhead,
    tracingFinalFlushMs: summarize(on.map((r) => r.flushMs)),
    note:
      `ingest: ${repeats} repeats of ${wbN.toLocaleString('en')} events (write-behind) and ${peN.toLocaleString('en')} events (one awaited transaction each), in the worker; ` +
      `tracing: the 200-prompt WASM suite with the IndexedDB writer as the trace sink vs no sink, ${pairs} paired runs, overhead per pair.`,
  };
}

async function exportBench(page: Page, quick: boolean): Promise<ExportResults> {
  const n = 100_000;
  const repeats = quick ? 3 : 5;
  const runId = await page.evaluate((k) => (window as unknown as W).bench.seedRun(k), n);
  const ours: ExportRun[] = [];
  const base: ExportRun[] = [];
  let downloadedBytes: number | null = null;
  for (let r = 0; r < repeats; r++) {
    const dl = page.waitForEvent('download', { timeout: 60_000 });
    ours.push(await page.evaluate((id) => (window as unknown as W).bench.exportJsonl(id), runId));
    const file = await (await dl).path();
    downloadedBytes = file === null ? null : (await import('node:fs')).statSync(file).size;
    base.push(await page.evaluate((k) => (window as unknown as W).bench.exportInMemory(k), n));
  }
  const v = summarize(ours.map((r) => r.ms));
  const bl = summarize(base.map((r) => r.ms));
  const peaks = ours.map((r) => r.peakHeapBytes).filter((x): x is number => x !== null);
  console.log(`  export ${n}: ${v.median.toFixed(0)} ms vs in-memory ${bl.median.toFixed(0)} ms`);
  return {
    device: DEVICE_LABEL.wasm,
    events: n,
    bytes: ours[0]!.bytes,
    timeMs: compared(v, bl, ratio(v, bl)),
    peakHeapMb: summarize(peaks.map((b) => b / 2 ** 20)),
    downloadedBytes,
    note: `the app's export path (IndexedDB pages of 2,000 → JSONL chunks → Blob → download) on the page's main thread, ${repeats} repeats; baseline encodes the same events from memory; heap from performance.memory (JS heap only).`,
  };
}

/** One device: launch, load the pair in the bench worker, run what applies to it. */
export async function browserBench(device: BrowserDevice, quick: boolean): Promise<BrowserOutput> {
  const preview = await startPreview(
    ['--config', 'bench/vite.bench.config.ts'],
    benchPort(device === 'wasm' ? 1 : 2),
  );
  const browser = await launchChromium(device);
  try {
    const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await page.goto(preview.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const info = await page.evaluate((d) => (window as unknown as W).bench.load(d), device);
    if (info.device !== device)
      throw new Error(`asked for ${device}, the page loaded on ${info.device} (${info.detail})`);
    console.log(`  ${device}: loaded on ${info.detail} in ${info.loadMs.toFixed(0)} ms`);
    const suite = await suiteBench(page, device, quick);
    const scaling = await scalingBench(page, device, quick);
    // Storage figures do not depend on the inference device: measured once, on the WASM page.
    const persistence = device === 'wasm' ? await persistenceBench(page, quick) : null;
    const exp = device === 'wasm' ? await exportBench(page, quick) : null;
    return { suite, scaling, persistence, export: exp };
  } finally {
    await browser.close();
    await preview.stop();
  }
}

/**
 * Chromium's renderer processes started by this Node process (Playwright launches the browser as our
 * child), from Linux /proc: where the page, its worker and the wasm threads run.
 */
function rendererPids(): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // Fields after the parenthesised command: state, ppid, …
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we listed it.
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) return true;
    return false;
  };
  return [...parent.keys()].filter((pid) => {
    if (!ours(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer');
    } catch {
      return false;
    }
  });
}

/**
 * CPU ms (user + system) used so far by the browser's renderer processes, where the page's worker and
 * its wasm threads run; NaN where /proc cannot be read.
 */
function rendererCpuMs(): number {
  try {
    let ticks = 0;
    for (const pid of rendererPids()) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command.
        ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // Gone.
      }
    }
    // USER_HZ is 100 on every Linux Node runs on.
    return ticks * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * Peak resident memory (VmHWM) of the largest renderer, MB: the page and its worker, wasm heap
 * included. Linux only (reads /proc); null elsewhere.
 */
function peakRendererRssMb(): number | null {
  try {
    let peak: number | null = null;
    for (const pid of rendererPids()) {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m !== null) peak = Math.max(peak ?? 0, Number(m[1]) / 1024);
      } catch {
        // Gone.
      }
    }
    return peak;
  } catch {
    return null;
  }
}

/**
 * The 135M pair in Chromium (WASM, or WebGPU on SwiftShader): the same measurement as Node's
 * `scaleBench`, run in the bench page's worker on the model served from the bench-models cache.
 */
export async function browserScaleBench(
  device: BrowserDevice,
  modelDir: string,
  dtype: 'fp32' | 'q4',
  quick: boolean,
  log: (line: string) => void = (l) => console.log(l),
): Promise<ScaleDeviceResults> {
  const rel = relative(BENCH_MODELS_DIR, modelDir);
  if (rel.startsWith('..'))
    throw new Error(`browser scale bench: ${modelDir} is not under ${BENCH_MODELS_DIR}`);
  const preview = await startPreview(
    ['--config', 'bench/vite.bench.config.ts'],
    benchPort(device === 'wasm' ? 3 : 4),
  );
  // Immediate measureUserAgentSpecificMemory() (it otherwise waits for a GC, up to 20 s).
  const browser = await launchChromium(device, ['--enable-blink-features=ForceEagerMeasureMemory']);
  try {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => {
      if (m.text().startsWith('[scale] ')) log(m.text().slice('[scale] '.length));
    });
    await page.exposeFunction('benchRendererCpuMs', () => rendererCpuMs());
    await page.goto(preview.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const model = scaleModelInfo(modelDir, dtype);
    const notes =
      device === 'webgpu'
        ? [
            'SwiftShader emulates the GPU on the CPU: these WebGPU figures say the path works at this size, not how fast a GPU is; the workload is cut to a minimum.',
          ]
        : [
            'onnxruntime-web runs WASM with its default thread count (half the cores, here 1 thread) where onnxruntime-node uses both cores.',
          ];
    if (model.sameFolderForBoth)
      notes.push(
        'base and ft are the same folder (two sessions of the same weights): right for speed, the divergences are 0.',
      );
    const req = {
      device,
      modelUrl: `${preview.url}/bench-models/${rel.split('\\').join('/')}/`,
      dtype,
      quick,
      model,
      label: DEVICE_LABEL[device],
      notes,
    };
    const r = await page.evaluate((q) => (window as unknown as W).bench.scale(q), req);
    r.memory.peakRssMb = peakRendererRssMb();
    if (r.memory.peakRssMb !== null)
      r.memory.note +=
        ' In Chromium, peak RSS is the VmHWM of the largest renderer process (the page, its worker and the wasm heap).';
    return r;
  } finally {
    await browser.close();
    await preview.stop();
  }
}
