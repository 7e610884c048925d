import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LEGACY_KEYS,
  SETTINGS_KEY,
  SETTINGS_VERSION,
  defaultSettings,
  readSettings,
  settingsSchema,
  writeSettings,
  type SettingsStorage,
} from '../../src/store/settings.ts';

/** An in-memory `Storage`. */
function memoryStorage(init: Record<string, string> = {}): SettingsStorage & { map: Map<string, string> } {
  const map = new Map(Object.entries(init));
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
  };
}

describe('settings', () => {
  it('reads the defaults from empty storage, without a notice', () => {
    const r = readSettings(memoryStorage());
    expect(r.notice).toBeNull();
    expect(r.settings).toEqual(defaultSettings());
    expect(r.settings.model).toEqual({ pair: { kind: 'demo' }, device: 'auto', dtype: 'fp32' });
    expect(r.settings.probe.topK).toBe(10);
    expect(r.settings.batch).toEqual({ prompts: 200, topK: 32 });
    expect(r.settings.suite.spec).toBeNull();
  });

  it('reads back what it wrote', () => {
    const storage = memoryStorage();
    const s = defaultSettings();
    s.model = {
      pair: { kind: 'hub', base: 'org/base', ft: 'org/ft', revision: 'v2', host: 'https://mirror/' },
      device: 'wasm',
      dtype: 'q8',
    };
    s.probe.history = ['a', 'b'];
    s.suite.spec = 'version: 1\n';
    expect(writeSettings(storage, s)).toBe(true);
    expect(readSettings(storage)).toEqual({ settings: s, notice: null });
  });

  it('a storage that throws reads as defaults and a write says false', () => {
    const broken: SettingsStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    };
    expect(readSettings(broken)).toEqual({ settings: defaultSettings(), notice: null });
    expect(writeSettings(broken, defaultSettings())).toBe(false);
    expect(readSettings(null).settings).toEqual(defaultSettings());
  });

  it('corrupt JSON falls back to defaults with a notice, and is repaired so the notice shows once', () => {
    const storage = memoryStorage({ [SETTINGS_KEY]: '{"version":1,' });
    const first = readSettings(storage);
    expect(first.settings).toEqual(defaultSettings());
    expect(first.notice).toMatch(/not readable/);
    expect(readSettings(storage).notice).toBeNull();
  });

  it('keeps the valid sections of a partly invalid value and names the ones it reset', () => {
    const stored = {
      version: SETTINGS_VERSION,
      model: { pair: { kind: 'demo' }, device: 'wasm', dtype: 'fp16' },
      probe: { topK: 'ten' },
      suite: { spec: 'x: 1' },
    };
    const r = readSettings(memoryStorage({ [SETTINGS_KEY]: JSON.stringify(stored) }));
    expect(r.notice).toMatch(/\(probe\)/);
    expect(r.settings.model.device).toBe('wasm');
    expect(r.settings.model.dtype).toBe('fp16');
    expect(r.settings.probe).toEqual(defaultSettings().probe);
    expect(r.settings.suite.spec).toBe('x: 1');
  });

  it('a missing field takes its default silently (no notice): settings may grow within a version', () => {
    const r = readSettings(
      memoryStorage({ [SETTINGS_KEY]: JSON.stringify({ version: 1, probe: { topK: 5 } }) }),
    );
    expect(r.notice).toBeNull();
    expect(r.settings.probe.topK).toBe(5);
    expect(r.settings.probe.generateTokens).toBe(32);
  });

  it('another version reads as defaults with a notice; a newer one is not overwritten', () => {
    const newer = JSON.stringify({ version: SETTINGS_VERSION + 1, model: { device: 'webgpu' } });
    const storage = memoryStorage({ [SETTINGS_KEY]: newer });
    const r = readSettings(storage);
    expect(r.settings).toEqual(defaultSettings());
    expect(r.notice).toMatch(/newer deltascope/);
    expect(storage.map.get(SETTINGS_KEY)).toBe(newer);

    const old = memoryStorage({ [SETTINGS_KEY]: JSON.stringify({ version: 0 }) });
    expect(readSettings(old).notice).toMatch(/unknown version/);
    expect(JSON.parse(old.map.get(SETTINGS_KEY)!)).toEqual(defaultSettings());
  });

  it('migrates the three old keys once, then removes them', () => {
    const storage = memoryStorage({
      [LEGACY_KEYS.modelChoice]: JSON.stringify({
        source: { kind: 'hub', base: 'org/b', ft: 'org/f', revision: 'main', host: 'https://m/' },
        device: 'webgpu',
        dtype: 'q4',
      }),
      [LEGACY_KEYS.promptHistory]: JSON.stringify(['p1', 'p2']),
      [LEGACY_KEYS.suiteSpec]: 'version: 1\nsuite: []\n',
    });
    const r = readSettings(storage);
    expect(r.notice).toBeNull();
    expect(r.settings.model).toEqual({
      pair: { kind: 'hub', base: 'org/b', ft: 'org/f', revision: 'main', host: 'https://m/' },
      device: 'webgpu',
      dtype: 'q4',
    });
    expect(r.settings.probe.history).toEqual(['p1', 'p2']);
    expect(r.settings.suite.spec).toBe('version: 1\nsuite: []\n');
    expect([...storage.map.keys()]).toEqual([SETTINGS_KEY]);
    expect(readSettings(storage).settings).toEqual(r.settings);
  });

  it('migration keeps the valid old fields and drops the bad ones', () => {
    const storage = memoryStorage({
      [LEGACY_KEYS.modelChoice]: JSON.stringify({ source: { kind: 'files' }, device: 'wasm', dtype: 'int3' }),
      [LEGACY_KEYS.promptHistory]: '[not json',
    });
    const r = readSettings(storage);
    expect(r.settings.model).toEqual({ pair: { kind: 'demo' }, device: 'wasm', dtype: 'fp32' });
    expect(r.settings.probe.history).toEqual([]);
  });

  it('the history is capped at 20 prompts', () => {
    const history = Array.from({ length: 30 }, (_, i) => `p${i}`);
    const r = readSettings(
      memoryStorage({ [SETTINGS_KEY]: JSON.stringify({ version: 1, probe: { history } }) }),
    );
    expect(r.settings.probe.history).toEqual(history.slice(0, 20));
  });

  it('any string stored under the key reads back as valid settings, never throws', () => {
    const jsonish = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({
          version: fc.oneof(fc.constant(SETTINGS_VERSION), fc.integer(), fc.string()),
          model: fc.anything(),
          probe: fc.oneof(fc.anything(), fc.record({ topK: fc.anything(), history: fc.anything() })),
          batch: fc.anything(),
          charts: fc.anything(),
          suite: fc.anything(),
        })
        .map((o) => JSON.stringify(o) ?? 'undefined'),
    );
    fc.assert(
      fc.property(jsonish, (raw) => {
        const storage = memoryStorage({ [SETTINGS_KEY]: raw });
        const r = readSettings(storage);
        expect(settingsSchema.safeParse(r.settings).success).toBe(true);
        // Whatever was repaired reads back the same, without a second notice.
        const again = readSettings(storage);
        expect(again.settings).toEqual(r.settings);
      }),
      { numRuns: 500 },
    );
  });
});
