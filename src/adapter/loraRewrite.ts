/**
 * The base graph rewritten once so that one session serves every view of base + adapter: beside each
 * adapted projection `y = x · W` the rewrite adds the low-rank branch
 *
 *     y = x · W  +  λ_row · ((x · A_catᵀ) · B_blockᵀ)
 *
 * and leaves `W` alone — a `MatMul`'s float32 / float16 initializer or a `MatMulNBits`' 4-bit blocks
 * are the very bytes the base file holds, so the base view stays the base model.
 *
 *  - One branch per graph node. A node that several PEFT modules share (the GenAI builder's fused
 *    `qkv_proj`) gets one branch whose A stacks the modules' A along the rank and whose B is block
 *    shaped: module m's rows write only its own output columns, zeros elsewhere (adding exact zeros
 *    leaves the other columns bit for bit).
 *  - Each module's PEFT scale `s_m` (α/r, α/√r, rank / alpha patterns) is folded into its B, so the
 *    one runtime number is λ: 0 is the base view, 1 the fine-tune, anything else `scaled_λ`.
 *  - λ is the graph input `lora_scale`, float32 of shape [batch_size] (one λ per row: a batch can
 *    carry base and ft rows of the same prompts, "views as rows") — a [1] tensor broadcasts to every
 *    row. It is a plain input with no initializer default: onnxruntime-web throws when fed an input
 *    that has one, and onnxruntime-node silently ignores the feed. λ multiplies the rank-r
 *    intermediate, the cheapest place.
 *  - A and B are initializers in the graph's float type (`weights: 'initializers'`), or graph inputs
 *    (`weights: 'inputs'`) that the caller feeds — then a null view (seeded Gaussian A, B of the same
 *    shapes) swaps tensors without building a session.
 *
 * The caller must feed `lora_scale` on every run (and register it with transformers.js's
 * forward params, which keeps only the inputs it knows).
 */
import { toFloat16Bits } from '../core/float16.ts';
import { DeltascopeError } from '../core/errors.ts';
import type { LoraModule } from './adapterWeights.ts';
import type { ModuleTarget } from './moduleMap.ts';
import {
  encodeInitializer,
  encodeNode,
  encodeValueInfo,
  ONNX_DTYPE,
  renameNodeIo,
  writeOnnxChunks,
  type OnnxEdit,
  type OnnxModel,
} from './onnxGraph.ts';
import type { PbWriter } from './protobuf.ts';

export const LORA_SCALE_INPUT = 'lora_scale';

export interface LoraRewriteOptions {
  /** Where A and B live: initializers in the graph (default) or graph inputs the caller feeds. */
  weights?: 'initializers' | 'inputs';
}

/** The tensors of one branch, float32, in the layout the graph reads them. */
export interface BranchWeights {
  /** [in, Σr]: the modules' Aᵀ side by side. */
  aName: string;
  aDims: [number, number];
  a: Float32Array;
  /** [Σr, out]: each module's s_m · Bᵀ in its own rows and output columns, zeros elsewhere. */
  bName: string;
  bDims: [number, number];
  b: Float32Array;
}

export interface LoraBranch extends BranchWeights {
  /** The projection node the branch sits beside. */
  node: string;
  modules: string[];
  /** float32 or float16: the projection's own float type. */
  dtype: 'float32' | 'float16';
}

export interface LoraRewrite {
  /** The rewritten model as pieces (untouched fields are slices of the base's bytes). */
  model: PbWriter;
  scaleInput: string;
  branches: LoraBranch[];
}

/** Little-endian bytes of `data` in `dtype`. */
export function tensorBytes(data: Float32Array, dtype: 'float32' | 'float16'): Uint8Array {
  if (dtype === 'float32') {
    const out = new Uint8Array(data.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] ?? 0, true);
    return out;
  }
  const out = new Uint8Array(data.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setUint16(i * 2, toFloat16Bits(data[i] ?? 0), true);
  return out;
}

/** The float type a projection computes in: its weight's (MatMul) or its scales' (MatMulNBits). */
function projectionDtype(model: OnnxModel, target: ModuleTarget): 'float32' | 'float16' {
  const node = target.projection.node;
  const name = node.inputs[target.projection.kind === 'MatMul' ? 1 : 2];
  const t = model.initializers.find((i) => i.name === name);
  if (t?.dataType === ONNX_DTYPE.float32) return 'float32';
  if (t?.dataType === ONNX_DTYPE.float16) return 'float16';
  throw new DeltascopeError(
    'model-load/unsupported',
    `${node.name} computes in ONNX data type ${t?.dataType ?? 'unknown'}; a LoRA branch can sit beside float32 and float16 projections only`,
    { input: node.name },
  );
}

/** A and B of one node's branch from the modules it serves (see `BranchWeights`). */
export function branchWeights(
  nodeName: string,
  inFeatures: number,
  outFeatures: number,
  parts: { module: LoraModule; columns: ModuleTarget['columns'] }[],
): BranchWeights {
  const rank = parts.reduce((a, p) => a + p.module.rank, 0);
  const a = new Float32Array(inFeatures * rank);
  const b = new Float32Array(rank * outFeatures);
  let r0 = 0;
  for (const { module: m, columns } of parts) {
    const c0 = columns?.start ?? 0;
    // Aᵀ: a[i, r0 + k] = A[k, i].
    for (let k = 0; k < m.rank; k++)
      for (let i = 0; i < inFeatures; i++) a[i * rank + r0 + k] = m.a[k * inFeatures + i] ?? 0;
    // s · Bᵀ: b[r0 + k, c0 + o] = s · B[o, k].
    for (let o = 0; o < m.outFeatures; o++)
      for (let k = 0; k < m.rank; k++)
        b[(r0 + k) * outFeatures + c0 + o] = m.scale * (m.b[o * m.rank + k] ?? 0);
    r0 += m.rank;
  }
  return {
    aName: `${nodeName}/lora/A`,
    aDims: [inFeatures, rank],
    a,
    bName: `${nodeName}/lora/B`,
    bDims: [rank, outFeatures],
    b,
  };
}

/** The targets grouped per projection node, in graph order, each with its modules' weights. */
function nodeGroups(
  targets: readonly ModuleTarget[],
  modules: readonly LoraModule[],
): {
  index: number;
  group: ModuleTarget[];
  parts: { module: LoraModule; columns: ModuleTarget['columns'] }[];
}[] {
  const byKey = new Map(modules.map((m) => [m.key, m]));
  const perNode = new Map<number, ModuleTarget[]>();
  for (const t of targets)
    perNode.set(t.projection.node.index, [...(perNode.get(t.projection.node.index) ?? []), t]);
  return [...perNode]
    .sort((x, y) => x[0] - y[0])
    .map(([index, group]) => ({
      index,
      group,
      parts: group.map((t) => {
        const m = byKey.get(t.module);
        if (!m) throw new DeltascopeError('internal', `no LoRA weights for mapped module ${t.module}`);
        return { module: m, columns: t.columns };
      }),
    }));
}

/**
 * The branch tensors for `modules` on the same targets, in the order of `rewriteWithLora`'s
 * branches: what to feed a model rewritten with `weights: 'inputs'` to run another adapter of the
 * same structure (a null view) without a new session.
 */
export function loraBranchWeights(
  targets: readonly ModuleTarget[],
  modules: readonly LoraModule[],
): BranchWeights[] {
  return nodeGroups(targets, modules).map(({ group, parts }) => {
    const p = group[0]!.projection;
    return branchWeights(p.node.name, p.inFeatures, p.outFeatures, parts);
  });
}

/**
 * Rewrites `model` with a LoRA branch beside every target (`mapModules`' answer for `modules`,
 * `loraModules`' answer). The model's own nodes, initializers and inputs are kept byte for byte,
 * except each adapted projection's output, renamed `<y>/lora_base` so that the branch's Add writes `y`.
 */
export function rewriteWithLora(
  model: OnnxModel,
  targets: readonly ModuleTarget[],
  modules: readonly LoraModule[],
  opts: LoraRewriteOptions = {},
): LoraRewrite {
  if (model.inputs.some((v) => v.name === LORA_SCALE_INPUT))
    throw new DeltascopeError(
      'model-load/unsupported',
      `the model already has an input named ${LORA_SCALE_INPUT}: is it rewritten already?`,
    );

  const edit: Required<
    Pick<OnnxEdit, 'replaceNodes' | 'insertAfter' | 'initializers' | 'inputs' | 'prepend'>
  > = {
    replaceNodes: new Map(),
    insertAfter: new Map(),
    initializers: [],
    inputs: [
      encodeValueInfo({ name: LORA_SCALE_INPUT, elemType: ONNX_DTYPE.float32, shape: ['batch_size'] }),
    ],
    prepend: [],
  };
  const branches: LoraBranch[] = [];
  const scaleRows = `${LORA_SCALE_INPUT}/rows`;
  const scaleRowsHalf = `${LORA_SCALE_INPUT}/rows_f16`;
  let needHalf = false;

  for (const { index, group, parts } of nodeGroups(targets, modules)) {
    const projection = group[0]!.projection;
    const node = projection.node;
    const dtype = projectionDtype(model, group[0]!);
    needHalf ||= dtype === 'float16';
    const w = branchWeights(node.name, projection.inFeatures, projection.outFeatures, parts);
    const elem = ONNX_DTYPE[dtype];
    if (opts.weights === 'inputs') {
      edit.inputs.push(encodeValueInfo({ name: w.aName, elemType: elem, shape: w.aDims }));
      edit.inputs.push(encodeValueInfo({ name: w.bName, elemType: elem, shape: w.bDims }));
    } else {
      edit.initializers.push(
        encodeInitializer({ name: w.aName, dims: w.aDims, dataType: elem, rawData: tensorBytes(w.a, dtype) }),
      );
      edit.initializers.push(
        encodeInitializer({ name: w.bName, dims: w.bDims, dataType: elem, rawData: tensorBytes(w.b, dtype) }),
      );
    }
    const y = projection.output;
    const base = `${y}/lora_base`;
    const p = `${node.name}/lora`;
    edit.replaceNodes.set(index, renameNodeIo(node, { outputs: { [y]: base } }));
    edit.insertAfter.set(index, [
      encodeNode({
        name: `${p}/MatMul_A`,
        opType: 'MatMul',
        inputs: [projection.input, w.aName],
        outputs: [`${p}/h`],
      }),
      encodeNode({
        name: `${p}/Mul_scale`,
        opType: 'Mul',
        inputs: [`${p}/h`, dtype === 'float16' ? scaleRowsHalf : scaleRows],
        outputs: [`${p}/h_scaled`],
      }),
      encodeNode({
        name: `${p}/MatMul_B`,
        opType: 'MatMul',
        inputs: [`${p}/h_scaled`, w.bName],
        outputs: [`${p}/delta`],
      }),
      encodeNode({ name: `${p}/Add`, opType: 'Add', inputs: [base, `${p}/delta`], outputs: [y] }),
    ]);
    branches.push({ ...w, node: node.name, modules: group.map((t) => t.module), dtype });
  }

  // λ per row as [batch, 1, 1] (a [1] feed broadcasts), cast once for float16 branches.
  const shapeName = `${LORA_SCALE_INPUT}/shape`;
  const shapeBytes = new Uint8Array(24);
  const shapeView = new DataView(shapeBytes.buffer);
  [-1n, 1n, 1n].forEach((v, i) => shapeView.setBigInt64(i * 8, v, true));
  edit.initializers.push(
    encodeInitializer({ name: shapeName, dims: [3], dataType: ONNX_DTYPE.int64, rawData: shapeBytes }),
  );
  edit.prepend.push(
    encodeNode({
      name: `/${LORA_SCALE_INPUT}/Reshape`,
      opType: 'Reshape',
      inputs: [LORA_SCALE_INPUT, shapeName],
      outputs: [scaleRows],
    }),
  );
  if (needHalf)
    edit.prepend.push(
      encodeNode({
        name: `/${LORA_SCALE_INPUT}/Cast`,
        opType: 'Cast',
        inputs: [scaleRows],
        outputs: [scaleRowsHalf],
        attributes: [['to', { kind: 'int', value: ONNX_DTYPE.float16 }]],
      }),
    );

  return { model: writeOnnxChunks(model, edit), scaleInput: LORA_SCALE_INPUT, branches };
}
