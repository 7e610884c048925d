// Swapping an adapter on a loaded base (AdapterPairBackend.swapAdapter, what a sweep does between
// checkpoints): after the swap every view computes what a fresh load of the new adapter computes —
// also for prompts the old adapter had already answered (a stale forward cache would give the old
// adapter's numbers under the new adapter's name) — and the null-stats identity is the new
// adapter's. An adapter of another rank is refused with model-load/mismatch and changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterPairBackend } from '../../src/backend/adapterPair.ts';
import { openPair, type ScoringView } from '../../src/backend/index.ts';
import { resolveAdapterPair, type ModelSource } from '../../src/backend/modelSource.ts';
import { nodeResolveContext } from '../../src/backend/nodeModelFiles.ts';
import { errorCode } from '../../src/core/errors.ts';
import { writeLowerRankDemoAdapter, writeScaledDemoAdapter } from './adapterSwapFixtures.ts';

const BASE = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo', 'base');
const PROMPTS = ['The town of', 'Every spring the keeper', 'The most famous lantern is called the'];
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-adapter-swap-'));
const half = writeScaledDemoAdapter(join(scratch, 'half'), 0.5);
const full = writeScaledDemoAdapter(join(scratch, 'full'), 1.5);
const rank4 = writeLowerRankDemoAdapter(join(scratch, 'rank4'), 4);

const source = (adapter: string): Extract<ModelSource, { kind: 'pair' }> => ({
  kind: 'pair',
  base: { kind: 'dir', path: BASE },
  ft: { kind: 'adapter', base: { kind: 'dir', path: BASE }, adapter: { kind: 'dir', path: adapter } },
});

async function open(adapter: string): Promise<AdapterPairBackend> {
  const b = await openPair(source(adapter), { warmup: false });
  if (!(b instanceof AdapterPairBackend)) throw new Error('expected runtime LoRA');
  return b;
}

/** What swapAdapter takes for a folder: its files and the pair's identity. */
function swapArgs(adapter: string) {
  const ref = resolveAdapterPair(source(adapter), nodeResolveContext());
  return { files: ref.adapter, pairId: ref.pairId };
}

/** Every prompt's top-64 next-token logprobs. */
async function dists(view: ScoringView): Promise<number[][]> {
  const d = await view.nextTokenDistBatch(PROMPTS, { topK: 64 });
  return d.map((x) => [...x.tokenIds, ...Array.from(x.logprobs)]);
}

const maxDiff = (a: number[][], b: number[][]): number =>
  Math.max(...a.flatMap((row, r) => row.map((v, i) => Math.abs(v - b[r]![i]!))));

let swapped: AdapterPairBackend;
let fresh: AdapterPairBackend;

beforeAll(async () => {
  [swapped, fresh] = await Promise.all([open(half), open(full)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([swapped?.dispose(), fresh?.dispose()]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('AdapterPairBackend.swapAdapter', () => {
  it('after a swap, ft, a scaled view made before it and a null view compute what a fresh load of the new adapter does, cached prompts included', async () => {
    const scaledBefore = swapped.scaledView(0.5);
    const ftHalf = await dists(swapped.ft);
    const baseBefore = await dists(swapped.base);
    await dists(scaledBefore);
    await dists(swapped.nullView(3));
    const identityBefore = swapped.nullIdentity;
    expect(swapped.instrumentation.cache.size).toBeGreaterThan(0);

    const { files, pairId } = swapArgs(full);
    await swapped.swapAdapter(files, { pairId });

    const ftFull = await dists(fresh.ft);
    // The same prompts again: answered for the new adapter, not from the old adapter's cache entries.
    expect(maxDiff(await dists(swapped.ft), ftFull)).toBeLessThan(1e-6);
    expect(maxDiff(ftHalf, ftFull)).toBeGreaterThan(1e-3);
    expect(maxDiff(await dists(scaledBefore), await dists(fresh.scaledView(0.5)))).toBeLessThan(1e-6);
    expect(maxDiff(await dists(swapped.nullView(3)), await dists(fresh.nullView(3)))).toBeLessThan(1e-6);
    expect(maxDiff(await dists(swapped.base), baseBefore)).toBe(0);

    expect(swapped.nullIdentity).not.toBe(identityBefore);
    expect(swapped.nullIdentity).toBe(fresh.nullIdentity);
    expect(swapped.info.pairId).toBe(fresh.info.pairId);
    expect(swapped.info.ftModel).toBe(fresh.info.ftModel);
    expect(swapped.adapter.modules[0]!.b).toEqual(fresh.adapter.modules[0]!.b);
    // What a report's provenance says: the new adapter and its files' hashes.
    expect(swapped.info.models).toEqual(fresh.info.models);
    expect(swapped.info.files).toEqual(fresh.info.files);
    expect(swapped.info.files!.filter((f) => f.role === 'adapter')).toHaveLength(2);
  }, 120_000);

  it('the same folder retrained in place (same pairId, new weights) is recomputed too', async () => {
    const dir = join(scratch, 'retrained');
    writeScaledDemoAdapter(dir, 0.5);
    const { files, pairId } = swapArgs(dir);
    await swapped.swapAdapter(files, { pairId });
    const before = await dists(swapped.ft);
    writeScaledDemoAdapter(dir, 1.5);
    await swapped.swapAdapter(files, { pairId });
    expect(maxDiff(await dists(swapped.ft), await dists(fresh.ft))).toBeLessThan(1e-6);
    expect(maxDiff(before, await dists(swapped.ft))).toBeGreaterThan(1e-3);
  }, 120_000);

  it('refuses an adapter of another rank with model-load/mismatch, naming the module and ranks, and keeps the loaded one', async () => {
    const { files, pairId } = swapArgs(full);
    await swapped.swapAdapter(files, { pairId });
    const identity = swapped.nullIdentity;
    const before = await dists(swapped.ft);
    const bad = swapArgs(rank4);
    const err = await swapped.swapAdapter(bad.files, { pairId: bad.pairId }).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('model-load/mismatch');
    expect(String((err as Error).message)).toMatch(/lm_head has rank 4, the loaded adapter's has 8/);
    expect(swapped.nullIdentity).toBe(identity);
    expect(swapped.info.pairId).toBe(pairId);
    expect(await dists(swapped.ft)).toEqual(before);
  }, 120_000);
});
