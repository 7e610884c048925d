import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BackendInfo } from '../backend/types.ts';
import type {
  ComparePin,
  ContinuationPin,
  HeatmapPin,
  PinPair,
  ReportPin,
} from '../suite/reports/htmlPins.ts';
import type { CompareResult, ContinuationResult, HeatmapResult } from '../worker/workbenchApi.ts';

export type { ReportPin } from '../suite/reports/htmlPins.ts';

/** At most this many pins are kept; pinning another drops the oldest. */
export const PINS_MAX = 24;

let seq = 0;
const pinId = (kind: string, now: Date) => `${kind}-${now.getTime().toString(36)}-${(seq++).toString(36)}`;

/** The loaded pair as a pin records it. */
export function pinPair(
  info: Pick<BackendInfo, 'pairId' | 'baseModel' | 'ftModel' | 'dtype' | 'device'>,
): PinPair {
  return {
    pairId: info.pairId,
    label: `${info.baseModel} vs ${info.ftModel}`,
    dtype: info.dtype,
    device: info.device,
  };
}

const withPair = (pair: PinPair | null) => (pair !== null ? { pair } : {});

/** A Compare result as a pin (plain arrays, so it stores as it is). */
export function pinFromCompare(r: CompareResult, now: Date, pair: PinPair | null = null): ComparePin {
  const rows = (xs: CompareResult['base']) => xs.map(({ id, token, logprob }) => ({ id, token, logprob }));
  return {
    kind: 'compare',
    id: pinId('compare', now),
    ...withPair(pair),
    pinnedAt: now.toISOString(),
    view: r.view,
    prompt: r.prompt,
    topK: r.topK,
    base: rows(r.base),
    ft: rows(r.ft),
    divergence: { ...r.divergence },
    baseMass: r.baseMass,
    ftMass: r.ftMass,
  };
}

/** A continuation score as a pin, with the prompt and continuation it was scored on. */
export function pinFromContinuation(
  r: ContinuationResult,
  prompt: string,
  continuation: string,
  now: Date,
  pair: PinPair | null = null,
): ContinuationPin {
  return {
    kind: 'continuation',
    id: pinId('continuation', now),
    ...withPair(pair),
    pinnedAt: now.toISOString(),
    view: r.view,
    prompt,
    continuation,
    base: r.base,
    ft: r.ft,
    delta: r.delta,
    numTokens: r.numTokens,
  };
}

/** A heatmap as a pin: its tokens and each side's per-token log-probs (typed arrays made plain). */
export function pinFromHeatmap(r: HeatmapResult, now: Date, pair: PinPair | null = null): HeatmapPin {
  return {
    kind: 'heatmap',
    id: pinId('heatmap', now),
    ...withPair(pair),
    pinnedAt: now.toISOString(),
    view: r.view,
    tokens: [...r.tokens],
    baseLogprobs: Array.from(r.base.logprobs),
    ftLogprobs: Array.from(r.ft.logprobs),
    baseMeanLogprob: r.base.meanLogprob,
    ftMeanLogprob: r.ft.meanLogprob,
    basePerplexity: r.base.perplexity,
    ftPerplexity: r.ft.perplexity,
  };
}

const clip = (s: string, n = 48) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** One line naming a pin in the list: what it is, which view, on what text, on which pair. */
export function pinLabel(p: ReportPin): string {
  const on = p.pair !== undefined ? ` · on ${clip(p.pair.label, 40)}` : '';
  if (p.kind === 'compare') return `Compare · base vs ${p.view} · “${clip(p.prompt)}”${on}`;
  if (p.kind === 'continuation')
    return `Continuation · base vs ${p.view} · “${clip(p.continuation, 32)}” after “${clip(p.prompt, 32)}”${on}`;
  return `Heatmap · base vs ${p.view} · “${clip(p.tokens.join(''))}”${on}`;
}

const isPin = (v: unknown): v is ReportPin => {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Partial<ReportPin>;
  if (typeof p.id !== 'string' || typeof p.view !== 'string') return false;
  if (p.kind === 'compare')
    return Array.isArray(p.base) && Array.isArray(p.ft) && typeof p.prompt === 'string';
  if (p.kind === 'continuation') return typeof p.prompt === 'string' && typeof p.delta === 'number';
  if (p.kind === 'heatmap') return Array.isArray(p.tokens) && Array.isArray(p.baseLogprobs);
  return false;
};

/** Where pins outlive a reload. */
export interface PinStore {
  load(): Promise<ReportPin[]>;
  save(pins: readonly ReportPin[]): Promise<void>;
}

interface PinDb extends DBSchema {
  pins: { key: string; value: ReportPin[] };
}

/**
 * Pins in IndexedDB: a database of their own holding the list under one key. Any storage failure
 * (private mode, quota) leaves the pins in page state only; a malformed entry is dropped on read.
 */
export function idbPinStore(name = 'deltascope-report-pins'): PinStore {
  let db: Promise<IDBPDatabase<PinDb>> | null = null;
  const open = () => {
    db ??= openDB<PinDb>(name, 1, {
      upgrade(d) {
        d.createObjectStore('pins');
      },
    });
    db.catch(() => (db = null));
    return db;
  };
  return {
    async load() {
      try {
        const v = await (await open()).get('pins', 'pins');
        return Array.isArray(v) ? v.filter(isPin) : [];
      } catch {
        return [];
      }
    },
    async save(pins) {
      try {
        await (await open()).put('pins', [...pins], 'pins');
      } catch {
        // Kept for this page only.
      }
    },
  };
}

export interface ReportPins {
  pins: readonly ReportPin[];
  add(pin: ReportPin): void;
  remove(id: string): void;
  clear(): void;
}

let defaultStore: PinStore | null = null;

/**
 * The page's pins: loaded from the store once, saved on every change. A pin added before the load
 * finishes is kept after the stored ones.
 */
export function useReportPins(store?: PinStore): ReportPins {
  const storeRef = useRef<PinStore | null>(null);
  storeRef.current ??= store ?? (defaultStore ??= idbPinStore());
  const [pins, setPins] = useState<readonly ReportPin[]>([]);
  const loaded = useRef(false);

  useEffect(() => {
    let live = true;
    void storeRef.current!.load().then((stored) => {
      if (!live) return;
      loaded.current = true;
      setPins((now) => {
        const ids = new Set(now.map((p) => p.id));
        return [...stored.filter((p) => !ids.has(p.id)), ...now].slice(-PINS_MAX);
      });
    });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (loaded.current) void storeRef.current!.save(pins);
  }, [pins]);

  const add = useCallback((pin: ReportPin) => setPins((now) => [...now, pin].slice(-PINS_MAX)), []);
  const remove = useCallback((id: string) => setPins((now) => now.filter((p) => p.id !== id)), []);
  const clear = useCallback(() => setPins([]), []);
  return { pins, add, remove, clear };
}
