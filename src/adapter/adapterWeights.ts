/**
 * The adapter's tensors grouped per module and checked against its config: every LoRA module has a
 * `lora_A` [rank, in] and a `lora_B` [out, rank], its rank is the one the config gives that module
 * (`rank_pattern` or `r`), and the config targets it. Keys that belong to something runtime LoRA does
 * not compute (`lora_embedding_*`: LoRA on an embedding; `lora_magnitude_vector`: DoRA; a
 * `lora_B.bias`: lora_bias; anything else, e.g. a `modules_to_save` copy) are refused by name, so a
 * config that forgot to say so cannot slip an unsupported adapter through.
 */
import { DeltascopeError } from '../core/errors.ts';
import { isTargeted, moduleLora, type LoraConfig } from './adapterConfig.ts';
import type { SafetensorsTensor } from './safetensors.ts';

/** PEFT saves its wrapper's prefix on every key. */
export const PEFT_PREFIX = 'base_model.model.';

export interface LoraModule {
  /** The module path in the transformers model (`model.layers.0.self_attn.q_proj`, `lm_head`). */
  key: string;
  rank: number;
  alpha: number;
  scale: number;
  inFeatures: number;
  outFeatures: number;
  /** [rank, in], row-major. */
  a: Float32Array;
  /** [out, rank], row-major. */
  b: Float32Array;
}

function refuse(input: string, problem: string, details?: unknown): never {
  throw new DeltascopeError('model-load/unsupported', `${input}: ${problem}`, { input, details });
}
function invalid(input: string, problem: string, details?: unknown): never {
  throw new DeltascopeError('model-load/invalid-file', `${input}: ${problem}`, { input, details });
}

const list = (keys: string[], max = 5): string =>
  keys.slice(0, max).join(', ') + (keys.length > max ? ` and ${keys.length - max} more` : '');

/**
 * Groups `tensors` (from `decodeSafetensors`) into LoRA modules, in key order. `input` names the
 * safetensors file in every error; `details.keys` lists the offending tensor keys.
 */
export function loraModules(
  config: LoraConfig,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  input = 'adapter_model.safetensors',
): LoraModule[] {
  const parts = new Map<string, { a?: SafetensorsTensor; b?: SafetensorsTensor }>();
  const embedding: string[] = [];
  const dora: string[] = [];
  const bias: string[] = [];
  const other: string[] = [];
  for (const [name, t] of tensors) {
    const m = /^(.*)\.lora_([AB])\.weight$/.exec(name);
    if (m && name.startsWith(PEFT_PREFIX)) {
      const key = (m[1] ?? '').slice(PEFT_PREFIX.length);
      const entry = parts.get(key) ?? {};
      if (m[2] === 'A') entry.a = t;
      else entry.b = t;
      parts.set(key, entry);
    } else if (/\.lora_embedding_[AB]$/.test(name)) embedding.push(name);
    else if (/\.lora_magnitude_vector$/.test(name)) dora.push(name);
    else if (/\.lora_B\.bias$/.test(name)) bias.push(name);
    else other.push(name);
  }
  if (embedding.length)
    refuse(input, `LoRA on an embedding is not supported (${list(embedding)})`, { keys: embedding });
  if (dora.length) refuse(input, `DoRA magnitude vectors are not supported (${list(dora)})`, { keys: dora });
  if (bias.length)
    refuse(input, `lora_B biases (lora_bias) are not supported (${list(bias)})`, { keys: bias });
  if (other.length)
    refuse(input, `tensors that are not LoRA A/B weights are not supported (${list(other)})`, {
      keys: other,
    });
  if (parts.size === 0) invalid(input, 'holds no LoRA weights (no "<module>.lora_A.weight" keys)');

  const untargeted = [...parts.keys()].filter((k) => !isTargeted(config, k));
  if (untargeted.length)
    invalid(
      input,
      `holds weights for modules adapter_config.json does not target (${list(untargeted)}): the config and weights do not belong together`,
      { keys: untargeted },
    );

  const out: LoraModule[] = [];
  for (const [key, { a, b }] of parts) {
    if (!a || !b)
      invalid(input, `module ${key} has lora_${a ? 'A' : 'B'} but no lora_${a ? 'B' : 'A'}`, { keys: [key] });
    if (a.shape.length !== 2 || b.shape.length !== 2)
      invalid(
        input,
        `module ${key}: lora_A is [${a.shape.join(', ')}] and lora_B is [${b.shape.join(', ')}]; both must be 2-D`,
        { keys: [key] },
      );
    const [rank, inFeatures] = a.shape as [number, number];
    const [outFeatures, rankB] = b.shape as [number, number];
    if (rankB !== rank)
      invalid(input, `module ${key}: lora_A has rank ${rank} but lora_B has rank ${rankB}`, { keys: [key] });
    const lora = moduleLora(config, key);
    if (lora.rank !== rank)
      invalid(
        input,
        `module ${key} has rank ${rank} but adapter_config.json gives it ${lora.rank} (r or rank_pattern)`,
        { keys: [key] },
      );
    out.push({ key, ...lora, inFeatures, outFeatures, a: a.data, b: b.data });
  }
  return out;
}
