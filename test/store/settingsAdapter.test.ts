// The base + adapter pairs in the remembered model (added within settings version 1): old values
// read as before, new ones round-trip, a bad one resets the model section only.
import { describe, expect, it } from 'vitest';
import { SETTINGS_KEY, defaultSettings, parseSettings, readSettings } from '../../src/store/settings.ts';

const stored = (model: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ version: 1, model, ...extra });

describe('settings: base + adapter pairs', () => {
  it('settings stored before adapters existed read unchanged, without a notice', () => {
    for (const pair of [
      { kind: 'demo' },
      { kind: 'hub', base: 'org/b', ft: 'org/f', revision: 'v1', host: '' },
    ]) {
      const r = parseSettings(stored({ pair, device: 'wasm', dtype: 'q8' }));
      expect(r.notice).toBeNull();
      expect(r.settings.model).toEqual({ pair, device: 'wasm', dtype: 'q8' });
    }
  });

  it('the demo adapter and a hub base + adapter round-trip', () => {
    for (const pair of [
      { kind: 'demo', adapter: true },
      {
        kind: 'hub-adapter',
        base: 'org/base',
        baseRevision: 'v1',
        adapter: 'org/lora',
        adapterRevision: 'r2',
        host: 'http://mirror/',
      },
    ]) {
      const r = parseSettings(stored({ pair, device: 'auto', dtype: 'fp32' }));
      expect(r.notice).toBeNull();
      expect(r.settings.model.pair).toEqual(pair);
    }
  });

  it('a hub base + adapter without revisions or host takes the defaults', () => {
    const r = parseSettings(stored({ pair: { kind: 'hub-adapter', base: 'a/b', adapter: 'a/c' } }));
    expect(r.notice).toBeNull();
    expect(r.settings.model.pair).toEqual({
      kind: 'hub-adapter',
      base: 'a/b',
      baseRevision: 'main',
      adapter: 'a/c',
      adapterRevision: 'main',
      host: '',
    });
  });

  it('a hub base + adapter with no adapter repo resets the model section only, with a notice', () => {
    const map = new Map([
      [
        SETTINGS_KEY,
        stored(
          { pair: { kind: 'hub-adapter', base: 'a/b', adapter: '' }, device: 'wasm' },
          { probe: { topK: 7 } },
        ),
      ],
    ]);
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
      removeItem: (k: string) => void map.delete(k),
    };
    const r = readSettings(storage);
    expect(r.notice).toContain('(model)');
    expect(r.settings.model).toEqual(defaultSettings().model);
    expect(r.settings.probe.topK).toBe(7);
  });
});
