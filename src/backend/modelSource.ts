import { DeltascopeError } from '../core/errors.ts';
import { ModelLoadError } from './errors.ts';
import { httpModelFiles, indexPickedFiles, pickedModelFiles, type ModelFiles } from './modelFiles.ts';

export const DEMO_PAIR_PATH = 'models/deltascope-demo';
export const DEFAULT_HUB_HOST = 'https://huggingface.co/';

/**
 * Where one model lives. Every kind but `custom` is plain data that crosses the worker boundary
 * (picked `File`s are structured-cloneable).
 */
export type ModelLocation =
  /** A hub repo, or a mirror / local server in the hub's layout (`<host>/<id>/resolve/<revision>/`). */
  | { kind: 'hub'; id: string; revision?: string; host?: string }
  /** A static model folder served over HTTP (e.g. under the app's own origin). */
  | { kind: 'url'; url: string; label?: string }
  /** Node: a folder on disk (onnxruntime-node opens the ONNX file by path). */
  | { kind: 'dir'; path: string; label?: string }
  /** Files the user picked in the browser (a folder picker's `webkitRelativePath`s, or flat files). */
  | { kind: 'files'; label: string; files: readonly File[] }
  /** Any `ModelFiles` (tests, tools): not cloneable, so never sent to the worker. */
  | { kind: 'custom'; files: ModelFiles; localDir?: string };

/**
 * What to open. `demo` is the bundled pair (`adapter: true`: its base plus its shipped PEFT adapter,
 * runtime LoRA); `pair` is any two locations, the ft side possibly a base plus a PEFT adapter
 * (`{ kind: 'adapter', base, adapter }`, whose base must be the pair's base); `fake` is the
 * deterministic fake (tests, benchmarks).
 */
export type ModelSource =
  | { kind: 'demo'; adapter?: boolean }
  | { kind: 'pair'; base: ModelLocation; ft: ModelLocation | AdapterLocation }
  | { kind: 'fake'; ftShift?: number; adapterViews?: boolean; pairId?: string };

/**
 * A base model with a PEFT LoRA adapter on top (runtime LoRA): `adapter` is the folder holding
 * `adapter_config.json` and `adapter_model.safetensors` (any location kind, a hub repo included).
 */
export interface AdapterLocation {
  kind: 'adapter';
  base: ModelLocation;
  adapter: ModelLocation;
}

/** One model of a resolved pair: its files plus how transformers.js should reach them. */
export interface ModelRef {
  files: ModelFiles;
  /** Set for hub models: loaded through transformers.js's own hub path, so its cache applies. */
  hub?: { id: string; revision: string; host: string };
  /** Node: a folder on disk, handed to onnxruntime-node by path. */
  localDir?: string;
}

/** A source resolved to files: what the loader reads. */
export interface PairRef {
  /** Identity of the pair; a shared cache is cleared when it changes. */
  pairId: string;
  base: ModelRef;
  ft: ModelRef;
}

/**
 * Where the demo pair lives: the app's root URL in the browser, the package's `public/` folder in Node
 * (the pair is `models/deltascope-demo/{base,ft}` below either).
 */
export type DemoRoot = { url: string } | { dir: string };

/** How a `dir` location becomes files (Node only: the caller passes `nodeModelFiles`' reader). */
export type DirectoryReader = (dir: string, label?: string) => ModelFiles & { localDir: string };

export interface ResolveContext {
  demoRoot?: DemoRoot;
  readDirectory?: DirectoryReader;
}

const REPO_ID = /^[\w.-]+(\/[\w.-]+)?$/;

/** Where a hub repo's files live at a revision: `<host>/<id>/resolve/<revision>/` (transformers.js's layout). */
export function hubRoot(hub: { id: string; revision: string; host: string }): string {
  const host = hub.host.endsWith('/') ? hub.host : `${hub.host}/`;
  return `${host}${hub.id}/resolve/${encodeURIComponent(hub.revision)}/`;
}

function hubRef(loc: Extract<ModelLocation, { kind: 'hub' }>): { id: string; ref: ModelRef } {
  const host = (loc.host?.trim() || DEFAULT_HUB_HOST).replace(/\/*$/, '/');
  const revision = loc.revision?.trim() || 'main';
  const id = loc.id.trim();
  if (!REPO_ID.test(id)) {
    throw new ModelLoadError(
      'model-load/bad-source',
      `"${loc.id}" is not a hub model id; expected "org/name" (letters, digits, '-', '_', '.').`,
      { input: loc.id },
    );
  }
  return {
    id: `hub:${host}|${id}@${revision}`,
    ref: {
      files: httpModelFiles(`hub model ${id}@${revision}`, hubRoot({ host, id, revision })),
      hub: { id, revision, host },
    },
  };
}

/** Picked files are identified by names and sizes, so a re-pick of other files is a new pair. */
function pickedSignature(files: ReadonlyMap<string, Blob>): string {
  return [...files.entries()]
    .map(([k, b]) => `${k}:${b.size}`)
    .sort()
    .join(',');
}

/** One location resolved to its files and identity (what `resolvePair` does per side). */
export function resolveLocation(loc: ModelLocation, ctx: ResolveContext): { id: string; ref: ModelRef } {
  switch (loc.kind) {
    case 'hub':
      return hubRef(loc);
    case 'url':
      return {
        id: `url:${loc.url}`,
        ref: { files: httpModelFiles(loc.label ?? `folder ${loc.url}`, loc.url) },
      };
    case 'dir': {
      if (ctx.readDirectory === undefined) {
        throw new ModelLoadError(
          'model-load/bad-source',
          `A folder on disk (${loc.path}) can only be opened in Node; in the browser pick the folder's files.`,
          { input: loc.path },
        );
      }
      const files = ctx.readDirectory(loc.path, loc.label);
      return { id: `dir:${files.localDir}`, ref: { files, localDir: files.localDir } };
    }
    case 'files': {
      const index = indexPickedFiles(loc.files);
      return {
        id: `files:${loc.label}[${pickedSignature(index)}]`,
        ref: { files: pickedModelFiles(`picked folder ${loc.label}`, index) },
      };
    }
    case 'custom':
      return {
        id: `custom:${loc.files.label}`,
        ref: { files: loc.files, ...(loc.localDir !== undefined ? { localDir: loc.localDir } : {}) },
      };
  }
}

function demoRootOf(ctx: ResolveContext): DemoRoot {
  if (ctx.demoRoot === undefined) {
    throw new ModelLoadError(
      'model-load/bad-source',
      'The demo pair has no location here: pass `demoRoot` (the app URL in the browser, a folder in Node).',
    );
  }
  return ctx.demoRoot;
}

function demoPair(ctx: ResolveContext): PairRef {
  const root = demoRootOf(ctx);
  if ('url' in root) {
    const base = new URL(`${DEMO_PAIR_PATH}/`, root.url).href;
    return {
      pairId: 'demo:deltascope-demo',
      base: { files: httpModelFiles('demo model base', `${base}base/`) },
      ft: { files: httpModelFiles('demo model ft', `${base}ft/`) },
    };
  }
  const dir = `${root.dir.replace(/\/*$/, '')}/${DEMO_PAIR_PATH}`;
  const pair = resolvePair(
    {
      kind: 'pair',
      base: { kind: 'dir', path: `${dir}/base`, label: 'demo model base' },
      ft: { kind: 'dir', path: `${dir}/ft`, label: 'demo model ft' },
    },
    ctx,
  );
  return { ...pair, pairId: 'demo:deltascope-demo' };
}

/** A base plus PEFT adapter resolved to files: one model, every view (runtime LoRA). */
export interface AdapterPairRef {
  /** Identity of base + adapter (the forward cache's and the null-stats cache's key). */
  pairId: string;
  base: ModelRef;
  /** The adapter folder: `adapter_config.json`, `adapter_model.safetensors`. */
  adapter: ModelFiles;
}

/** Whether a source is a base plus a PEFT adapter (opened as one rewritten model). */
export function isAdapterSource(source: ModelSource): boolean {
  return (
    (source.kind === 'demo' && source.adapter === true) ||
    (source.kind === 'pair' && source.ft.kind === 'adapter')
  );
}

/**
 * Resolves a base + adapter source (`isAdapterSource`). The ft side's base must be the pair's base:
 * one loaded model serves both views, so an adapter on another base is refused, naming both.
 */
export function resolveAdapterPair(
  source: Exclude<ModelSource, { kind: 'fake' }>,
  ctx: ResolveContext,
): AdapterPairRef {
  if (source.kind === 'demo') {
    const root = demoRootOf(ctx);
    if ('url' in root) {
      const demo = new URL(`${DEMO_PAIR_PATH}/`, root.url).href;
      return {
        pairId: 'demo:deltascope-demo+adapter',
        base: { files: httpModelFiles('demo model base', `${demo}base/`) },
        adapter: httpModelFiles('demo adapter', `${demo}adapter/`),
      };
    }
    const dir = `${root.dir.replace(/\/*$/, '')}/${DEMO_PAIR_PATH}`;
    const base = resolveLocation({ kind: 'dir', path: `${dir}/base`, label: 'demo model base' }, ctx);
    const adapter = resolveLocation({ kind: 'dir', path: `${dir}/adapter`, label: 'demo adapter' }, ctx);
    return { pairId: 'demo:deltascope-demo+adapter', base: base.ref, adapter: adapter.ref.files };
  }
  if (source.ft.kind !== 'adapter') {
    throw new DeltascopeError('internal', 'resolveAdapterPair: the ft side is not an adapter', {
      input: 'ft',
    });
  }
  const base = resolveLocation(source.base, ctx);
  const ftBase = resolveLocation(source.ft.base, ctx);
  if (ftBase.id !== base.id) {
    throw new ModelLoadError(
      'model-load/mismatch',
      `The adapter's base (${describeLocation(source.ft.base)}) is not the pair's base (${describeLocation(source.base)}); ` +
        'runtime LoRA serves both views from one base model, so open the adapter on the base it compares against.',
      { input: 'ft.base' },
    );
  }
  const adapter = resolveLocation(source.ft.adapter, ctx);
  return { pairId: `${base.id}+adapter:${adapter.id}`, base: base.ref, adapter: adapter.ref.files };
}

/** Resolves a file-backed source (`demo` or `pair`) to the files the loader reads. */
export function resolvePair(source: Exclude<ModelSource, { kind: 'fake' }>, ctx: ResolveContext): PairRef {
  if (source.kind === 'demo') return demoPair(ctx);
  const ftLoc = source.ft;
  if (ftLoc.kind === 'adapter') {
    throw new DeltascopeError(
      'internal',
      'A base + adapter source is one rewritten model, not a pair of folders: resolve it with resolveAdapterPair.',
      { input: 'adapter' },
    );
  }
  const base = resolveLocation(source.base, ctx);
  const ft = resolveLocation(ftLoc, ctx);
  return { pairId: `${base.id}|${ft.id}`, base: base.ref, ft: ft.ref };
}

/** A short label for a source (run titles, progress): "demo", or "<base> vs <ft>". */
export function describeLocation(loc: ModelLocation | AdapterLocation): string {
  switch (loc.kind) {
    case 'hub':
      return `${loc.id.trim()}@${loc.revision?.trim() || 'main'}`;
    case 'url':
      return loc.label ?? loc.url;
    case 'dir':
      return loc.label ?? loc.path;
    case 'files':
      return loc.label;
    case 'custom':
      return loc.files.label;
    case 'adapter':
      return `${describeLocation(loc.base)} + ${describeLocation(loc.adapter)}`;
  }
}
