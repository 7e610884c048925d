// The worker's heap measured from the page: the bytes attributed to the workbench worker, sampled in
// a loop that survives failures, and the worker's metrics fall back to it where the worker has no
// reading of its own (Chromium's dedicated workers).
import { describe, expect, it, vi } from 'vitest';
import {
  HEAP_SOURCE,
  startHeapSampling,
  workerHeapBytes,
  type MemoryMeasurement,
} from '../../src/ui/heapSampler.ts';
import { memorySampler } from '../../src/worker/traceService.ts';

/** The shape Chromium answered with in the workbench (bytes changed). */
const measurement = (workerJs: number, extra = 0): MemoryMeasurement => ({
  bytes: workerJs + 5_000_000 + extra,
  breakdown: [
    {
      attribution: [
        { scope: 'DedicatedWorkerGlobalScope', url: 'http://localhost/assets/workbench.worker-x.js' },
      ],
      bytes: workerJs,
      types: ['JavaScript'],
    },
    { attribution: [], bytes: 445_235, types: ['Shared'] },
    { attribution: [{ scope: 'Window', url: 'http://localhost/' }], bytes: 3_794_693, types: ['JavaScript'] },
    {
      attribution: [
        { scope: 'DedicatedWorkerGlobalScope', url: 'http://localhost/assets/workbench.worker-x.js' },
      ],
      bytes: extra,
      types: ['DOM'],
    },
  ],
});

describe('workerHeapBytes', () => {
  it('sums the entries attributed to the workbench worker, and nothing else', () => {
    expect(workerHeapBytes(measurement(24_901_126))).toBe(24_901_126);
    expect(workerHeapBytes(measurement(1000, 24))).toBe(1024);
  });

  it('is null when no entry names the worker (not measured, or another page)', () => {
    const m = measurement(10);
    expect(
      workerHeapBytes({
        ...m,
        breakdown: m.breakdown.filter((e) => e.attribution[0]?.scope !== 'DedicatedWorkerGlobalScope'),
      }),
    ).toBe(null);
    expect(workerHeapBytes(m, 'other.worker')).toBe(null);
  });
});

describe('startHeapSampling', () => {
  it('pushes each measurement, skips a failed one, and stops when asked', async () => {
    const answers: (() => Promise<MemoryMeasurement>)[] = [
      async () => measurement(100),
      async () => {
        throw new Error('measurement refused');
      },
      async () => measurement(300),
    ];
    const pushed: [number, string][] = [];
    let sleeps = 0;
    let wake: () => void = () => {};
    const done = new Promise<void>((r) => (wake = r));
    const stop = startHeapSampling({
      measure: () => (answers.shift() ?? (async () => measurement(999)))(),
      push: (bytes, source) => void pushed.push([bytes, source]),
      sleep: async () => {
        if (++sleeps === 3) {
          stop();
          wake();
        }
      },
    });
    await done;
    await new Promise((r) => setTimeout(r, 0));
    expect(pushed).toEqual([
      [100, HEAP_SOURCE],
      [300, HEAP_SOURCE],
    ]);
  });

  it('does nothing where the page may not measure', () => {
    const push = vi.fn();
    startHeapSampling({ measure: null, push })();
    expect(push).not.toHaveBeenCalled();
  });
});

describe('memorySampler', () => {
  it('takes the worker’s own reading first, else the page’s measurement', () => {
    const page = { bytes: 42_000_000, source: HEAP_SOURCE };
    // Node has process.memoryUsage: the worker's own reading wins.
    expect(memorySampler(null, () => page)().heapSource).toBe('process.memoryUsage');
    const g = globalThis as { process?: unknown };
    const saved = g.process;
    const memoryUsage = process.memoryUsage;
    try {
      (process as { memoryUsage: unknown }).memoryUsage = undefined;
      expect(memorySampler(null, () => page)()).toEqual({ heapBytes: 42_000_000, heapSource: HEAP_SOURCE });
      expect(memorySampler(null, () => null)()).toEqual({});
    } finally {
      (process as { memoryUsage: unknown }).memoryUsage = memoryUsage;
      g.process = saved;
    }
  });
});
