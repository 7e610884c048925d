import {
  openPair,
  type DevicePreference,
  type DifferentialBackend,
  type ModelDtype,
  type ModelSource,
  viewByName,
} from '../backend/index.ts';
import { errorCode, errorMessage } from '../core/errors.ts';
import { compareViews } from '../worker/interactiveOps.ts';
import type { TokenRow } from '../worker/workbenchApi.ts';
import { UsageError } from './errors.ts';
import { cliLoadOptions, type CliIo } from './io.ts';
import { dtypeForSpec, modelLocation, resolveSpecModels } from './resolveModels.ts';
import { loadSpec } from './suiteCommand.ts';

export interface ProbeOptions {
  /** A suite spec whose `models` name the pair, or… */
  specPath?: string;
  /** …the two models directly (folder or hub id). */
  base?: string;
  ft?: string;
  /** Instead of `ft`: ft is `base` plus this PEFT adapter (folder or hub id), runtime LoRA. */
  adapter?: string;
  prompts: string[];
  topK: number;
  json: boolean;
  /** `--device` (default cpu); anything but cpu says on stderr which device was used. */
  device?: DevicePreference;
  /** `--view` names (base, ft, scaled_<λ>, null_<seed>), in order; base and ft when absent or empty. */
  views?: readonly string[];
}

/** One view's next-token distribution as `deltascope probe --json` writes it. */
export interface ProbeViewJson {
  token_ids: number[];
  tokens: string[];
  logprobs: number[];
  entropy: number;
  /** On a view other than base and ft (`scaled_<λ>`, `null_<seed>`): exact JS against base… */
  js?: number;
  /** …and KL(view ‖ base), in nats. */
  kl_view_base?: number;
}

/** One prompt's entry whatever views were listed. */
export interface ProbeViewsJson {
  prompt: string;
  /** The prompt's token ids as fed to the model, special tokens included. */
  token_ids: number[];
  /** One entry per listed view, keyed by its id (`scaled_0.5` is written `scaled_0.50`), in order. */
  views: Record<string, ProbeViewJson>;
}

/** One prompt's entry when base and ft are both listed (the default): their divergences follow. */
export interface ProbePromptJson extends ProbeViewsJson {
  js: number;
  kl_ft_base: number;
  kl_base_ft: number;
}

/** The views probed when `--view` is not given. */
export const DEFAULT_PROBE_VIEWS: readonly string[] = ['base', 'ft'];

function sourceOf(opts: ProbeOptions, io: CliIo): { source: ModelSource; dtype: ModelDtype } {
  if (opts.specPath !== undefined) {
    const { spec, specDir } = loadSpec(opts.specPath, io.cwd);
    return { source: resolveSpecModels(spec, specDir, io.env), dtype: dtypeForSpec(spec) };
  }
  const base = modelLocation('--base', opts.base!, io.cwd, io.env);
  if (opts.adapter !== undefined) {
    const adapter = modelLocation('--adapter', opts.adapter, io.cwd, io.env);
    return { source: { kind: 'pair', base, ft: { kind: 'adapter', base, adapter } }, dtype: 'fp32' };
  }
  return {
    source: { kind: 'pair', base, ft: modelLocation('--ft', opts.ft!, io.cwd, io.env) },
    dtype: 'fp32',
  };
}

/**
 * The listed views' ids, in order and without repeats (`scaled_0.5` and `scaled_0.50` are one view).
 * A name that is no view, or an adapter view on a pair of two full models, is a usage error naming it.
 */
export function probeViewIds(pair: DifferentialBackend, names: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const name of names) {
    try {
      ids.add(viewByName(pair, name).id);
    } catch (e) {
      if (errorCode(e) !== 'input/invalid') throw e;
      throw new UsageError(`--view: ${errorMessage(e)}`, 'probe', { input: '--view', cause: e });
    }
  }
  return [...ids];
}

/**
 * One prompt through the Compare panel's own computation (`compareViews`, `compare` for several
 * views: base is looked up once), in the JSON shape: each view's rows, and the exact divergences of
 * ft (top level, when base and ft are both listed) and of every other view (in its entry) from base.
 */
export async function probePrompt(
  pair: DifferentialBackend,
  prompt: string,
  topK: number,
  views: readonly string[] = DEFAULT_PROBE_VIEWS,
): Promise<ProbeViewsJson | ProbePromptJson> {
  const ids = probeViewIds(pair, views);
  // base is the reference every divergence is taken against; its rows come with each result.
  const against = ids.filter((id) => id !== 'base');
  const [results, encoded] = await Promise.all([
    compareViews(pair, prompt, topK, against.length > 0 ? against : ['base']),
    pair.base.tokenize(prompt),
  ]);
  const first = results[0]!;
  const entry = (rows: TokenRow[], entropy: number): ProbeViewJson => ({
    token_ids: rows.map((r) => r.id),
    tokens: rows.map((r) => r.token),
    logprobs: rows.map((r) => r.logprob),
    entropy,
  });
  const byId = new Map(results.map((c) => [c.view, c]));
  const out: Record<string, ProbeViewJson> = {};
  for (const id of ids) {
    if (id === 'base') {
      out.base = entry(first.base, first.divergence.entropyBase);
      continue;
    }
    const c = byId.get(id)!;
    out[id] = entry(c.ft, c.divergence.entropyFt);
    if (id !== 'ft') Object.assign(out[id], { js: c.divergence.js, kl_view_base: c.divergence.klFtBase });
  }
  const result: ProbeViewsJson = { prompt, token_ids: encoded.ids, views: out };
  const ft = byId.get('ft');
  if (!ids.includes('base') || ft === undefined) return result;
  const d = ft.divergence;
  return { ...result, js: d.js, kl_ft_base: d.klFtBase, kl_base_ft: d.klBaseFt };
}

const num = (x: number, digits = 4) => (x === Infinity ? '∞' : x.toFixed(digits));

const hasPairDivergence = (r: ProbeViewsJson | ProbePromptJson): r is ProbePromptJson =>
  'js' in r && typeof r.js === 'number';

function renderText(r: ProbeViewsJson | ProbePromptJson): string {
  const out = [`prompt: ${JSON.stringify(r.prompt)}`, `token ids: ${r.token_ids.join(' ')}`];
  const ids = Object.keys(r.views);
  const shown = new Set<string>();
  if (hasPairDivergence(r)) {
    out.push(
      `exact (full vocabulary): JS ${num(r.js)} · KL(ft‖base) ${num(r.kl_ft_base)} · KL(base‖ft) ${num(r.kl_base_ft)} nats; ` +
        `entropy base ${num(r.views.base!.entropy, 3)} · ft ${num(r.views.ft!.entropy, 3)}`,
    );
    shown.add('base').add('ft');
  }
  for (const id of ids) {
    const v = r.views[id]!;
    if (v.js === undefined || v.kl_view_base === undefined) continue;
    out.push(
      `exact (full vocabulary), ${id} against base: JS ${num(v.js)} · KL(${id}‖base) ${num(v.kl_view_base)} nats; ` +
        `entropy ${id} ${num(v.entropy, 3)}`,
    );
    shown.add(id);
  }
  const rest = ids.filter((id) => !shown.has(id));
  if (rest.length > 0)
    out.push(`entropy ${rest.map((id) => `${id} ${num(r.views[id]!.entropy, 3)}`).join(' · ')} nats`);
  const columns = ids.map((id) => r.views[id]!);
  const rows = Math.max(...columns.map((v) => v.token_ids.length));
  const cell = (v: ProbeViewJson, i: number) =>
    i < v.token_ids.length
      ? `${String(v.token_ids[i]).padStart(6)} ${JSON.stringify(v.tokens[i]).padEnd(16)} ${v.logprobs[i]!.toFixed(4).padStart(8)}`
      : ''.padEnd(32);
  const head = `${'id'.padStart(6)} ${'token'.padEnd(16)} ${'logprob'.padStart(8)}`;
  const line = (cells: string[]) => `  ${cells.join('   ')}`.trimEnd();
  out.push(line(ids.map((id) => id.padEnd(32))), line(ids.map(() => head)));
  for (let i = 0; i < rows; i++) out.push(line(columns.map((v) => cell(v, i))));
  return `${out.join('\n')}\n`;
}

/**
 * `deltascope probe`: the Compare panel from the command line. Opens the pair (from a spec's
 * `models` or `--base`/`--ft`) on `--device` (CPU by default) and prints, per prompt, the token ids fed to the model, each
 * view's top-k and the exact full-vocabulary divergences; `--json` writes them as one object.
 */
export async function probeCommand(opts: ProbeOptions, io: CliIo): Promise<void> {
  if (opts.ft !== undefined && opts.adapter !== undefined)
    throw new UsageError('give --ft or --adapter, not both', 'probe', { input: '--adapter' });
  const ftSide = opts.ft ?? opts.adapter;
  if ((opts.specPath === undefined) === (opts.base === undefined || ftSide === undefined)) {
    throw new UsageError('give either --spec FILE or --base with --ft or --adapter', 'probe', {
      input: '--spec',
    });
  }
  if (opts.prompts.length === 0)
    throw new UsageError('give at least one --prompt', 'probe', { input: '--prompt' });
  const { source, dtype } = sourceOf(opts, io);
  const device = opts.device ?? 'cpu';
  const pair = await openPair(source, { device, dtype, warmup: false, ...cliLoadOptions(io) });
  if (device !== 'cpu') io.err(`probe on ${pair.info.device}: ${pair.info.deviceDetail}\n`);
  try {
    const views = opts.views !== undefined && opts.views.length > 0 ? opts.views : DEFAULT_PROBE_VIEWS;
    // Every name is checked before the first forward pass.
    probeViewIds(pair, views);
    const results: (ProbeViewsJson | ProbePromptJson)[] = [];
    for (const prompt of opts.prompts) results.push(await probePrompt(pair, prompt, opts.topK, views));
    io.out(
      opts.json ? `${JSON.stringify({ prompts: results }, null, 2)}\n` : results.map(renderText).join('\n'),
    );
  } finally {
    await pair.dispose();
  }
}
