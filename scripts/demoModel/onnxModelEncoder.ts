/**
 * Encodes the ONNX ModelProto subset the demo model and the model zoo use
 * (nodes in any domain, raw-data initializers of the common element types,
 * typed graph inputs/outputs with symbolic dims, several opset imports) into
 * protobuf bytes. Field numbers follow onnx/onnx.proto.
 *
 * Two ways out: `encodeOnnxModel` returns one buffer (the demo model, tests);
 * `encodeOnnxModelStream` returns the length and an iterator of chunks, with
 * initializer bytes viewed in place (little-endian hosts) or produced lazily,
 * so a large model is written without a second copy of its weights.
 */
import { ProtobufWriter, type LazyBytes } from './protobufWriter.ts';

export type OnnxElemType = 'float32' | 'float16' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool';

/** onnx.TensorProto.DataType values. */
export const ONNX_DATA_TYPE: Record<OnnxElemType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

/** Bytes per element of each element type. */
export const ONNX_ELEM_BYTES: Record<OnnxElemType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
};

/**
 * Tensor values. float16 tensors are their IEEE half bit patterns in a
 * Uint16Array (see zoo/float16.ts); bool tensors are a Uint8Array of 0/1 with
 * `elemType: 'bool'`.
 */
export type OnnxTensorData = Float32Array | Uint16Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxInitializer };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: [string, OnnxAttribute][];
  /** Operator domain, e.g. 'com.microsoft' for contrib ops; absent or '' for the default ONNX domain. */
  domain?: string;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /**
   * The values, or a function that produces them when the bytes are written
   * (streamed encoding: then only one tensor needs to exist at a time).
   */
  data: OnnxTensorData | (() => OnnxTensorData);
  /** Required for lazy data and for 'bool'; otherwise inferred from the array type. */
  elemType?: OnnxElemType;
}

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxElemType;
  /** Numbers are fixed sizes; strings are symbolic (dim_param) sizes. */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface OnnxModelMeta {
  irVersion: number;
  /** Version of the default ('' = ai.onnx) domain, always imported first. */
  opsetVersion: number;
  /** Further domains, e.g. { domain: 'com.microsoft', version: 1 } for contrib ops. */
  extraOpsets?: OpsetImport[];
  producerName: string;
  producerVersion: string;
  docString: string;
}

// onnx.AttributeProto.AttributeType values.
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function inferElemType(data: OnnxTensorData): OnnxElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint16Array) return 'float16';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int32Array) return 'int32';
  return 'int64';
}

/** The element type an initializer is written as. */
export function initializerElemType(t: OnnxInitializer): OnnxElemType {
  if (t.elemType) return t.elemType;
  if (typeof t.data === 'function') throw new Error(`onnx: lazy initializer ${t.name} needs an elemType`);
  return inferElemType(t.data);
}

function rawBytes(data: OnnxTensorData): Uint8Array {
  // One-byte types and little-endian hosts: the array's own bytes, no copy.
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  // Big-endian host: written through a DataView so the bytes are little-endian.
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array)
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] ?? 0, true);
  else if (data instanceof Int32Array)
    for (let i = 0; i < data.length; i++) view.setInt32(i * 4, data[i] ?? 0, true);
  else if (data instanceof Uint16Array)
    for (let i = 0; i < data.length; i++) view.setUint16(i * 2, data[i] ?? 0, true);
  else if (data instanceof BigInt64Array)
    for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i] ?? 0n, true);
  return out;
}

function writeTensor(w: ProtobufWriter, t: OnnxInitializer): void {
  const elemType = initializerElemType(t);
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_DATA_TYPE[elemType]);
  w.string(8, t.name);
  const count = t.dims.reduce((a, b) => a * b, 1);
  const byteLength = count * ONNX_ELEM_BYTES[elemType];
  const source = t.data;
  if (typeof source !== 'function') {
    if (source.byteLength !== byteLength) {
      throw new Error(
        `onnx: initializer ${t.name} has ${source.byteLength} bytes, dims [${t.dims}] need ${byteLength}`,
      );
    }
    w.bytes(9, rawBytes(source));
    return;
  }
  const lazy: LazyBytes = {
    byteLength,
    produce: () => {
      const data = source();
      const produced = inferElemType(data);
      const ok = produced === elemType || (elemType === 'bool' && produced === 'uint8');
      if (!ok) throw new Error(`onnx: lazy initializer ${t.name} produced ${produced}, declared ${elemType}`);
      return rawBytes(data);
    },
  };
  w.lazyBytes(9, lazy);
}

function writeValueInfo(w: ProtobufWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, ONNX_DATA_TYPE[v.elemType]);
      tensorType.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeAttribute(a: ProtobufWriter, name: string, attr: OnnxAttribute): void {
  a.string(1, name);
  switch (attr.kind) {
    case 'float':
      a.float(2, attr.value);
      break;
    case 'int':
      a.int(3, attr.value);
      break;
    case 'string':
      a.string(4, attr.value);
      break;
    case 'tensor':
      a.message(5, (t) => writeTensor(t, attr.value));
      break;
    case 'floats':
      for (const v of attr.value) a.float(7, v);
      break;
    case 'ints':
      for (const v of attr.value) a.int(8, v);
      break;
  }
  a.int(20, ATTR_TYPE[attr.kind]);
}

function writeNode(w: ProtobufWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, attr] of n.attributes) w.message(5, (a) => writeAttribute(a, name, attr));
  if (n.domain) w.string(7, n.domain);
}

function writeModel(graph: OnnxGraph, meta: OnnxModelMeta): ProtobufWriter {
  const w = new ProtobufWriter();
  w.int(1, meta.irVersion);
  w.string(2, meta.producerName);
  w.string(3, meta.producerVersion);
  w.string(6, meta.docString);
  w.message(7, (g) => {
    for (const n of graph.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const i of graph.inputs) g.message(11, (vw) => writeValueInfo(vw, i));
    for (const o of graph.outputs) g.message(12, (vw) => writeValueInfo(vw, o));
  });
  for (const { domain, version } of [
    { domain: '', version: meta.opsetVersion },
    ...(meta.extraOpsets ?? []),
  ]) {
    w.message(8, (op) => {
      op.string(1, domain);
      op.int(2, version);
    });
  }
  return w;
}

/** The whole model as one buffer. */
export function encodeOnnxModel(graph: OnnxGraph, meta: OnnxModelMeta): Uint8Array {
  return writeModel(graph, meta).finish();
}

/**
 * The model as its total length and its bytes in order, for writing to a file
 * piece by piece: eager initializers are viewed in place, lazy ones are produced
 * (and can be dropped) one at a time as the iterator reaches them.
 */
export function encodeOnnxModelStream(
  graph: OnnxGraph,
  meta: OnnxModelMeta,
): { byteLength: number; chunks: () => Generator<Uint8Array> } {
  const w = writeModel(graph, meta);
  return { byteLength: w.byteLength, chunks: () => w.chunks() };
}

/** Accumulates nodes and constants with unique, readable names. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();

  op(
    opType: string,
    inputs: string[],
    attributes: [string, OnnxAttribute][] = [],
    outputName?: string,
  ): string {
    const id = this.counter++;
    const out = outputName ?? `/${opType}_${id}_output`;
    this.nodes.push({ name: `/${opType}_${id}`, opType, inputs, outputs: [out], attributes });
    return out;
  }

  /** A node spelled out in full (its own name, several outputs, a domain); returns its outputs. */
  node(n: OnnxNode): string[] {
    this.nodes.push(n);
    return n.outputs;
  }

  initializer(name: string, dims: number[], data: OnnxInitializer['data'], elemType?: OnnxElemType): string {
    this.initializers.push(elemType ? { name, dims, data, elemType } : { name, dims, data });
    return name;
  }

  /** int64 constant, shared between uses with the same value and shape. */
  int64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = `const_i64_${this.constCache.size}`;
    this.initializer(name, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
    this.constCache.set(key, name);
    return name;
  }

  /** float32 scalar constant, shared between uses. */
  float(value: number): string {
    const key = `f32:${value}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = `const_f32_${this.constCache.size}`;
    this.initializer(name, [], Float32Array.from([value]));
    this.constCache.set(key, name);
    return name;
  }
}
