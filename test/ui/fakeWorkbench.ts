import { vi } from 'vitest';
import type { BackendStatsDict } from '../../src/core/index.ts';
import { newRunRecord } from '../../src/store/traceDb.ts';
import type { FeedUpdate, RunRecord, WorkbenchApi } from '../../src/worker/workbenchApi.ts';

/** A promise with its resolve / reject in hand: a worker call that answers when the test says. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const STATS: BackendStatsDict = {
  cache_hits: 3,
  cache_misses: 9,
  forward_passes: 9,
  scoring_wall_s: 0.5,
  hit_rate: 0.25,
  batches_sent: 2,
  batched_prompts: 9,
  max_batch_size: 6,
  avg_batch_size: 4.5,
};

export function run(id: string, eventCount: number, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    ...newRunRecord({ id, label: `demo ${id}` }, 1_700_000_000_000),
    eventCount,
    hits: Math.floor(eventCount / 2),
    firstTs: eventCount > 0 ? 1_700_000_000 : null,
    lastTs: eventCount > 0 ? 1_700_000_002 : null,
    ...extra,
  };
}

/**
 * The worker as the panels see it, every method a `vi.fn` that tests re-program. `feed` and
 * `deviceLost` deliver to the listeners the panels registered; `unsubscribed` counts unsubscribes.
 */
export function fakeWorkbench() {
  const feedListeners = new Set<(u: FeedUpdate) => void>();
  const deviceListeners = new Set<(m: string) => void>();
  let unsubscribed = 0;
  const api = {
    init: vi.fn(async () => {}),
    load: vi.fn<WorkbenchApi['load']>(() => new Promise(() => {})),
    cancelLoad: vi.fn(async () => {}),
    info: vi.fn(async () => null),
    compare: vi.fn<WorkbenchApi['compare']>(),
    scoreContinuation: vi.fn<WorkbenchApi['scoreContinuation']>(),
    heatmap: vi.fn<WorkbenchApi['heatmap']>(),
    generate: vi.fn<WorkbenchApi['generate']>(),
    runBatch: vi.fn<WorkbenchApi['runBatch']>(),
    cancelBatch: vi.fn(async () => {}),
    subscribe: vi.fn(async (l: (u: FeedUpdate) => void) => {
      feedListeners.add(l);
      return () => {
        unsubscribed++;
        feedListeners.delete(l);
      };
    }),
    watchDevice: vi.fn(async (l: (m: string) => void) => {
      deviceListeners.add(l);
      return () => {
        unsubscribed++;
        deviceListeners.delete(l);
      };
    }),
    stats: vi.fn(async () => STATS),
    validateSuite: vi.fn<WorkbenchApi['validateSuite']>(async () => ({ ok: true, issues: [], probes: [] })),
    runSuite: vi.fn<WorkbenchApi['runSuite']>(),
    cancelSuite: vi.fn(async () => {}),
    suiteReport: vi.fn(async () => '{}'),
    listRuns: vi.fn<WorkbenchApi['listRuns']>(async () => []),
    runAnalysis: vi.fn<WorkbenchApi['runAnalysis']>(),
    suiteTraceAnalysis: vi.fn<WorkbenchApi['suiteTraceAnalysis']>(async () => null),
    exportJsonl: vi.fn(async () => new Blob(['{}\n'])),
    exportPerfetto: vi.fn(async () => new Blob(['{}'])),
    importJsonl: vi.fn<WorkbenchApi['importJsonl']>(),
    deleteRun: vi.fn(async () => 0),
    storageUsed: vi.fn(async () => ({ usage: 2048, quota: 1024 * 1024 })),
    flushTraces: vi.fn(async () => {}),
    traceStatus: vi.fn(),
  };
  return {
    api,
    feed(u: FeedUpdate) {
      for (const l of feedListeners) l(u);
    },
    loseDevice(message: string) {
      for (const l of deviceListeners) l(message);
    },
    get unsubscribed() {
      return unsubscribed;
    },
  };
}

export type FakeWorkbench = ReturnType<typeof fakeWorkbench>;
