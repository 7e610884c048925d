// The worker's session on the fake backend: batches report progress and cancel between chunks
// (keeping every traced event), and a model load can be cancelled.
import { describe, expect, it } from 'vitest';
import { DeviceLostError, type DifferentialBackend } from '../../src/backend/index.ts';
import { CancelledError, MemoryTraceSink } from '../../src/core/index.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import type { PairOpener } from '../../src/worker/pairHost.ts';
import type { BatchProgress } from '../../src/worker/workbenchApi.ts';
import { APP, REQ, fakeLoader as makeFakeLoader } from './sessionFixtures.ts';

const fakeLoader = makeFakeLoader();

async function loadedSession(): Promise<{ session: WorkbenchSession; trace: MemoryTraceSink }> {
  const session = new WorkbenchSession(fakeLoader, APP);
  const trace = new MemoryTraceSink();
  session.addSink(trace);
  await session.load(REQ, () => {});
  return { session, trace };
}

const prompts = (n: number) => Array.from({ length: n }, (_, i) => `prompt number ${i}`);

describe('WorkbenchSession.runBatch', () => {
  it('scores every prompt on both views and reports progress up to the total', async () => {
    const { session } = await loadedSession();
    const seen: BatchProgress[] = [];
    const r = await session.runBatch(prompts(20), 5, (p) => seen.push(p));
    expect(r).toMatchObject({ prompts: 20, cancelled: false });
    // Chunks of two physical batches (maxBatchSize 4): 8, 16, 20.
    expect(seen).toEqual([
      { done: 8, total: 20 },
      { done: 16, total: 20 },
      { done: 20, total: 20 },
    ]);
    expect((await session.stats()).cache_misses).toBe(40);
  });

  it('stops after the chunk in flight when cancelled, keeping every event of what ran', async () => {
    const { session, trace } = await loadedSession();
    const before = trace.events.length;
    const r = await session.runBatch(prompts(50), 5, (p) => {
      if (p.done === 8) void session.cancelBatch();
    });
    expect(r).toMatchObject({ prompts: 8, cancelled: true, stoppedBy: 'cancel' });
    const stats = await session.stats();
    expect(stats.cache_misses).toBe(16);
    expect(stats.forward_passes).toBe(16);
    expect(trace.events.length - before).toBe(16);
    // A new batch runs normally after a cancel (the first 8 prompts are now cache hits).
    const again = await session.runBatch(prompts(10), 5);
    expect(again).toMatchObject({ prompts: 10, cancelled: false });
    expect((await session.stats()).cache_hits).toBe(16);
  });

  it('runs prompt hygiene first: text fixed and counted, repeats counted and kept, an empty prompt refused by index', async () => {
    const { session, trace } = await loadedSession();
    const asked = ['line one\r\nline two', 'broken \uD800 text', 'same', 'same', 'line one\nline two'];
    const r = await session.runBatch(asked, 5);
    expect(r).toMatchObject({ prompts: 5, cancelled: false });
    expect(r.hygiene).toEqual({
      prompts: 5,
      kept: 5,
      duplicates: 2,
      excluded: 0,
      lineEndings: 1,
      surrogates: 1,
    });
    // What ran is the fixed text: the \r\n prompt and its \n twin are one cache entry.
    const stats = await session.stats();
    expect(stats.cache_misses).toBe(2 * 3);
    expect(stats.cache_hits).toBe(2 * 2);
    expect(trace.events.some((e) => e.op === 'next_token_dist')).toBe(true);

    const before = (await session.stats()).cache_misses + (await session.stats()).cache_hits;
    const refused = session.runBatch(['fine', '  ', 'also fine', ''], 5);
    await expect(refused).rejects.toMatchObject({ code: 'spec/invalid' });
    await expect(refused).rejects.toThrow(
      /batch\.prompts\[1\]: empty or whitespace-only[\s\S]*batch\.prompts\[3\]/,
    );
    // Refused before any forward pass.
    const after = await session.stats();
    expect(after.cache_misses + after.cache_hits).toBe(before);
  });

  it('refuses a second batch while one runs', async () => {
    const { session } = await loadedSession();
    const first = session.runBatch(prompts(30), 5);
    await expect(session.runBatch(prompts(2), 5)).rejects.toThrow(/already running/);
    await first;
  });
});

describe('WorkbenchSession.load', () => {
  it('rejects with CancelledError when the load is cancelled, and loads again afterwards', async () => {
    let signalSeen: AbortSignal | undefined;
    let slow = true;
    const slowLoader: PairOpener = (pair, opts) =>
      slow
        ? new Promise<DifferentialBackend>((resolve, reject) => {
            signalSeen = opts?.signal;
            opts?.signal?.addEventListener('abort', () => reject(new CancelledError('Loading cancelled.')));
            const timer = setTimeout(() => void fakeLoader(pair, opts).then(resolve), 10_000);
            opts?.signal?.addEventListener('abort', () => clearTimeout(timer));
          })
        : fakeLoader(pair, opts);
    const session = new WorkbenchSession(slowLoader, APP);
    const loading = session.load(REQ, () => {});
    await new Promise((r) => setTimeout(r, 10));
    expect(signalSeen?.aborted).toBe(false);
    await session.cancelLoad();
    await expect(loading).rejects.toBeInstanceOf(CancelledError);
    expect(await session.info()).toBeNull();
    await expect(session.compare('x', 3)).rejects.toThrow(/No model pair is loaded/);
    slow = false;
    const info = await session.load(REQ, () => {});
    expect(info.vocabSize).toBeGreaterThan(0);
    expect((await session.compare('x', 3)).base).toHaveLength(3);
  });
});

describe('WorkbenchSession on a lost WebGPU device', () => {
  it('tells every subscriber, stops the batch in flight, and refuses further work with the reason', async () => {
    let lose: ((message: string) => void) | undefined;
    const loader: PairOpener = async (pair, opts) => {
      lose = opts?.onDeviceLost;
      return fakeLoader(pair, opts);
    };
    const session = new WorkbenchSession(loader, APP);
    const heard: string[] = [];
    await session.watchDevice((m) => heard.push(m));
    await session.load(REQ, () => {});
    expect(lose).toBeTypeOf('function');
    const batch = session.runBatch(prompts(60), 5, (p) => {
      if (p.done === 8) lose!('The WebGPU device was lost (destroyed).');
    });
    expect(await batch).toMatchObject({ prompts: 8, cancelled: true, stoppedBy: 'device lost' });
    expect(heard).toEqual(['The WebGPU device was lost (destroyed).']);
    await expect(session.compare('x', 3)).rejects.toBeInstanceOf(DeviceLostError);
    await expect(session.load(REQ, () => {})).rejects.toThrow(/device was lost/);
    // A watcher that arrives later (a remounted panel) hears it too.
    const late: string[] = [];
    await session.watchDevice((m) => late.push(m));
    expect(late).toEqual(heard);
  });
});

describe('WorkbenchSession: loading while work runs', () => {
  it('stops the batch after its chunk in flight and disposes the old pair only after it ended', async () => {
    const log: string[] = [];
    let loads = 0;
    const loader: PairOpener = async (pair, opts) => {
      const backend = await fakeLoader(pair, opts);
      const n = ++loads;
      const dispose = backend.dispose.bind(backend);
      backend.dispose = async () => {
        log.push(`dispose pair ${n}`);
        await dispose();
      };
      return backend;
    };
    const session = new WorkbenchSession(loader, APP);
    await session.load(REQ, () => {});
    let reload: Promise<unknown> | null = null;
    const batch = session
      .runBatch(prompts(60), 5, (p) => {
        log.push(`chunk ${p.done}`);
        if (p.done === 8) reload = session.load(REQ, () => {});
      })
      .then((r) => {
        log.push(`batch ended after ${r.prompts}`);
        return r;
      });
    expect(await batch).toMatchObject({ prompts: 8, cancelled: true });
    await reload;
    expect(log).toEqual(['chunk 8', 'batch ended after 8', 'dispose pair 1']);
    expect((await session.compare('x', 3)).base).toHaveLength(3);
  });
});
