/**
 * Reads an ONNX file back: initializers as HF-orientation weights, and a graph
 * summary (versions, ops, typed inputs/outputs). Tests and the reference forward
 * use it to check the bytes that were actually written, not the builder's arrays.
 */
import { isLinearWeight, type LlamaWeights } from './demoModelConfig.ts';

interface RawTensor {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array;
}

class ProtobufReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Error('protobuf: truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wireType}`);
  }
}

function* fields(buf: Uint8Array): Generator<{ field: number; wire: number; r: ProtobufReader }> {
  const r = new ProtobufReader(buf);
  while (!r.done) {
    const key = Number(r.varint());
    yield { field: key >> 3, wire: key & 7, r };
  }
}

function readTensor(buf: Uint8Array): RawTensor {
  const t: RawTensor = { name: '', dims: [], dataType: 0, raw: new Uint8Array(0) };
  for (const { field, wire, r } of fields(buf)) {
    if (field === 1 && wire === 0) t.dims.push(Number(r.varint()));
    else if (field === 1 && wire === 2) {
      const packed = new ProtobufReader(r.bytes());
      while (!packed.done) t.dims.push(Number(packed.varint()));
    } else if (field === 2) t.dataType = Number(r.varint());
    else if (field === 8) t.name = new TextDecoder().decode(r.bytes());
    else if (field === 9) t.raw = r.bytes();
    else r.skip(wire);
  }
  return t;
}

export interface OnnxFloatTensor {
  dims: number[];
  data: Float32Array;
}

/** All float32 initializers of an ONNX model, as stored (linear weights are [in, out]). */
export function readOnnxFloatInitializers(model: Uint8Array): Map<string, OnnxFloatTensor> {
  const out = new Map<string, OnnxFloatTensor>();
  for (const m of fields(model)) {
    if (m.field !== 7) {
      m.r.skip(m.wire);
      continue;
    }
    for (const g of fields(m.r.bytes())) {
      if (g.field !== 5) {
        g.r.skip(g.wire);
        continue;
      }
      const t = readTensor(g.r.bytes());
      if (t.dataType !== 1) continue;
      const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
      const data = new Float32Array(t.raw.byteLength / 4);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
      out.set(t.name, { dims: t.dims, data });
    }
  }
  return out;
}

/** The model's parameters in HF orientation ([out, in] for linear layers), keyed by HF name. */
export function readLlamaWeightsFromOnnx(model: Uint8Array): LlamaWeights {
  const weights: LlamaWeights = new Map();
  for (const [name, t] of readOnnxFloatInitializers(model)) {
    if (!isLinearWeight(name)) {
      weights.set(name, t.data);
      continue;
    }
    const [inp, outDim] = t.dims as [number, number];
    const hf = new Float32Array(t.data.length);
    for (let i = 0; i < inp; i++)
      for (let o = 0; o < outDim; o++) hf[o * inp + i] = t.data[i * outDim + o] ?? 0;
    weights.set(name, hf);
  }
  return weights;
}

export interface OnnxValueSummary {
  name: string;
  elemType: number;
  /** Fixed sizes as numbers, symbolic sizes as their dim_param names. */
  shape: (number | string)[];
}

export interface OnnxGraphSummary {
  irVersion: number;
  /** domain → version. */
  opsets: Record<string, number>;
  /** domain:opType of every node, in graph order. */
  ops: string[];
  inputs: OnnxValueSummary[];
  outputs: OnnxValueSummary[];
}

function readValueInfo(buf: Uint8Array): OnnxValueSummary {
  const v: OnnxValueSummary = { name: '', elemType: 0, shape: [] };
  for (const f of fields(buf)) {
    if (f.field === 1) v.name = new TextDecoder().decode(f.r.bytes());
    else if (f.field !== 2) f.r.skip(f.wire);
    else {
      for (const type of fields(f.r.bytes())) {
        if (type.field !== 1) {
          type.r.skip(type.wire);
          continue;
        }
        for (const tensor of fields(type.r.bytes())) {
          if (tensor.field === 1) v.elemType = Number(tensor.r.varint());
          else if (tensor.field !== 2) tensor.r.skip(tensor.wire);
          else {
            for (const dim of fields(tensor.r.bytes())) {
              if (dim.field !== 1) {
                dim.r.skip(dim.wire);
                continue;
              }
              for (const dv of fields(dim.r.bytes())) {
                if (dv.field === 1) v.shape.push(Number(dv.r.varint()));
                else if (dv.field === 2) v.shape.push(new TextDecoder().decode(dv.r.bytes()));
                else dv.r.skip(dv.wire);
              }
            }
          }
        }
      }
    }
  }
  return v;
}

/** The contract-level facts of an ONNX file: versions, op types and typed graph inputs/outputs. */
export function readOnnxGraphSummary(model: Uint8Array): OnnxGraphSummary {
  const summary: OnnxGraphSummary = { irVersion: 0, opsets: {}, ops: [], inputs: [], outputs: [] };
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  for (const m of fields(model)) {
    if (m.field === 1) summary.irVersion = Number(m.r.varint());
    else if (m.field === 8) {
      let domain = '';
      let version = 0;
      for (const o of fields(m.r.bytes())) {
        if (o.field === 1) domain = text(o.r.bytes());
        else if (o.field === 2) version = Number(o.r.varint());
        else o.r.skip(o.wire);
      }
      summary.opsets[domain] = version;
    } else if (m.field === 7) {
      for (const g of fields(m.r.bytes())) {
        if (g.field === 1) {
          let opType = '';
          let domain = '';
          for (const n of fields(g.r.bytes())) {
            if (n.field === 4) opType = text(n.r.bytes());
            else if (n.field === 7) domain = text(n.r.bytes());
            else n.r.skip(n.wire);
          }
          summary.ops.push(`${domain}:${opType}`);
        } else if (g.field === 11) summary.inputs.push(readValueInfo(g.r.bytes()));
        else if (g.field === 12) summary.outputs.push(readValueInfo(g.r.bytes()));
        else g.r.skip(g.wire);
      }
    } else m.r.skip(m.wire);
  }
  return summary;
}
