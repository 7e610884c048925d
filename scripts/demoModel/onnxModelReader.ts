/**
 * Reads the initializers of an ONNX file back into HF-orientation weights, so
 * tests and the reference forward can check the bytes that were actually
 * written rather than the builder's in-memory arrays.
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
