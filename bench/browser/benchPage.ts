import * as Comlink from 'comlink';
import { encodeTraceLine } from '../../src/core/index.ts';
import { openTraceDb } from '../../src/store/traceDb.ts';
import { blobFromChunks, jsonlChunks } from '../../src/store/traceStore.ts';
import { syntheticEvents } from '../lib/traceEvents.ts';
import type { MemorySample } from '../lib/scaleWorkload.ts';
import { BENCH_DB, type BenchWorkerApi, type ScaleRequest } from './benchWorkerApi.ts';

export interface ExportRun {
  ms: number;
  bytes: number;
  /** Largest JS-heap growth seen while exporting, bytes; null without `performance.memory`. */
  peakHeapBytes: number | null;
}

/** Chromium's non-standard heap counter (exact with --enable-precise-memory-info). */
function heapUsed(): number | null {
  const m = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  return m?.usedJSHeapSize ?? null;
}

/** Streams chunks into a Blob while sampling the heap after every chunk. */
async function measuredBlob(
  chunks: AsyncIterable<string>,
  start: number | null,
): Promise<{ blob: Blob; peak: number | null }> {
  let peak = start === null ? null : 0;
  async function* sampled(): AsyncGenerator<string> {
    for await (const c of chunks) {
      yield c;
      const h = heapUsed();
      if (h !== null && start !== null && peak !== null) peak = Math.max(peak, h - start);
    }
  }
  const blob = await blobFromChunks(sampled(), 'application/x-ndjson');
  return { blob, peak };
}

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: the download reads the Blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const worker = Comlink.wrap<BenchWorkerApi>(
  new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'deltascope-bench' }),
);

/**
 * The page's memory as Chromium reports it: the JS heap (performance.memory) and, cross-origin
 * isolated as this page is, measureUserAgentSpecificMemory(), which counts the worker's wasm heap.
 */
async function pageMemory(): Promise<MemorySample> {
  const heap = heapUsed();
  const p = performance as unknown as {
    measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
  };
  let ua: number | null = null;
  if (crossOriginIsolated && p.measureUserAgentSpecificMemory !== undefined) {
    try {
      ua = (await p.measureUserAgentSpecificMemory()).bytes / 2 ** 20;
    } catch {
      ua = null;
    }
  }
  return { rssMb: null, peakRssMb: null, heapUsedMb: heap === null ? null : heap / 2 ** 20, uaMemoryMb: ua };
}

/** Everything Playwright drives; plain data in, plain data out. */
const bench = {
  load: (device: 'wasm' | 'webgpu') => worker.load(device, location.origin),
  suite: (perProbe: number) => worker.suite(perProbe),
  naive: (perProbe: number) => worker.naive(perProbe),
  scaling: (prompts: number, batch: number) => worker.scaling(prompts, batch),
  ingest: (kind: 'writeBehind' | 'perEvent', n: number) => worker.ingest(kind, n),
  tracedSuite: (perProbe: number, tracing: boolean) => worker.tracedSuite(perProbe, tracing),
  seedRun: (n: number) => worker.seedRun(n),
  /** The 135M run; its log lines go to the console, where the Node driver picks them up. */
  scale: (req: ScaleRequest) =>
    worker.scale(
      req,
      location.origin,
      Comlink.proxy((line: string) => console.log(`[scale] ${line}`)),
      Comlink.proxy(pageMemory),
      // Exposed by the Node driver: CPU ms of Chromium's renderer processes, from /proc.
      Comlink.proxy(() =>
        (window as unknown as { benchRendererCpuMs: () => Promise<number> }).benchRendererCpuMs(),
      ),
    ),

  /** The app's export path (stored run → JSONL chunks → Blob → download), on the page's main thread. */
  async exportJsonl(runId: string): Promise<ExportRun> {
    const db = await openTraceDb(BENCH_DB);
    const h0 = heapUsed();
    const t0 = performance.now();
    const { blob, peak } = await measuredBlob(jsonlChunks(db, runId), h0);
    download(blob, `${runId}.jsonl`);
    const ms = performance.now() - t0;
    db.close();
    return { ms, bytes: blob.size, peakHeapBytes: peak };
  },

  /** Baseline: the same number of events already in memory, encoded the same way, no IndexedDB. */
  async exportInMemory(n: number): Promise<ExportRun> {
    const events = syntheticEvents(n);
    const h0 = heapUsed();
    const t0 = performance.now();
    async function* chunks(): AsyncGenerator<string> {
      for (let i = 0; i < events.length; i += 2000) {
        let chunk = '';
        for (const e of events.slice(i, i + 2000)) chunk += encodeTraceLine(e) + '\n';
        yield chunk;
      }
    }
    const { blob, peak } = await measuredBlob(chunks(), h0);
    return { ms: performance.now() - t0, bytes: blob.size, peakHeapBytes: peak };
  },
};

export type BenchPage = typeof bench;
(window as unknown as { bench: BenchPage }).bench = bench;
document.body.dataset.ready = 'true';
