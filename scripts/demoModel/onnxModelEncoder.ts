/**
 * Encodes the ONNX ModelProto subset the demo model uses (nodes, raw-data
 * initializers, typed graph inputs/outputs with symbolic dims) into protobuf
 * bytes. Field numbers follow onnx/onnx.proto.
 */
import { ProtobufWriter } from './protobufWriter.ts';

export type OnnxElemType = 'float32' | 'int64';

/** onnx.TensorProto.DataType values. */
export const ONNX_DATA_TYPE: Record<OnnxElemType, number> = { float32: 1, int64: 7 };

export type OnnxAttribute =
  { kind: 'int'; value: number } | { kind: 'ints'; value: number[] } | { kind: 'float'; value: number };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: [string, OnnxAttribute][];
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
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

export interface OnnxModelMeta {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
}

// onnx.AttributeProto.AttributeType values.
const ATTR_TYPE = { float: 1, int: 2, ints: 7 } as const;

function rawBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // Written through a DataView so the bytes are little-endian whatever the host is.
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] ?? 0, true);
  } else {
    for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i] ?? 0n, true);
  }
  return out;
}

function writeTensor(w: ProtobufWriter, t: OnnxInitializer): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? ONNX_DATA_TYPE.float32 : ONNX_DATA_TYPE.int64);
  w.string(8, t.name);
  w.bytes(9, rawBytes(t.data));
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

function writeNode(w: ProtobufWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, attr] of n.attributes) {
    w.message(5, (a) => {
      a.string(1, name);
      if (attr.kind === 'float') a.float(2, attr.value);
      else if (attr.kind === 'int') a.int(3, attr.value);
      else for (const v of attr.value) a.int(8, v);
      a.int(20, ATTR_TYPE[attr.kind]);
    });
  }
}

export function encodeOnnxModel(graph: OnnxGraph, meta: OnnxModelMeta): Uint8Array {
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
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, meta.opsetVersion);
  });
  return w.finish();
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

  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    this.initializers.push({ name, dims, data });
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
