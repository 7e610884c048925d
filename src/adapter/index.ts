/**
 * Runtime LoRA, from files to a rewritten base graph: `adapter_config.json` + `adapter_model.safetensors`
 * + the base's ONNX bytes (and its config.json for fused projections) → one ONNX model that computes
 * base (λ = 0), ft (λ = 1) and `scaled_λ` from the graph input `lora_scale`.
 *
 * `openPair` uses it for a base + adapter source (`src/backend/adapterPair.ts`): the rewritten bytes
 * (A and B as graph inputs) are the one session of every view, each view feeding its own `lora_scale`.
 */
import { parseAdapterConfig, type LoraConfig } from './adapterConfig.ts';
import { loraModules, type LoraModule } from './adapterWeights.ts';
import { rewriteWithLora, type LoraBranch, type LoraRewriteOptions } from './loraRewrite.ts';
import { mapModules, type ModuleTarget, type ProjectionDims } from './moduleMap.ts';
import { readOnnxModel } from './onnxGraph.ts';
import { decodeSafetensors } from './safetensors.ts';

export * from './adapterConfig.ts';
export * from './adapterWeights.ts';
export * from './loraRewrite.ts';
export * from './moduleMap.ts';
export * from './nullAdapter.ts';
export * from './onnxGraph.ts';
export * from './safetensors.ts';

export interface AdapterFiles {
  /** `adapter_config.json`, JSON-parsed. */
  config: unknown;
  /** `adapter_model.safetensors`. */
  safetensors: Uint8Array;
  /** How errors name the files (default: the bare file names). */
  configLabel?: string;
  safetensorsLabel?: string;
}

export interface LoraBaseModel {
  /** The rewritten ONNX model, assembled on first read (a full copy: `pieces` avoids it). */
  readonly bytes: Uint8Array;
  /**
   * The rewritten model as byte pieces in file order, mostly slices of the base's own bytes: what to
   * write out (or wrap in a Blob) without ever holding a second whole copy of the model.
   */
  pieces: readonly Uint8Array[];
  byteLength: number;
  scaleInput: string;
  config: LoraConfig;
  modules: LoraModule[];
  targets: ModuleTarget[];
  branches: LoraBranch[];
}

/**
 * The sizes a fused projection is split by, from a transformers `config.json` (null when it lacks
 * them; then only unfused projections can be adapted).
 */
export function projectionDims(configJson: unknown): ProjectionDims | null {
  const c = (configJson ?? {}) as Record<string, unknown>;
  const num = (k: string): number | null => (typeof c[k] === 'number' ? (c[k] as number) : null);
  const numHeads = num('num_attention_heads');
  const hidden = num('hidden_size');
  const intermediateSize = num('intermediate_size');
  if (numHeads === null || hidden === null || intermediateSize === null) return null;
  return {
    numHeads,
    numKvHeads: num('num_key_value_heads') ?? numHeads,
    headDim: num('head_dim') ?? hidden / numHeads,
    intermediateSize,
  };
}

/**
 * Validates the adapter against itself and the base, and rewrites the base. Every refusal is a
 * `DeltascopeError` naming its file and the problem; nothing is returned half-done.
 */
export function rewriteBaseWithAdapter(
  baseOnnx: Uint8Array,
  adapter: AdapterFiles,
  dims: ProjectionDims | null,
  opts: LoraRewriteOptions & { baseLabel?: string } = {},
): LoraBaseModel {
  const config = parseAdapterConfig(adapter.config, adapter.configLabel);
  const { tensors } = decodeSafetensors(adapter.safetensors, adapter.safetensorsLabel);
  const modules = loraModules(config, tensors, adapter.safetensorsLabel);
  const model = readOnnxModel(baseOnnx, opts.baseLabel);
  const targets = mapModules(model, modules, dims, opts.baseLabel);
  const rw = rewriteWithLora(model, targets, modules, opts);
  let bytes: Uint8Array | null = null;
  return {
    get bytes() {
      bytes ??= rw.model.finish();
      return bytes;
    },
    pieces: rw.model.pieces,
    byteLength: rw.model.byteLength,
    scaleInput: rw.scaleInput,
    config,
    modules,
    targets,
    branches: rw.branches,
  };
}
