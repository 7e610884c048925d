/**
 * Reads the names an ONNX file carries — nodes (name, op, domain, inputs,
 * int/string attributes) and initializers (name, data type, dims) — so the
 * zoo tests check the layout in the written bytes, not the builder's objects.
 */
export interface NodeInfo {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, number | string>;
}

export interface InitializerInfo {
  name: string;
  dataType: number;
  dims: number[];
}

function* fields(buf: Uint8Array): Generator<{ field: number; wire: number; value: bigint | Uint8Array }> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield { field, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      yield { field, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 5) {
      yield { field, wire, value: buf.subarray(pos, pos + 4) };
      pos += 4;
    } else if (wire === 1) {
      yield { field, wire, value: buf.subarray(pos, pos + 8) };
      pos += 8;
    } else throw new Error(`wire type ${wire}`);
  }
}

const text = (v: bigint | Uint8Array): string => new TextDecoder().decode(v as Uint8Array);
const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));

function readNode(buf: Uint8Array): NodeInfo {
  const n: NodeInfo = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: {} };
  for (const f of fields(buf)) {
    if (f.field === 1) n.inputs.push(text(f.value));
    else if (f.field === 2) n.outputs.push(text(f.value));
    else if (f.field === 3) n.name = text(f.value);
    else if (f.field === 4) n.opType = text(f.value);
    else if (f.field === 7) n.domain = text(f.value);
    else if (f.field === 5) {
      let name = '';
      let value: number | string | undefined;
      for (const a of fields(f.value as Uint8Array)) {
        if (a.field === 1) name = text(a.value);
        else if (a.field === 3) value = signed(a.value as bigint);
        else if (a.field === 4) value = text(a.value);
      }
      if (value !== undefined) n.attrs[name] = value;
    }
  }
  return n;
}

function readInitializer(buf: Uint8Array): InitializerInfo {
  const t: InitializerInfo = { name: '', dataType: 0, dims: [] };
  for (const f of fields(buf)) {
    if (f.field === 1 && f.wire === 0) t.dims.push(Number(f.value));
    else if (f.field === 2) t.dataType = Number(f.value);
    else if (f.field === 8) t.name = text(f.value);
  }
  return t;
}

export function readOnnxNames(model: Uint8Array): { nodes: NodeInfo[]; initializers: InitializerInfo[] } {
  const nodes: NodeInfo[] = [];
  const initializers: InitializerInfo[] = [];
  for (const m of fields(model)) {
    if (m.field !== 7) continue;
    for (const g of fields(m.value as Uint8Array)) {
      if (g.field === 1) nodes.push(readNode(g.value as Uint8Array));
      else if (g.field === 5) initializers.push(readInitializer(g.value as Uint8Array));
    }
  }
  return { nodes, initializers };
}
