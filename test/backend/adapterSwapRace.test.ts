// swapAdapter checks for work in flight (and a disposed pair) again once the new adapter's files
// are read: a forward pass started during the read would otherwise finish on the old feeds and
// put the old adapter's numbers into the cache the swap has just emptied, under the new adapter's
// name. The refused swap changes nothing; once the pass is done the same swap goes through.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterPairBackend } from '../../src/backend/adapterPair.ts';
import { openPair } from '../../src/backend/index.ts';
import type { ModelFiles } from '../../src/backend/modelFiles.ts';
import { resolveAdapterPair, type ModelSource } from '../../src/backend/modelSource.ts';
import { nodeResolveContext } from '../../src/backend/nodeModelFiles.ts';
import { StateError } from '../../src/core/errors.ts';
import { writeScaledDemoAdapter } from './adapterSwapFixtures.ts';

const BASE = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo', 'base');
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-adapter-swap-race-'));
const half = writeScaledDemoAdapter(join(scratch, 'half'), 0.5);
const full = writeScaledDemoAdapter(join(scratch, 'full'), 1.5);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

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

/** The adapter's files, running `during` when the first of them is read. */
function readingWith(files: ModelFiles, during: () => void): ModelFiles {
  let ran = false;
  return {
    label: files.label,
    fetch: (path, init) => {
      if (!ran) {
        ran = true;
        during();
      }
      return files.fetch(path, init);
    },
  };
}

describe('AdapterPairBackend.swapAdapter while its files are read', () => {
  it('refuses when a forward pass starts during the read, changes nothing, and swaps once it is done', async () => {
    const b = await open(half);
    try {
      const ref = resolveAdapterPair(source(full), nodeResolveContext());
      const before = { identity: b.nullIdentity, pairId: b.info.pairId, ftModel: b.info.ftModel };
      let release!: (v: number[]) => void;
      let flight: Promise<unknown> | undefined;
      const racing = readingWith(ref.adapter, () => {
        // A computation that will write its value into the cache when it ends.
        flight = b.instrumentation.cached(
          'nextTokenDist',
          'ft',
          'The town of',
          8,
          () => new Promise<number[]>((r) => (release = r)),
        );
      });
      const err = await b.swapAdapter(racing, { pairId: ref.pairId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      expect((err as Error).message).toContain(
        'while 1 forward pass is running (started while its files were read); wait for them',
      );
      expect({ identity: b.nullIdentity, pairId: b.info.pairId, ftModel: b.info.ftModel }).toEqual(before);
      release([1]);
      await flight;
      expect(b.instrumentation.cache.size).toBe(1);
      await b.swapAdapter(ref.adapter, { pairId: ref.pairId });
      expect(b.info.pairId).toBe(ref.pairId);
      // The old adapter's value is gone with the swap.
      expect(b.instrumentation.cache.size).toBe(0);
    } finally {
      await b.dispose();
    }
  }, 60_000);

  it('refuses when the pair is disposed during the read', async () => {
    const b = await open(half);
    const ref = resolveAdapterPair(source(full), nodeResolveContext());
    let disposing: Promise<void> | undefined;
    const racing = readingWith(ref.adapter, () => (disposing = b.dispose()));
    const err = await b.swapAdapter(racing, { pairId: ref.pairId }).catch((e: unknown) => e);
    await disposing;
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toContain('the pair is disposed (disposed while its files were read)');
  }, 60_000);
});
