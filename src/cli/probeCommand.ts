import { openPair, type DifferentialBackend, type ModelDtype, type ModelSource } from '../backend/index.ts';
import { exactDivergence, type ExactDivergence, type TokenDist } from '../core/index.ts';
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
  prompts: string[];
  topK: number;
  json: boolean;
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
  return {
    source: {
      kind: 'pair',
      base: modelLocation('--base', opts.base!, io.cwd, io.env),
      ft: modelLocation('--ft', opts.ft!, io.cwd, io.env),
    },
    dtype: 'fp32',
  };
}

/** Both views' full distributions for one prompt, the exact divergences, and the top-k rows. */
export async function probePrompt(
  pair: DifferentialBackend,
  prompt: string,
  topK: number,
): Promise<ProbePromptJson> {
  const all = pair.info.vocabSize;
  const [base, ft, encoded] = await Promise.all([
    pair.base.nextTokenDist(prompt, { topK: all }),
    pair.ft.nextTokenDist(prompt, { topK: all }),
    pair.base.tokenize(prompt),
  ]);
  const d = exactDivergence(base, ft);
  const view = async (dist: TokenDist, entropy: number): Promise<ProbeViewJson> => {
    const ids = Array.from(dist.tokenIds.subarray(0, topK));
    return {
      token_ids: ids,
      tokens: await pair.base.tokenStrings(ids),
      logprobs: Array.from(dist.logprobs.subarray(0, topK)),
      entropy,
    };
  };
  return {
    prompt,
    token_ids: encoded.ids,
    views: { base: await view(base, d.entropyBase), ft: await view(ft, d.entropyFt) },
    js: d.js,
    kl_ft_base: d.klFtBase,
    kl_base_ft: d.klBaseFt,
  };
}

const num = (x: number, digits = 4) => (x === Infinity ? '∞' : x.toFixed(digits));

function renderText(r: ProbePromptJson): string {
  const out = [`prompt: ${JSON.stringify(r.prompt)}`, `token ids: ${r.token_ids.join(' ')}`];
  const d: ExactDivergence = {
    js: r.js,
    klFtBase: r.kl_ft_base,
    klBaseFt: r.kl_base_ft,
    entropyBase: r.views.base!.entropy,
    entropyFt: r.views.ft!.entropy,
  };
  out.push(
    `exact (full vocabulary): JS ${num(d.js)} · KL(ft‖base) ${num(d.klFtBase)} · KL(base‖ft) ${num(d.klBaseFt)} nats; ` +
      `entropy base ${num(d.entropyBase, 3)} · ft ${num(d.entropyFt, 3)}`,
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
 * `models` or `--base`/`--ft`) on CPU and prints, per prompt, the token ids fed to the model, each
 * view's top-k and the exact full-vocabulary divergences; `--json` writes them as one object.
 */
export async function probeCommand(opts: ProbeOptions, io: CliIo): Promise<void> {
  if ((opts.specPath === undefined) === (opts.base === undefined || opts.ft === undefined)) {
    throw new UsageError('give either --spec FILE or both --base and --ft', 'probe', { input: '--spec' });
  }
  if (opts.prompts.length === 0)
    throw new UsageError('give at least one --prompt', 'probe', { input: '--prompt' });
  const { source, dtype } = sourceOf(opts, io);
  const pair = await openPair(source, { device: 'cpu', dtype, warmup: false });
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
