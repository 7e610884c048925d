/**
 * A sweep's plan: its adapters in order (a glob's matches in natural order), its identity and its
 * shards (see sweep.ts for the whole picture).
 */
import { sha1Hex } from '../core/promptHash.ts';
import { sortedJsonValue } from '../core/sortedJson.ts';
import { SweepSpecError, type SweepSpec } from './sweepSpec.ts';
import type { SuiteSpec } from './types.ts';

/** One adapter of the sweep, resolved. */
export interface SweepAdapter {
  index: number;
  label: string;
  /** As written (a folder relative to the spec, or `<hub id>@<revision>`): what reports name. */
  ref: string;
  /** Where to open it: a folder (absolute path on this machine) or a hub repo. */
  location: { kind: 'dir'; path: string } | { kind: 'hub'; id: string; revision?: string };
}

/** A sweep ready to run: the suite, the base and every adapter, with the sweep's identity. */
export interface SweepPlan {
  specPath: string;
  identity: string;
  base: string;
  baseRevision: string | null;
  dtype: SweepSpec['dtype'];
  seed: number;
  /** The suite with the sweep's seed; its models are set per adapter (`suiteForAdapter`). */
  suite: SuiteSpec;
  /** The suite file as written in the sweep spec; null for an inline suite. */
  suitePath: string | null;
  adapters: SweepAdapter[];
}

/** Which shard of how many (1-based index). */
export interface Shard {
  index: number;
  count: number;
}

// ---------------------------------------------------------------------------------------------------
// Order and globs

const CHUNK = /(\d+)|(\D+)/g;

/**
 * Natural order: digit runs compare as numbers (checkpoint-9 before checkpoint-10), the rest as
 * text; equal up to leading zeros falls back to plain comparison, so the order is total.
 */
export function naturalCompare(a: string, b: string): number {
  const x = a.match(CHUNK) ?? [];
  const y = b.match(CHUNK) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    const pn = /^\d/.test(p);
    const qn = /^\d/.test(q);
    if (pn && qn) {
      const d = BigInt(p) - BigInt(q);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (p !== q) return p < q ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A glob's last part (`*` any run, `?` one character, nothing else special) as a whole-name RegExp. */
export function globPattern(part: string): RegExp {
  const body = [...part]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'su');
}

/** What glob expansion needs of a file system (Node passes `fs`; tests a table). */
export interface FolderLister {
  /** The folder's entries that are folders; null when the folder does not exist. */
  subfolders(dir: string): string[] | null;
  /** Whether `dir` holds an adapter (`adapter_config.json`). */
  isAdapter(dir: string): boolean;
}

const join = (dir: string, name: string): string =>
  dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;

/**
 * The sweep's adapters in order: entries as written, each glob replaced by the matching folders that
 * hold an adapter, in natural order. Paths stay relative to `specDir` in `ref`; `resolvePath` makes
 * the location. A glob matching nothing and a label used twice are refused, naming the spec line.
 */
export function expandAdapters(
  spec: SweepSpec,
  specPath: string,
  lister: FolderLister,
  resolvePath: (relative: string) => string,
): SweepAdapter[] {
  const out: Omit<SweepAdapter, 'index'>[] = [];
  const lines: number[] = [];
  const problem = (line: number, path: string, message: string): never => {
    throw new SweepSpecError(specPath, [{ path, line, column: 1, message }]);
  };
  spec.adapters.forEach((e, i) => {
    if (e.glob !== undefined) {
      const trimmed = e.glob.replace(/\/+$/, '');
      const cut = trimmed.lastIndexOf('/');
      const dir = cut < 0 ? '' : trimmed.slice(0, cut);
      const pattern = globPattern(trimmed.slice(cut + 1));
      const names = lister.subfolders(resolvePath(dir === '' ? '.' : dir));
      const matches = (names ?? [])
        .filter((n) => pattern.test(n) && lister.isAdapter(resolvePath(join(dir, n))))
        .sort(naturalCompare);
      if (matches.length === 0)
        problem(
          e.line,
          `adapters[${i}].glob`,
          `"${e.glob}" matches no folder holding adapter_config.json` +
            (names === null ? ` (${dir || '.'} does not exist)` : ''),
        );
      for (const n of matches) {
        const ref = join(dir, n);
        out.push({ label: n, ref, location: { kind: 'dir', path: resolvePath(ref) } });
        lines.push(e.line);
      }
    } else if (e.path !== undefined) {
      const label = e.name ?? (e.path.replace(/\/+$/, '').split('/').at(-1) || e.path);
      out.push({ label, ref: e.path, location: { kind: 'dir', path: resolvePath(e.path) } });
      lines.push(e.line);
    } else {
      const id = e.hub!;
      const ref = e.revision !== undefined ? `${id}@${e.revision}` : id;
      out.push({
        label: e.name ?? ref,
        ref,
        location: { kind: 'hub', id, ...(e.revision !== undefined ? { revision: e.revision } : {}) },
      });
      lines.push(e.line);
    }
  });
  const seen = new Map<string, number>();
  out.forEach((a, i) => {
    const first = seen.get(a.label);
    if (first !== undefined)
      problem(
        lines[i]!,
        'adapters',
        `two adapters are labelled "${a.label}" (${out[first]!.ref} and ${a.ref}); labels name results and must be unique — give one a name`,
      );
    seen.set(a.label, i);
  });
  return out.map((a, index) => ({ index, ...a }));
}

// ---------------------------------------------------------------------------------------------------
// Plan, identity and shards

/** The suite with the sweep's seed applied (the spec's `seed` over the suite's `defaults.seed`). */
function seeded(suite: SuiteSpec, seed: number | null): SuiteSpec {
  return seed === null ? suite : { ...suite, defaults: { ...suite.defaults, seed } };
}

/** The plan for a parsed spec, its suite (read by the caller when it is a file) and its adapters. */
export function sweepPlan(
  spec: SweepSpec,
  specPath: string,
  suite: SuiteSpec,
  adapters: SweepAdapter[],
): SweepPlan {
  const s = seeded(suite, spec.seed);
  const identity = sha1Hex(
    new TextEncoder().encode(
      JSON.stringify(
        sortedJsonValue({
          base: spec.base,
          base_revision: spec.baseRevision,
          dtype: spec.dtype,
          suite: { defaults: s.defaults, probes: s.suite, hygiene: s.hygiene ?? null, dlm: s.dlm_source },
          adapters: adapters.map((a) => ({ label: a.label, ref: a.ref })),
        }),
      ),
    ),
  );
  return {
    specPath,
    identity,
    base: spec.base,
    baseRevision: spec.baseRevision,
    dtype: spec.dtype,
    seed: s.defaults.seed,
    suite: s,
    suitePath: 'path' in spec.suite ? spec.suite.path : null,
    adapters,
  };
}

/** The suite spec for one adapter: base and ft are the sweep's base, ft with the adapter on it. */
export function suiteForAdapter(plan: SweepPlan, adapter: SweepAdapter): SuiteSpec {
  const model = {
    kind: 'hf' as const,
    base: plan.base,
    adapter: null,
    dtype: plan.dtype,
    device: 'auto',
    trust_remote_code: false,
    entry_point: null,
    endpoint: null,
  };
  return { ...plan.suite, models: { base: model, ft: { ...model, adapter: adapter.ref } } };
}

/** Parses `i/n` (1 ≤ i ≤ n); null when malformed. */
export function parseShard(text: string): Shard | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : null;
}

/** The indices shard `index`/`count` runs out of `total` adapters: round robin (index ≡ i − 1 mod n). */
export function shardIndices(total: number, shard: Shard): number[] {
  const out: number[] = [];
  for (let i = shard.index - 1; i < total; i += shard.count) out.push(i);
  return out;
}

/** The shard that holds adapter `index` among `count`. */
export const shardOf = (index: number, count: number): number => (index % count) + 1;
