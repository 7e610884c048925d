import { z } from 'zod';

/**
 * The workbench's one settings object: what the page remembers between visits (the pair it opened
 * last, device, dtype, top-k, the prompt history, the suite spec, batch and chart sizes). It is
 * stored as one JSON value under one key with a `version`, and validated on every read: a value that
 * is corrupt, of another version or of the wrong shape falls back to defaults (section by section,
 * so one bad field does not cost the rest) with a notice for the user, never an exception.
 *
 * This module is the only code that touches `localStorage`; everything else takes a
 * `SettingsStorage`, so tests pass an in-memory one.
 */

export const SETTINGS_KEY = 'deltascope.settings';
export const SETTINGS_VERSION = 1;

/** The keys of the three values the page stored before there was one settings object. */
export const LEGACY_KEYS = {
  modelChoice: 'deltascope.lastModelChoice',
  promptHistory: 'deltascope.promptHistory',
  suiteSpec: 'deltascope.suiteSpec',
} as const;

export const DEVICES = ['auto', 'webgpu', 'wasm'] as const;
export const DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const;
export const HISTORY_MAX = 20;

/**
 * The pair to open on the next visit. Picked folders cannot be reopened, so they are not kept.
 * `demo` with `adapter: true` is the demo base plus its PEFT adapter; `hub-adapter` is a hub base
 * repo plus a hub adapter repo, each at its own revision (runtime LoRA). Both were added within
 * version 1: older values (without them) read as before.
 */
const rememberedPair = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('demo'), adapter: z.boolean().optional() }),
  z.object({
    kind: z.literal('hub'),
    base: z.string().min(1),
    ft: z.string().min(1),
    revision: z.string().default('main'),
    host: z.string().default(''),
  }),
  z.object({
    kind: z.literal('hub-adapter'),
    base: z.string().min(1),
    baseRevision: z.string().default('main'),
    adapter: z.string().min(1),
    adapterRevision: z.string().default('main'),
    host: z.string().default(''),
  }),
]);

const modelSection = z.object({
  pair: rememberedPair.default({ kind: 'demo' }),
  device: z.enum(DEVICES).default('auto'),
  dtype: z.enum(DTYPES).default('fp32'),
});

const probeSection = z.object({
  topK: z.int().min(1).max(256).default(10),
  /** Greedy tokens per view for Generate. */
  generateTokens: z.int().min(1).max(512).default(32),
  /** Recent prompts, newest first. */
  history: z
    .array(z.string())
    .default([])
    .transform((h) => h.slice(0, HISTORY_MAX)),
});

const batchSection = z.object({
  /** Prompts in the "Run N-prompt batch" load. */
  prompts: z.int().min(1).max(10_000).default(200),
  topK: z.int().min(1).max(256).default(32),
});

const chartsSection = z.object({
  /** Lookups in the hit-rate chart's rolling window. */
  rollingWindow: z.int().min(1).max(10_000).default(50),
});

const suiteSection = z.object({
  /** The spec in the editor; null: the first bundled example. */
  spec: z.string().nullable().default(null),
});

const SECTIONS = {
  model: modelSection,
  probe: probeSection,
  batch: batchSection,
  charts: chartsSection,
  suite: suiteSection,
} as const;
type SectionName = keyof typeof SECTIONS;
const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

export const settingsSchema = z.object({
  version: z.literal(SETTINGS_VERSION),
  model: modelSection.default(() => modelSection.parse({})),
  probe: probeSection.default(() => probeSection.parse({})),
  batch: batchSection.default(() => batchSection.parse({})),
  charts: chartsSection.default(() => chartsSection.parse({})),
  suite: suiteSection.default(() => suiteSection.parse({})),
});

export type Settings = z.infer<typeof settingsSchema>;
export type RememberedPair = Settings['model']['pair'];
export type DeviceSetting = Settings['model']['device'];
export type Dtype = Settings['model']['dtype'];

/** A fresh copy of the defaults (callers may mutate what they get). */
export function defaultSettings(): Settings {
  return settingsSchema.parse({ version: SETTINGS_VERSION });
}

/** What the module needs of `Storage`; `localStorage` is one, a Map-backed object in tests another. */
export type SettingsStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface SettingsRead {
  settings: Settings;
  /** Set when stored settings could not be used as they were: say so once, in words. */
  notice: string | null;
}

/** The page's `localStorage`, or null where it is unavailable (blocked site data, some private modes). */
export function browserStorage(): SettingsStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function safeGet(storage: SettingsStorage, key: string): string | null {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

/** Stores the settings; false when storage refused (quota, blocked), which is not worth an error. */
export function writeSettings(storage: SettingsStorage | null, settings: Settings): boolean {
  if (storage === null) return false;
  try {
    storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the settings. Never throws: no stored value gives the defaults (after migrating the old
 * keys once, if present); an unusable one gives defaults for the sections it got wrong and a notice.
 * A repaired value is written back, so the notice shows once, not on every visit.
 */
export function readSettings(storage: SettingsStorage | null): SettingsRead {
  if (storage === null) return { settings: defaultSettings(), notice: null };
  const raw = safeGet(storage, SETTINGS_KEY);
  if (raw === null) return migrateLegacy(storage);
  const { settings, notice, keep } = parseSettings(raw);
  if (notice !== null && !keep) writeSettings(storage, settings);
  return { settings, notice };
}

/**
 * Parses a stored value. `keep` is true when the value must not be overwritten on read (written by a
 * newer version: going back to it should find it intact).
 */
export function parseSettings(raw: string): SettingsRead & { keep: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return {
      settings: defaultSettings(),
      notice: 'Saved settings were not readable (not JSON), so the defaults are in use.',
      keep: false,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      settings: defaultSettings(),
      notice: 'Saved settings were not a settings object, so the defaults are in use.',
      keep: false,
    };
  }
  const obj = value as Record<string, unknown>;
  if (obj.version !== SETTINGS_VERSION) {
    const newer = typeof obj.version === 'number' && obj.version > SETTINGS_VERSION;
    return {
      settings: defaultSettings(),
      notice: newer
        ? `Saved settings are from a newer deltascope (version ${obj.version}), so the defaults are in use.`
        : `Saved settings have an unknown version (${JSON.stringify(obj.version) ?? 'none'}), so the defaults are in use.`,
      keep: newer,
    };
  }
  const whole = settingsSchema.safeParse(obj);
  if (whole.success) return { settings: whole.data, notice: null, keep: false };
  // Keep every section that is valid; default the others.
  const settings = defaultSettings();
  const reset: SectionName[] = [];
  for (const name of SECTION_NAMES) {
    const part = SECTIONS[name].safeParse(obj[name] === undefined ? {} : obj[name]);
    if (part.success) (settings as Record<SectionName, unknown>)[name] = part.data;
    else reset.push(name);
  }
  return {
    settings,
    notice: `Some saved settings were invalid (${reset.join(', ')}); those are back to their defaults.`,
    keep: false,
  };
}

/**
 * Moves the values of the old keys into one settings object, once: the object is written and the
 * old keys removed. A bad old value is dropped quietly (it was never shown as a setting).
 */
function migrateLegacy(storage: SettingsStorage): SettingsRead {
  const settings = defaultSettings();
  const legacy = Object.values(LEGACY_KEYS).map((k) => safeGet(storage, k));
  if (legacy.every((v) => v === null)) return { settings, notice: null };
  const [choice, history, spec] = legacy;
  const json = (s: string | null | undefined): unknown => {
    try {
      return s == null ? undefined : JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  const c = json(choice) as { source?: unknown; device?: unknown; dtype?: unknown } | undefined;
  if (c !== undefined && c !== null && typeof c === 'object') {
    const model = modelSection.safeParse({ pair: c.source, device: c.device, dtype: c.dtype });
    if (model.success) settings.model = model.data;
    else {
      // Take what is valid field by field.
      const pair = rememberedPair.safeParse(c.source);
      if (pair.success) settings.model.pair = pair.data;
      const device = z.enum(DEVICES).safeParse(c.device);
      if (device.success) settings.model.device = device.data;
      const dtype = z.enum(DTYPES).safeParse(c.dtype);
      if (dtype.success) settings.model.dtype = dtype.data;
    }
  }
  const h = z.array(z.string()).safeParse(json(history));
  if (h.success) settings.probe.history = h.data.slice(0, HISTORY_MAX);
  if (spec != null) settings.suite.spec = spec;
  if (writeSettings(storage, settings)) {
    for (const k of Object.values(LEGACY_KEYS)) {
      try {
        storage.removeItem(k);
      } catch {
        // Left behind: harmless, the new key wins from now on.
      }
    }
  }
  return { settings, notice: null };
}
