/**
 * PEFT's `adapter_config.json` for a LoRA adapter: validated, refused where runtime LoRA would compute
 * something else than PEFT does, and turned into what the graph rewrite needs per module — its rank
 * and its scale.
 *
 * The runtime branch is `y += s · ((x · Aᵀ) · Bᵀ)` with `s = α / r` (or `α / √r` with `use_rslora`).
 * Every option of PEFT's `LoraConfig` was sorted by what it does at inference:
 *
 *  - honoured: `r`, `lora_alpha`, `use_rslora`, `rank_pattern`, `alpha_pattern`, `target_modules`
 *    (a list: exact name or `.`-suffix; a string: a full regex match; `"all-linear"`),
 *    `exclude_modules`, `layers_to_transform`, `layers_pattern` — matched as PEFT's
 *    `check_target_module_exists` and `get_pattern_key` match them (see `isTargeted`, `patternKey`);
 *  - inert at inference: `lora_dropout` (identity in eval), `inference_mode`, `task_type`,
 *    `base_model_name_or_path`, `revision`, `auto_mapping`, `peft_version`, `runtime_config`,
 *    `megatron_config`/`megatron_core` (how the base is sharded, not the math), `qalora_group_size`
 *    (only read with `use_qalora`), `eva_config`/`corda_config`/`loftq_config` (read only by the
 *    init they belong to), `ensure_weight_tying` (only acts on `modules_to_save` /
 *    `trainable_token_indices`, refused below), and `init_lora_weights` when it only chose the
 *    starting values of A and B (`true`, `false`, `"gaussian"`, `"orthogonal"`, `"eva"`);
 *  - refused, because the saved tensors alone do not reproduce PEFT's output on the stock base:
 *    `peft_type` ≠ LORA; `use_dora` (a magnitude vector rescales W + BA column-wise);
 *    `lora_bias` (lora_B carries a bias); `bias` ≠ "none" (trained base biases are saved beside
 *    the adapter); `modules_to_save` (whole modules replaced); `trainable_token_indices` (embedding
 *    rows replaced); `layer_replication` (the base's layer stack is rebuilt); `target_parameters`
 *    (LoRA on raw parameters such as MoE experts, not on a Linear's input); `use_qalora` (the input
 *    is pooled in groups before A); `alora_invocation_tokens` (activated LoRA: the branch is on only
 *    after the invocation tokens); `arrow_config` (a router mixes several LoRAs per token);
 *    `fan_in_fan_out: true` (it describes Conv1D weights, GPT-2 style; deltascope's bases are
 *    Linear — PEFT itself resets it to false with a warning on Linear layers, so such a config was
 *    most likely written for another base); `init_lora_weights` of `"pissa…"`, `"olora"`,
 *    `"corda"` or `"loftq"` (these inits subtract B₀A₀ from, or quantize, the base weights W; an
 *    adapter saved without PEFT's conversion is relative to that modified base — PEFT's conversion
 *    rewrites the config to `init_lora_weights: true`);
 *  - an option this list does not know is refused when it is set (not null / false / empty): a
 *    newer PEFT option may change the math, and guessing is worse than saying so.
 */
import { z } from 'zod';
import { DeltascopeError } from '../core/errors.ts';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** Options that change nothing at inference (or are read only by an option refused elsewhere). */
const INERT_KEYS = new Set([
  'lora_dropout',
  'inference_mode',
  'task_type',
  'base_model_name_or_path',
  'revision',
  'auto_mapping',
  'peft_version',
  'runtime_config',
  'megatron_config',
  'megatron_core',
  'qalora_group_size',
  'eva_config',
  'corda_config',
  'loftq_config',
  'ensure_weight_tying',
]);

const positiveInt = z.number().int().positive();
const positiveNumber = z.number().positive();
const stringList = z.array(z.string());

/** The fields deltascope reads; `z.looseObject` keeps the rest for the unknown-option check. */
export const loraConfigSchema = z.looseObject({
  peft_type: z.string(),
  r: positiveInt.default(8),
  lora_alpha: positiveNumber.default(8),
  use_rslora: z.boolean().nullish(),
  target_modules: z.union([z.string(), stringList]).nullish(),
  exclude_modules: z.union([z.string(), stringList]).nullish(),
  layers_to_transform: z
    .union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())])
    .nullish(),
  layers_pattern: z.union([z.string(), stringList]).nullish(),
  rank_pattern: z.record(z.string(), positiveInt).nullish(),
  alpha_pattern: z.record(z.string(), positiveNumber).nullish(),
  use_dora: z.boolean().nullish(),
  lora_bias: z.boolean().nullish(),
  use_qalora: z.boolean().nullish(),
  bias: z.string().nullish(),
  fan_in_fan_out: z.boolean().nullish(),
  modules_to_save: stringList.nullish(),
  layer_replication: z.array(z.unknown()).nullish(),
  target_parameters: stringList.nullish(),
  trainable_token_indices: z.unknown().nullish(),
  alora_invocation_tokens: z.unknown().nullish(),
  arrow_config: z.unknown().nullish(),
  init_lora_weights: z.union([z.boolean(), z.string()]).nullish(),
});

export type RawLoraConfig = z.infer<typeof loraConfigSchema>;

/** A compiled regex, as PEFT would apply a Python one. */
interface Pattern {
  source: string;
  regex: RegExp;
}

/** What the rewrite needs from the config, with PEFT's matching rules compiled. */
export interface LoraConfig {
  r: number;
  loraAlpha: number;
  useRslora: boolean;
  /** A list (exact or `.`-suffix match), a regex (full match), or every Linear but the output head. */
  targetModules:
    { kind: 'list'; names: string[] } | { kind: 'regex'; pattern: Pattern } | { kind: 'all-linear' };
  excludeModules: { kind: 'none' } | { kind: 'list'; names: string[] } | { kind: 'regex'; pattern: Pattern };
  /** Layer indices the list form of `target_modules` is limited to; null: every layer. */
  layersToTransform: number[] | null;
  /** `.*\.<layers_pattern>\.(\d+)\.` per name of the layer container (`layers`, `h`…); null: any `<name>.<index>.` segment. */
  layersPattern: Pattern[] | null;
  /** In the file's key order: PEFT takes the first key that matches. */
  rankPattern: [Pattern, number][];
  alphaPattern: [Pattern, number][];
  /** `base_model_name_or_path`, when the file names one. */
  baseModel: string | null;
}

export interface ModuleLora {
  rank: number;
  alpha: number;
  /** `alpha / rank`, or `alpha / √rank` with `use_rslora`. */
  scale: number;
}

function refuse(input: string, field: string, problem: string): never {
  throw new DeltascopeError('model-load/unsupported', `${input}: ${field} ${problem}`, {
    input,
    details: { field },
  });
}

function invalid(input: string, field: string, problem: string): never {
  throw new DeltascopeError('model-load/invalid-file', `${input}: ${field} ${problem}`, {
    input,
    details: { field },
  });
}

/**
 * A Python `re` pattern as a JS RegExp. The two agree on what adapter configs use (literals, `.`,
 * classes, alternation, groups, quantifiers); Python's named groups `(?P<n>…)` / `(?P=n)` are
 * rewritten, and a pattern JS cannot compile is refused naming the field.
 */
function compile(input: string, field: string, source: string, wrap: (s: string) => string): Pattern {
  const js = source.replaceAll('(?P<', '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    // No 'u' flag: Python accepts identity escapes such as `\-` that unicode mode rejects.
    return { source, regex: new RegExp(wrap(js)) };
  } catch (e) {
    return invalid(
      input,
      field,
      `has the pattern ${JSON.stringify(source)}, which is not a regular expression deltascope can read (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

const isSet = (v: unknown): boolean =>
  v !== null &&
  v !== undefined &&
  v !== false &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

const NEUTRAL_INITS = new Set(['gaussian', 'orthogonal', 'eva']);
const BASE_CHANGING_INITS = /^(pissa(_niter_\d+)?|olora|corda|loftq)$/;

/**
 * Parses and validates `adapter_config.json` (already JSON-parsed). `input` names the file in every
 * error. Throws `model-load/invalid-file` for a malformed field and `model-load/unsupported` for an
 * option runtime LoRA does not compute; `details.field` names the field either way.
 */
export function parseAdapterConfig(json: unknown, input = ADAPTER_CONFIG_FILE): LoraConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    invalid(input, 'the file', 'is not a JSON object');
  const parsed = loraConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'the file';
    invalid(input, field, `is invalid: ${issue?.message ?? 'unknown problem'}`);
  }
  const c = parsed.data;

  if (c.peft_type !== 'LORA')
    refuse(
      input,
      'peft_type',
      `is ${JSON.stringify(c.peft_type)}; deltascope runs LoRA adapters (peft_type "LORA") only`,
    );
  if (c.use_dora) refuse(input, 'use_dora', 'is true: DoRA adapters are not supported (only plain LoRA)');
  if (c.lora_bias) refuse(input, 'lora_bias', 'is true: a LoRA with a bias on lora_B is not supported');
  if (c.use_qalora) refuse(input, 'use_qalora', 'is true: QA-LoRA (input pooled in groups) is not supported');
  if (c.bias !== undefined && c.bias !== null && c.bias !== 'none')
    refuse(input, 'bias', `is ${JSON.stringify(c.bias)}: trained biases are not supported, only bias "none"`);
  if (c.fan_in_fan_out)
    refuse(
      input,
      'fan_in_fan_out',
      'is true: it describes Conv1D (GPT-2 style) weights, and deltascope runs Llama-style bases with Linear layers — was this adapter trained on another base?',
    );
  if (isSet(c.modules_to_save))
    refuse(
      input,
      'modules_to_save',
      `lists ${JSON.stringify(c.modules_to_save)}: fully trained modules saved beside a LoRA are not supported`,
    );
  if (isSet(c.layer_replication))
    refuse(input, 'layer_replication', 'is set: adapters that rebuild the layer stack are not supported');
  if (isSet(c.target_parameters))
    refuse(input, 'target_parameters', 'is set: LoRA on raw parameters (e.g. MoE experts) is not supported');
  if (isSet(c.trainable_token_indices))
    refuse(input, 'trainable_token_indices', 'is set: trained embedding rows are not supported');
  if (isSet(c.alora_invocation_tokens))
    refuse(input, 'alora_invocation_tokens', 'is set: activated LoRA (aLoRA) is not supported');
  if (isSet(c.arrow_config))
    refuse(input, 'arrow_config', 'is set: Arrow routing between LoRAs is not supported');
  const init = c.init_lora_weights;
  if (typeof init === 'string' && !NEUTRAL_INITS.has(init)) {
    if (BASE_CHANGING_INITS.test(init))
      refuse(
        input,
        'init_lora_weights',
        `is ${JSON.stringify(init)}: this init changes the base weights, so the saved adapter only applies to that modified base. Save it with PEFT's path_initial_model_for_weight_conversion to get a plain LoRA`,
      );
    refuse(
      input,
      'init_lora_weights',
      `is ${JSON.stringify(init)}, an initialisation deltascope does not know`,
    );
  }

  const known = new Set([...Object.keys(loraConfigSchema.shape), ...INERT_KEYS]);
  for (const [key, value] of Object.entries(c)) {
    if (!known.has(key) && isSet(value))
      refuse(
        input,
        key,
        `is set (${JSON.stringify(value)}), a PEFT option deltascope does not know; it may change what the adapter computes, so the adapter is not loaded`,
      );
  }

  const tm = c.target_modules;
  let targetModules: LoraConfig['targetModules'];
  if (typeof tm === 'string')
    targetModules =
      tm.toLowerCase() === 'all-linear'
        ? { kind: 'all-linear' }
        : { kind: 'regex', pattern: compile(input, 'target_modules', tm, (s) => `^(?:${s})$`) };
  else if (tm && tm.length > 0) targetModules = { kind: 'list', names: tm };
  else invalid(input, 'target_modules', 'is missing or empty: the adapter names no module to adapt');

  const em = c.exclude_modules;
  const excludeModules: LoraConfig['excludeModules'] =
    typeof em === 'string'
      ? { kind: 'regex', pattern: compile(input, 'exclude_modules', em, (s) => `^(?:${s})$`) }
      : em && em.length > 0
        ? { kind: 'list', names: em }
        : { kind: 'none' };

  const lt = c.layers_to_transform;
  const layersToTransform =
    lt === null || lt === undefined ? null : typeof lt === 'number' ? [lt] : lt.length ? lt : null;
  const lp = c.layers_pattern;
  const layersPattern =
    lp === null || lp === undefined
      ? null
      : typeof lp === 'string'
        ? lp
          ? [lp]
          : null
        : lp.length
          ? lp
          : null;
  // As PEFT builds it: the pattern spliced in without a group, and the layer index read as group 1.
  const layersPatternRes =
    layersPattern?.map((p) => compile(input, 'layers_pattern', p, (s) => `^.*\\.${s}\\.(\\d+)\\.`)) ?? null;

  const patterns = (field: string, rec: Record<string, number> | null | undefined): [Pattern, number][] =>
    Object.entries(rec ?? {}).map(([key, v]) => [
      compile(input, `${field}["${key}"]`, key, (s) => `^(?:.*\\.)?(?:${s})$`),
      v,
    ]);

  return {
    r: c.r,
    loraAlpha: c.lora_alpha,
    useRslora: c.use_rslora === true,
    targetModules,
    excludeModules,
    layersToTransform,
    layersPattern: layersPatternRes,
    rankPattern: patterns('rank_pattern', c.rank_pattern),
    alphaPattern: patterns('alpha_pattern', c.alpha_pattern),
    baseModel: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null,
  };
}

const listMatch = (names: readonly string[], key: string): boolean =>
  names.includes(key) || names.some((n) => key.endsWith(`.${n}`));

/**
 * PEFT's `check_target_module_exists` for `key`, a module path in the transformers model
 * (`model.layers.0.self_attn.q_proj`, `lm_head`; the safetensors keys carry a `base_model.model.`
 * prefix on top). Excluded modules never match; a regex must match the whole key; a list matches a
 * name or a `.`-suffix, and only there are `layers_to_transform` / `layers_pattern` applied (also as
 * in PEFT). `isOutputHead` says whether `key` is the output embedding, which `"all-linear"` leaves out.
 */
export function isTargeted(config: LoraConfig, key: string, isOutputHead = key === 'lm_head'): boolean {
  const ex = config.excludeModules;
  if (ex.kind === 'regex' && ex.pattern.regex.test(key)) return false;
  if (ex.kind === 'list' && listMatch(ex.names, key)) return false;
  const tm = config.targetModules;
  if (tm.kind === 'all-linear') return !isOutputHead;
  if (tm.kind === 'regex') return tm.pattern.regex.test(key);
  if (tm.names.includes(key)) return true;
  if (!listMatch(tm.names, key)) return false;
  if (config.layersToTransform === null) return true;
  let index: number | null = null;
  if (config.layersPattern === null) {
    const m = /^.*\.[^.]*\.(\d+)\./.exec(key);
    if (m) index = Number(m[1]);
  } else {
    for (const p of config.layersPattern) {
      const m = p.regex.exec(key);
      if (m) {
        index = Number(m[1]);
        break;
      }
    }
  }
  return index !== null && config.layersToTransform.includes(index);
}

/** PEFT's `get_pattern_key`: the first pattern key (file order) that matches `key` as `(.*\.)?(key)$`. */
export function patternKey<T>(patterns: readonly [Pattern, T][], key: string): [string, T] | null {
  for (const [p, v] of patterns) if (p.regex.test(key)) return [p.source, v];
  return null;
}

export function loraScale(alpha: number, rank: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

/** The rank and scale PEFT gives module `key`: `rank_pattern` / `alpha_pattern` first, then `r` / `lora_alpha`. */
export function moduleLora(config: LoraConfig, key: string): ModuleLora {
  const rank = patternKey(config.rankPattern, key)?.[1] ?? config.r;
  const alpha = patternKey(config.alphaPattern, key)?.[1] ?? config.loraAlpha;
  return { rank, alpha, scale: loraScale(alpha, rank, config.useRslora) };
}
