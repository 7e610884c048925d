import {
  openPair,
  type DevicePreference,
  type DifferentialBackend,
  type ModelDtype,
  type ModelSource,
} from '../backend/index.ts';
import { compare } from '../worker/interactiveOps.ts';
import type { TokenRow } from '../worker/workbenchApi.ts';
import { UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
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
}

/** One view's next-token distribution as `deltascope probe --json` writes it. */
export interface ProbeViewJson {
  token_ids: number[];
  tokens: string[];
  logprobs: number[];
  entropy: number;
}

export interface ProbePromptJson {
  prompt: string;
  /** The prompt's token ids as fed to the model, special tokens included. */
  token_ids: number[];
  views: Record<string, ProbeViewJson>;
  js: number;
  kl_ft_base: number;
  kl_base_ft: number;
}

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

/** One prompt through the Compare panel's own computation (`compare`), in the JSON shape. */
export async function probePrompt(
  pair: DifferentialBackend,
  prompt: string,
  topK: number,
): Promise<ProbePromptJson> {
  const [c, encoded] = await Promise.all([compare(pair, prompt, topK), pair.base.tokenize(prompt)]);
  const d = c.divergence;
  const view = (rows: TokenRow[], entropy: number): ProbeViewJson => ({
    token_ids: rows.map((r) => r.id),
    tokens: rows.map((r) => r.token),
    logprobs: rows.map((r) => r.logprob),
    entropy,
  });
  return {
    prompt,
    token_ids: encoded.ids,
    views: { base: view(c.base, d.entropyBase), ft: view(c.ft, d.entropyFt) },
    js: d.js,
    kl_ft_base: d.klFtBase,
    kl_base_ft: d.klBaseFt,
  };
}

const num = (x: number, digits = 4) => (x === Infinity ? '∞' : x.toFixed(digits));

function renderText(r: ProbePromptJson): string {
  const out = [`prompt: ${JSON.stringify(r.prompt)}`, `token ids: ${r.token_ids.join(' ')}`];
  out.push(
    `exact (full vocabulary): JS ${num(r.js)} · KL(ft‖base) ${num(r.kl_ft_base)} · KL(base‖ft) ${num(r.kl_base_ft)} nats; ` +
      `entropy base ${num(r.views.base!.entropy, 3)} · ft ${num(r.views.ft!.entropy, 3)}`,
  );
  const rows = Math.max(r.views.base!.token_ids.length, r.views.ft!.token_ids.length);
  const cell = (v: ProbeViewJson, i: number) =>
    i < v.token_ids.length
      ? `${String(v.token_ids[i]).padStart(6)} ${JSON.stringify(v.tokens[i]).padEnd(16)} ${v.logprobs[i]!.toFixed(4).padStart(8)}`
      : ''.padEnd(32);
  const head = `${'id'.padStart(6)} ${'token'.padEnd(16)} ${'logprob'.padStart(8)}`;
  out.push(`  ${'base'.padEnd(32)}   ft`, `  ${head}   ${head}`);
  for (let i = 0; i < rows; i++) out.push(`  ${cell(r.views.base!, i)}   ${cell(r.views.ft!, i)}`);
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
  const pair = await openPair(source, { device, dtype, warmup: false });
  if (device !== 'cpu') io.err(`probe on ${pair.info.device}: ${pair.info.deviceDetail}\n`);
  try {
    const results: ProbePromptJson[] = [];
    for (const prompt of opts.prompts) results.push(await probePrompt(pair, prompt, opts.topK));
    io.out(
      opts.json ? `${JSON.stringify({ prompts: results }, null, 2)}\n` : results.map(renderText).join('\n'),
    );
  } finally {
    await pair.dispose();
  }
}
