/**
 * The worker's JS heap, measured from the page. Chromium's dedicated workers have no
 * `performance.memory`, so the worker cannot read its own heap; a cross-origin-isolated page (ours:
 * COOP + COEP) can ask `performance.measureUserAgentSpecificMemory()`, which attributes bytes to
 * each worker. It answers at the browser's next garbage collection (about 20 s in Chromium), so the
 * page measures in a loop and hands each answer to the worker, whose run metrics keep the peak.
 */

/** The part of `measureUserAgentSpecificMemory()`'s answer read here. */
export interface MemoryMeasurement {
  bytes: number;
  breakdown: { bytes: number; attribution: { url?: string; scope?: string }[]; types: string[] }[];
}

export const HEAP_SOURCE = 'measureUserAgentSpecificMemory (the workbench worker, measured from the page)';

/** Bytes attributed to the workbench's worker (every breakdown entry naming it), or null if none does. */
export function workerHeapBytes(m: MemoryMeasurement, workerUrlPart = 'workbench.worker'): number | null {
  let bytes = 0;
  let found = false;
  for (const entry of m.breakdown) {
    const ours = entry.attribution.some(
      (a) => a.scope === 'DedicatedWorkerGlobalScope' && (a.url ?? '').includes(workerUrlPart),
    );
    if (ours && Number.isFinite(entry.bytes)) {
      bytes += entry.bytes;
      found = true;
    }
  }
  return found ? bytes : null;
}

type Measure = () => Promise<MemoryMeasurement>;

/** The browser's measurement, where the page may use it (cross-origin isolated, Chromium); else null. */
export function nativeMeasure(): Measure | null {
  const p = globalThis.performance as { measureUserAgentSpecificMemory?: () => Promise<MemoryMeasurement> };
  if (globalThis.crossOriginIsolated !== true || typeof p?.measureUserAgentSpecificMemory !== 'function')
    return null;
  return () => p.measureUserAgentSpecificMemory!();
}

/**
 * Measures in a loop (`intervalMs` between the end of one measurement and the start of the next) and
 * pushes the worker's bytes; a failed measurement or push is skipped. Returns the stop function.
 */
export function startHeapSampling(opts: {
  push: (bytes: number, source: string) => Promise<unknown> | void;
  measure?: Measure | null;
  intervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}): () => void {
  const measure = opts.measure === undefined ? nativeMeasure() : opts.measure;
  if (measure === null) return () => {};
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        const bytes = workerHeapBytes(await measure());
        if (bytes !== null && !stopped) await opts.push(bytes, HEAP_SOURCE);
      } catch {
        // A measurement can be refused (e.g. while the worker restarts); the next one tries again.
      }
      await sleep(opts.intervalMs ?? 5_000);
    }
  })();
  return () => void (stopped = true);
}
