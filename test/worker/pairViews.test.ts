// What the worker tells the page about the loaded pair's views, and compare on a named view, on the
// fake source: with adapter views (runtime LoRA) and without (two full models).
import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { DeltascopeError } from '../../src/core/index.ts';
import { installErrorTransfer } from '../../src/worker/errorTransfer.ts';
import type { WorkbenchApi } from '../../src/worker/workbenchApi.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import { APP, REQ, fakeLoader } from './sessionFixtures.ts';

async function session(adapterViews: boolean): Promise<WorkbenchSession> {
  const s = new WorkbenchSession(fakeLoader(), APP);
  await s.load({ ...REQ, source: { kind: 'fake', adapterViews } }, () => {});
  return s;
}

const PROMPT = 'The festival begins when the keeper of the';

describe('pair views in load / info, and compare on a view', () => {
  it('load and info report scaled and null views on a base + adapter pair', async () => {
    const fresh = new WorkbenchSession(fakeLoader(), APP);
    expect(await fresh.info()).toBeNull();
    const info = await fresh.load({ ...REQ, source: { kind: 'fake', adapterViews: true } }, () => {});
    expect(info.views).toEqual({ scalable: true, nullCalibrated: true });
    expect(info.baseModel).toBe('fake-base');
    expect((await fresh.info())?.views).toEqual({ scalable: true, nullCalibrated: true });
  });

  it('a pair of two full models reports neither', async () => {
    const s = await session(false);
    expect((await s.info())?.views).toEqual({ scalable: false, nullCalibrated: false });
  });

  it('scaled_0 equals base (JS 0), scaled_1 gives ft’s numbers, and each result names its view', async () => {
    const s = await session(true);
    const ft = await s.compare(PROMPT, 5);
    expect(ft.view).toBe('ft');
    expect(ft.divergence.js).toBeGreaterThan(1e-3);
    const zero = await s.compare(PROMPT, 5, 'scaled_0.00');
    expect(zero.view).toBe('scaled_0.00');
    expect(zero.divergence.js).toBeLessThan(1e-9);
    expect(zero.ft.map((r) => r.id)).toEqual(zero.base.map((r) => r.id));
    const one = await s.compare(PROMPT, 5, 'scaled_1');
    expect(one.view).toBe('scaled_1.00');
    expect(one.ft.map((r) => r.id)).toEqual(ft.ft.map((r) => r.id));
    expect(one.divergence.js).toBeCloseTo(ft.divergence.js, 9);
    const half = await s.compare(PROMPT, 5, 'scaled_0.50');
    expect(half.divergence.js).toBeGreaterThan(zero.divergence.js);
    expect(half.divergence.js).toBeLessThan(ft.divergence.js);
    const nul = await s.compare(PROMPT, 5, 'null_1000');
    expect(nul.view).toBe('null_1000');
    expect(nul.divergence.js).toBeGreaterThan(0);
  });

  it('continuation, heatmap and generate set base against the named view too', async () => {
    const s = await session(true);
    const zeroC = await s.scoreContinuation(PROMPT, ' lamp', 'scaled_0');
    expect(zeroC.view).toBe('scaled_0.00');
    expect(zeroC.delta).toBe(0);
    const ftC = await s.scoreContinuation(PROMPT, ' lamp');
    expect(ftC.view).toBe('ft');
    expect(ftC.delta).not.toBe(0);
    expect((await s.scoreContinuation(PROMPT, ' lamp', 'scaled_1')).ft).toBeCloseTo(ftC.ft, 9);
    const zeroH = await s.heatmap(PROMPT, 'scaled_0');
    expect(zeroH.view).toBe('scaled_0.00');
    expect(Array.from(zeroH.ft.logprobs)).toEqual(Array.from(zeroH.base.logprobs));
    expect((await s.heatmap(PROMPT, 'null_7')).view).toBe('null_7');
    const gen = await s.generate(PROMPT, 4, 'scaled_0');
    expect(gen.view).toBe('scaled_0.00');
    expect(gen.ft).toBe(gen.base);
    await expect(s.heatmap(PROMPT, 'scaled_x')).rejects.toThrow(/unknown view "scaled_x"/);
  });

  it('each λ is its own view with its own cache entries; repeating one is a hit', async () => {
    const s = await session(true);
    await s.compare(PROMPT, 5, 'scaled_0.25');
    const after = await s.stats();
    await s.compare(PROMPT, 5, 'scaled_0.25');
    const again = await s.stats();
    expect(again.cache_misses).toBe(after.cache_misses);
    expect(again.cache_hits).toBe(after.cache_hits + 2);
    await s.compare(PROMPT, 5, 'scaled_0.30');
    expect((await s.stats()).cache_misses).toBe(after.cache_misses + 1);
  });

  it('adapter views on a two-full-models pair are refused with the reason', async () => {
    const s = await session(false);
    await expect(s.compare(PROMPT, 5, 'scaled_0.50')).rejects.toThrow(/needs runtime LoRA/);
    await expect(s.compare(PROMPT, 5, 'null_1000')).rejects.toThrow(/two full models/);
    await expect(s.compare(PROMPT, 5, 'nope')).rejects.toThrow(/unknown view "nope"/);
  });
});

describe('views across a Comlink channel', () => {
  it('load reports the views; a refused adapter view arrives as input/invalid naming the view', async () => {
    installErrorTransfer();
    const channel = new MessageChannel();
    try {
      Comlink.expose(new WorkbenchSession(fakeLoader(), APP), channel.port1);
      const remote = Comlink.wrap<WorkbenchApi>(channel.port2);
      const full = await remote.load(
        { ...REQ, source: { kind: 'fake', adapterViews: false } },
        Comlink.proxy(() => {}),
      );
      expect(full.views).toEqual({ scalable: false, nullCalibrated: false });
      const err = await remote.compare(PROMPT, 3, 'scaled_0.50').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DeltascopeError);
      expect((err as DeltascopeError).code).toBe('input/invalid');
      expect((err as DeltascopeError).input).toBe('scaled_0.50');
      const lora = await remote.load(
        { ...REQ, source: { kind: 'fake', adapterViews: true } },
        Comlink.proxy(() => {}),
      );
      expect(lora.views).toEqual({ scalable: true, nullCalibrated: true });
      expect((await remote.compare(PROMPT, 3, 'null_7')).view).toBe('null_7');
    } finally {
      channel.port1.close();
      channel.port2.close();
    }
  });
});
