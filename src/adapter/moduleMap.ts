/**
 * Which node of an exported ONNX graph computes the projection a PEFT module adapts.
 *
 * PEFT names modules by their path in the transformers model (`model.layers.0.self_attn.q_proj`,
 * `lm_head`). An export keeps that path in one of two places, and the map reads both:
 *
 *  - the node's name: Optimum (TorchScript exporter) names nodes by module scope —
 *    `/model/layers.0/self_attn/q_proj/MatMul`, `/lm_head/MatMul`, and onnxruntime's 4-bit quantizer
 *    renames the node it replaces `…/MatMul_Q4`; the ORT GenAI builder names them the same way but
 *    calls attention `attn` (`/model/layers.0/attn/q_proj/MatMul`);
 *  - the weight initializer's name: `model.layers.0.self_attn.q_proj.weight` (hand-built and dynamo
 *    exports, the GenAI builder: `model.layers.0.attn.q_proj.weight`, `…weight_Q4` when quantized).
 *    Optimum's anonymous `onnx::MatMul_1261` carries nothing and is ignored.
 *
 * A projection is a `MatMul` whose weight is a 2-D initializer ([in, out]) or a
 * `com.microsoft.MatMulNBits` (K = in, N = out). A fused projection — the GenAI builder's `qkv_proj`
 * (q, k, v concatenated along the output) or `gate_up_proj` — serves the PEFT modules it fuses as
 * column ranges of its output, worked out from the model's dims.
 *
 * Nothing is guessed: a module whose path matches no projection, or matches two, or whose LoRA shapes
 * disagree with the node's, is refused with the full list (`model-load/mismatch`), and nothing is
 * loaded.
 */
import { DeltascopeError } from '../core/errors.ts';
import type { OnnxModel, OnnxNodeInfo } from './onnxGraph.ts';

/** The dims a fused projection is split by (from config.json). */
export interface ProjectionDims {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
}

/** One projection in the graph. */
export interface GraphProjection {
  node: OnnxNodeInfo;
  kind: 'MatMul' | 'MatMulNBits';
  /** The activation the projection reads (x) and the tensor it writes (y = x · W). */
  input: string;
  output: string;
  inFeatures: number;
  outFeatures: number;
}

/** Where a PEFT module's branch goes. */
export interface ModuleTarget {
  module: string;
  projection: GraphProjection;
  /** Columns [start, end) of the projection's output this module owns; null: all of them. */
  columns: { start: number; end: number } | null;
}

export interface AdapterModuleShape {
  key: string;
  inFeatures: number;
  outFeatures: number;
}

/** Fused projections: the PEFT modules each one concatenates, in output order. */
const FUSED: Record<string, { parts: string[]; widths: (d: ProjectionDims) => number[] }> = {
  qkv_proj: {
    parts: ['q_proj', 'k_proj', 'v_proj'],
    widths: (d) => [d.numHeads * d.headDim, d.numKvHeads * d.headDim, d.numKvHeads * d.headDim],
  },
  gate_up_proj: {
    parts: ['gate_proj', 'up_proj'],
    widths: (d) => [d.intermediateSize, d.intermediateSize],
  },
};

/** The module path a node name carries: `/model/layers.0/self_attn/q_proj/MatMul[_Q4]` → `model.layers.0.self_attn.q_proj`. */
function keyFromNodeName(name: string): string | null {
  const m = /^\/(.+)\/(?:MatMul|Gemm)(?:_Q4)?$/.exec(name);
  return m?.[1] ? m[1].replaceAll('/', '.') : null;
}

/** The module path a weight name carries: `model.layers.0.attn.q_proj.weight[_Q4]` → `model.layers.0.attn.q_proj`. */
function keyFromWeightName(name: string): string | null {
  const m = /^(.+)\.weight(?:_Q4)?$/.exec(name);
  return m?.[1] && !m[1].includes('::') ? m[1] : null;
}

/** The GenAI builder's `layers.N.attn.` is transformers' `layers.N.self_attn.`. */
const aliases = (key: string): string[] => {
  const alias = key.replace(/(^|\.)layers\.(\d+)\.attn\./, '$1layers.$2.self_attn.');
  return alias === key ? [key] : [key, alias];
};

/** Every projection in the graph, with the module paths it is known by. */
export function graphProjections(model: OnnxModel): { projection: GraphProjection; keys: string[] }[] {
  const inits = new Map(model.initializers.map((t) => [t.name, t]));
  const out: { projection: GraphProjection; keys: string[] }[] = [];
  for (const node of model.nodes) {
    let kind: GraphProjection['kind'];
    let inFeatures: number;
    let outFeatures: number;
    const weightName = node.inputs[1] ?? '';
    if (node.opType === 'MatMul' && node.domain === '') {
      const w = inits.get(weightName);
      if (!w || w.dims.length !== 2) continue;
      kind = 'MatMul';
      [inFeatures, outFeatures] = w.dims as [number, number];
    } else if (node.opType === 'MatMulNBits' && node.domain === 'com.microsoft') {
      const k = node.intAttributes.get('K');
      const n = node.intAttributes.get('N');
      if (k === undefined || n === undefined) continue;
      kind = 'MatMulNBits';
      inFeatures = k;
      outFeatures = n;
    } else continue;
    const keys = new Set<string>();
    for (const k of [keyFromNodeName(node.name), keyFromWeightName(weightName)])
      if (k) for (const a of aliases(k)) keys.add(a);
    if (keys.size === 0) continue;
    out.push({
      projection: {
        node,
        kind,
        input: node.inputs[0] ?? '',
        output: node.outputs[0] ?? '',
        inFeatures,
        outFeatures,
      },
      keys: [...keys],
    });
  }
  return out;
}

function mismatch(input: string, message: string, details: unknown): never {
  throw new DeltascopeError('model-load/mismatch', `${input}: ${message}`, { input, details });
}

const list = (items: string[], max = 8): string =>
  items.slice(0, max).join(', ') + (items.length > max ? ` and ${items.length - max} more` : '');

/**
 * The graph node (and output columns) for each adapter module, in the modules' order. `dims` is needed
 * only for fused projections. `input` names the base model in errors. Refuses, with every offending
 * module listed in the message and in `details`: modules that match no projection, modules that match
 * more than one, and modules whose LoRA shapes do not fit their projection.
 */
export function mapModules(
  model: OnnxModel,
  modules: readonly AdapterModuleShape[],
  dims: ProjectionDims | null,
  input = 'model.onnx',
): ModuleTarget[] {
  const byKey = new Map<string, GraphProjection[]>();
  for (const { projection, keys } of graphProjections(model))
    for (const k of keys) byKey.set(k, [...(byKey.get(k) ?? []), projection]);

  const unmatched: string[] = [];
  const ambiguous: string[] = [];
  const shapes: string[] = [];
  const targets: ModuleTarget[] = [];
  for (const m of modules) {
    let projection: GraphProjection | undefined;
    let columns: ModuleTarget['columns'] = null;
    const direct = byKey.get(m.key) ?? [];
    if (direct.length > 1) {
      ambiguous.push(`${m.key} (${direct.map((p) => p.node.name).join(', ')})`);
      continue;
    }
    projection = direct[0];
    if (!projection) {
      const dot = m.key.lastIndexOf('.');
      const parent = m.key.slice(0, dot + 1);
      const leaf = m.key.slice(dot + 1);
      for (const [fusedName, fused] of Object.entries(FUSED)) {
        const at = fused.parts.indexOf(leaf);
        const candidates = at < 0 ? [] : (byKey.get(parent + fusedName) ?? []);
        if (candidates.length === 0) continue;
        if (candidates.length > 1) {
          ambiguous.push(`${m.key} (${candidates.map((p) => p.node.name).join(', ')})`);
          break;
        }
        projection = candidates[0];
        if (!dims) {
          shapes.push(
            `${m.key}: it is part of the fused ${projection?.node.name}, and splitting it needs the model's head and intermediate sizes`,
          );
          projection = undefined;
          break;
        }
        const widths = fused.widths(dims);
        const start = widths.slice(0, at).reduce((a, b) => a + b, 0);
        columns = { start, end: start + (widths[at] ?? 0) };
        const total = widths.reduce((a, b) => a + b, 0);
        if (projection && projection.outFeatures !== total) {
          shapes.push(
            `${m.key}: the fused ${projection.node.name} has ${projection.outFeatures} outputs, not ${widths.join(' + ')} as config.json's sizes give`,
          );
          projection = undefined;
        }
        break;
      }
      if (!projection) {
        if (
          !ambiguous.some((a) => a.startsWith(`${m.key} `)) &&
          !shapes.some((s) => s.startsWith(`${m.key}:`))
        )
          unmatched.push(m.key);
        continue;
      }
    }
    const outWidth = columns ? columns.end - columns.start : projection.outFeatures;
    if (m.inFeatures !== projection.inFeatures || m.outFeatures !== outWidth) {
      shapes.push(
        `${m.key}: lora_A × lora_B is [${m.outFeatures} × ${m.inFeatures}] but ${projection.node.name} maps ${projection.inFeatures} → ${outWidth}`,
      );
      continue;
    }
    targets.push({ module: m.key, projection, columns });
  }
  if (unmatched.length || ambiguous.length || shapes.length) {
    const parts: string[] = [];
    if (unmatched.length)
      parts.push(
        `${unmatched.length} adapter module(s) match no projection in the base model: ${list(unmatched)}`,
      );
    if (ambiguous.length) parts.push(`module(s) that match more than one projection: ${list(ambiguous)}`);
    if (shapes.length) parts.push(`module(s) whose shapes do not fit the base: ${list(shapes)}`);
    mismatch(
      input,
      `the adapter does not fit this base model — ${parts.join('; ')}. Is the adapter for this base (adapter_config.json's base_model_name_or_path)?`,
      { unmatched, ambiguous, shapes },
    );
  }
  return targets;
}
