/**
 * A minimal ONNX reader / editor for `src/` (page, worker and Node alike): enough of `ModelProto` to
 * find the projections a LoRA adapter targets and to add its branch beside them.
 *
 * Reading keeps every field's exact bytes (`raw`), and writing emits untouched fields as those bytes,
 * so a model read and written back without edits is byte-identical, and an edit touches only what it
 * names: an initializer's data is a slice of the input, never a copy, and a 500 MB model is written as
 * a list of pieces (`writeOnnxChunks`) that can be streamed or concatenated once.
 *
 * An edit can: replace a node (e.g. rename its output), insert nodes after a node (keeping the graph
 * topologically ordered), append initializers and graph inputs, and add an opset import. Nodes inside
 * subgraphs (If/Loop bodies) are not walked: the export layouts deltascope loads have none around
 * their projections.
 */
import { DeltascopeError } from '../core/errors.ts';
import { PbWriter, pbFields, pbInt, pbString, ProtobufError, type PbField } from './protobuf.ts';

/** ONNX `TensorProto.DataType` values deltascope writes or checks. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  float16: 10,
} as const;
export type OnnxDtypeName = keyof typeof ONNX_DTYPE;

// Field numbers (onnx.proto3).
const MODEL = { irVersion: 1, opsetImport: 8, graph: 7 } as const;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, dataLocation: 14 } as const;

export interface OnnxNodeInfo {
  /** Position in the graph's node list. */
  index: number;
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  /** The node's int attributes (`K`, `N`, `bits`, `block_size` of a MatMulNBits…). */
  intAttributes: Map<string, number>;
  /** The NodeProto's bytes. */
  raw: Uint8Array;
}

export interface OnnxInitializerInfo {
  name: string;
  dims: number[];
  dataType: number;
  /** `raw_data` as a slice of the model's bytes (empty when the values sit in typed fields or outside). */
  rawData: Uint8Array;
  /** Stored in an external file (`data_location: EXTERNAL`). */
  external: boolean;
  /** The TensorProto's bytes. */
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  /** Tensor element type (`ONNX_DTYPE`), 0 when not a tensor. */
  elemType: number;
  /** A number per fixed dim, its `dim_param` name per symbolic dim, null when neither is given. */
  shape: (number | string | null)[];
  raw: Uint8Array;
}

export interface OnnxModel {
  irVersion: number;
  /** domain ('' = default) → version. */
  opsets: Map<string, number>;
  nodes: OnnxNodeInfo[];
  initializers: OnnxInitializerInfo[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The ModelProto's fields in order (the graph's among them). */
  modelFields: PbField[];
  /** The GraphProto's fields in order. */
  graphFields: PbField[];
}

function readNode(f: PbField, index: number): OnnxNodeInfo {
  const n: OnnxNodeInfo = {
    index,
    name: '',
    opType: '',
    domain: '',
    inputs: [],
    outputs: [],
    intAttributes: new Map(),
    raw: f.bytes,
  };
  for (const g of pbFields(f.bytes)) {
    if (g.field === NODE.attribute) {
      let name = '';
      let value: number | null = null;
      for (const a of pbFields(g.bytes)) {
        if (a.field === 1) name = pbString(a);
        else if (a.field === 3 && a.wire === 0) value = pbInt(a);
      }
      if (value !== null) n.intAttributes.set(name, value);
    }
    if (g.field === NODE.input) n.inputs.push(pbString(g));
    else if (g.field === NODE.output) n.outputs.push(pbString(g));
    else if (g.field === NODE.name) n.name = pbString(g);
    else if (g.field === NODE.opType) n.opType = pbString(g);
    else if (g.field === NODE.domain) n.domain = pbString(g);
  }
  return n;
}

function readTensorInfo(bytes: Uint8Array): OnnxInitializerInfo {
  const t: OnnxInitializerInfo = {
    name: '',
    dims: [],
    dataType: 0,
    rawData: bytes.subarray(0, 0),
    external: false,
    raw: bytes,
  };
  for (const g of pbFields(bytes)) {
    if (g.field === TENSOR.dims && g.wire === 0) t.dims.push(pbInt(g));
    else if (g.field === TENSOR.dims && g.wire === 2) {
      // Packed dims.
      let pos = 0;
      const b = g.bytes;
      while (pos < b.length) {
        let v = 0n;
        let shift = 0n;
        for (;;) {
          const byte = b[pos++] ?? 0;
          v |= BigInt(byte & 0x7f) << shift;
          shift += 7n;
          if ((byte & 0x80) === 0) break;
        }
        t.dims.push(Number(BigInt.asIntN(64, v)));
      }
    } else if (g.field === TENSOR.dataType) t.dataType = pbInt(g);
    else if (g.field === TENSOR.name) t.name = pbString(g);
    else if (g.field === TENSOR.rawData) t.rawData = g.bytes;
    else if (g.field === TENSOR.dataLocation) t.external = pbInt(g) === 1;
  }
  return t;
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: [], raw: bytes };
  for (const f of pbFields(bytes)) {
    if (f.field === 1) v.name = pbString(f);
    else if (f.field === 2) {
      for (const type of pbFields(f.bytes)) {
        if (type.field !== 1) continue; // tensor_type
        for (const tt of pbFields(type.bytes)) {
          if (tt.field === 1) v.elemType = pbInt(tt);
          else if (tt.field === 2) {
            for (const dim of pbFields(tt.bytes)) {
              if (dim.field !== 1) continue;
              let d: number | string | null = null;
              for (const dv of pbFields(dim.bytes)) {
                if (dv.field === 1) d = pbInt(dv);
                else if (dv.field === 2) d = pbString(dv);
              }
              v.shape.push(d);
            }
          }
        }
      }
    }
  }
  return v;
}

/**
 * Reads an ONNX model. `input` names the file in the error a malformed one gets
 * (`model-load/invalid-file`).
 */
export function readOnnxModel(bytes: Uint8Array, input = 'model.onnx'): OnnxModel {
  try {
    const model: OnnxModel = {
      irVersion: 0,
      opsets: new Map(),
      nodes: [],
      initializers: [],
      inputs: [],
      outputs: [],
      modelFields: [],
      graphFields: [],
    };
    let graphs = 0;
    for (const f of pbFields(bytes)) {
      model.modelFields.push(f);
      if (f.field === MODEL.irVersion) model.irVersion = pbInt(f);
      else if (f.field === MODEL.opsetImport) {
        let domain = '';
        let version = 0;
        for (const o of pbFields(f.bytes)) {
          if (o.field === 1) domain = pbString(o);
          else if (o.field === 2) version = pbInt(o);
        }
        model.opsets.set(domain, version);
      } else if (f.field === MODEL.graph) {
        graphs++;
        for (const g of pbFields(f.bytes)) {
          model.graphFields.push(g);
          if (g.field === GRAPH.node) model.nodes.push(readNode(g, model.nodes.length));
          else if (g.field === GRAPH.initializer) model.initializers.push(readTensorInfo(g.bytes));
          else if (g.field === GRAPH.input) model.inputs.push(readValueInfo(g.bytes));
          else if (g.field === GRAPH.output) model.outputs.push(readValueInfo(g.bytes));
        }
      }
    }
    if (graphs !== 1) throw new ProtobufError(graphs === 0 ? 'no graph' : 'more than one graph');
    return model;
  } catch (e) {
    if (!(e instanceof ProtobufError)) throw e;
    throw new DeltascopeError(
      'model-load/invalid-file',
      `${input} is not a readable ONNX model: ${e.message}.`,
      {
        input,
        cause: e,
      },
    );
  }
}

export type OnnxAttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'string'; value: string };

export interface NewNode {
  name: string;
  opType: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  attributes?: [string, OnnxAttributeValue][];
}

export interface NewInitializer {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian element bytes, as `raw_data` holds them. */
  rawData: Uint8Array;
}

export interface NewGraphInput {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

/** AttributeProto.AttributeType. */
const ATTR_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

export function encodeNode(n: NewNode): PbWriter {
  const w = new PbWriter();
  for (const i of n.inputs) w.string(NODE.input, i);
  for (const o of n.outputs) w.string(NODE.output, o);
  w.string(NODE.name, n.name);
  w.string(NODE.opType, n.opType);
  for (const [name, a] of n.attributes ?? []) {
    const attr = new PbWriter().string(1, name);
    if (a.kind === 'float') attr.float(2, a.value);
    else if (a.kind === 'int') attr.int(3, a.value);
    else if (a.kind === 'string') attr.string(4, a.value);
    else for (const v of a.value) attr.int(8, v);
    attr.int(20, ATTR_TYPE[a.kind]);
    w.message(NODE.attribute, attr);
  }
  if (n.domain) w.string(NODE.domain, n.domain);
  return w;
}

export function encodeInitializer(t: NewInitializer): PbWriter {
  const w = new PbWriter();
  for (const d of t.dims) w.int(TENSOR.dims, d);
  w.int(TENSOR.dataType, t.dataType);
  w.string(TENSOR.name, t.name);
  w.bytes(TENSOR.rawData, t.rawData);
  return w;
}

export function encodeValueInfo(v: NewGraphInput): PbWriter {
  const shape = new PbWriter();
  for (const d of v.shape) {
    const dim = new PbWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new PbWriter().int(1, v.elemType).message(2, shape);
  const type = new PbWriter().message(1, tensorType);
  return new PbWriter().string(1, v.name).message(2, type);
}

/**
 * A node's NodeProto with some of its inputs / outputs renamed (attributes, name and everything else
 * kept as they are): how a rewrite moves a projection's output aside to add a branch to it.
 */
export function renameNodeIo(
  node: OnnxNodeInfo,
  rename: { inputs?: Record<string, string>; outputs?: Record<string, string> },
): PbWriter {
  const w = new PbWriter();
  for (const f of pbFields(node.raw)) {
    const map = f.field === NODE.input ? rename.inputs : f.field === NODE.output ? rename.outputs : undefined;
    const to = map?.[pbString(f)];
    if (to !== undefined) w.string(f.field, to);
    else w.raw(f.raw);
  }
  return w;
}

/** Edits to apply when writing: node indices are those of the model as read. */
export interface OnnxEdit {
  /** Node index → its replacement (e.g. from `renameNodeIo`). */
  replaceNodes?: Map<number, PbWriter>;
  /** Nodes inserted before the first node (e.g. shared preparation of a new graph input). */
  prepend?: PbWriter[];
  /** Node index → nodes inserted right after it, in order. */
  insertAfter?: Map<number, PbWriter[]>;
  initializers?: PbWriter[];
  inputs?: PbWriter[];
  /** domain → version, added when the model does not import the domain yet. */
  opsets?: Map<string, number>;
}

/**
 * The model with `edit` applied, as pieces in file order: every untouched field is a slice of the
 * bytes the model was read from. New initializers go after the last existing initializer, new graph
 * inputs after the last existing input.
 */
export function writeOnnxChunks(model: OnnxModel, edit: OnnxEdit = {}): PbWriter {
  const graph = new PbWriter();
  let nodeIndex = 0;
  const lastOf = (field: number): number => model.graphFields.map((f) => f.field).lastIndexOf(field);
  const lastInit = lastOf(GRAPH.initializer);
  const lastInput = lastOf(GRAPH.input);
  const newInits = edit.initializers ?? [];
  const newInputs = edit.inputs ?? [];
  model.graphFields.forEach((f, i) => {
    if (f.field === GRAPH.node) {
      if (nodeIndex === 0) for (const extra of edit.prepend ?? []) graph.message(GRAPH.node, extra);
      const replacement = edit.replaceNodes?.get(nodeIndex);
      if (replacement) graph.message(GRAPH.node, replacement);
      else graph.raw(f.raw);
      for (const extra of edit.insertAfter?.get(nodeIndex) ?? []) graph.message(GRAPH.node, extra);
      nodeIndex++;
    } else graph.raw(f.raw);
    if (i === lastInit) for (const t of newInits) graph.message(GRAPH.initializer, t);
    if (i === lastInput) for (const v of newInputs) graph.message(GRAPH.input, v);
  });
  if (lastInit < 0) for (const t of newInits) graph.message(GRAPH.initializer, t);
  if (lastInput < 0) for (const v of newInputs) graph.message(GRAPH.input, v);

  const out = new PbWriter();
  const newOpsets = [...(edit.opsets ?? [])].filter(([domain]) => !model.opsets.has(domain));
  const lastOpset = model.modelFields.map((f) => f.field).lastIndexOf(MODEL.opsetImport);
  const opsetImport = ([domain, version]: [string, number]): PbWriter =>
    out.message(MODEL.opsetImport, new PbWriter().string(1, domain).int(2, version));
  if (lastOpset < 0) newOpsets.forEach(opsetImport);
  model.modelFields.forEach((f, i) => {
    if (f.field === MODEL.graph) out.message(MODEL.graph, graph);
    else out.raw(f.raw);
    if (i === lastOpset) newOpsets.forEach(opsetImport);
  });
  return out;
}

/** `writeOnnxChunks` concatenated into one buffer. */
export function writeOnnxModel(model: OnnxModel, edit: OnnxEdit = {}): Uint8Array {
  return writeOnnxChunks(model, edit).finish();
}
