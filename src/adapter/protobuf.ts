/**
 * The protocol-buffers wire format, as far as an ONNX graph edit needs it: walk a message's fields
 * keeping each field's exact byte span (so untouched fields are written back byte for byte, and a
 * 500 MB initializer is never copied), and encode the few new messages a rewrite adds.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** One field of a message: its number, wire type, payload and the whole field's bytes (tag included). */
export interface PbField {
  field: number;
  wire: number;
  /** The full field as it sits in the message: tag, length prefix (if any) and payload. */
  raw: Uint8Array;
  /** Length-delimited payload (wire 2); empty for the other wire types. */
  bytes: Uint8Array;
  /** The value of a varint field (wire 0), as a bigint (int64 values may be negative two's complement). */
  varint: bigint;
}

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

/** Reads a varint at `pos`; returns the value and the next position. */
function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos++];
    if (b === undefined) throw new ProtobufError('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** A small non-negative varint (tags, lengths) without bigint arithmetic. */
function readSmallVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const b = buf[pos++];
    if (b === undefined) throw new ProtobufError('truncated varint');
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new ProtobufError('length varint too large');
}

/** Every field of `buf`, in order. Throws `ProtobufError` on a truncated or malformed message. */
export function* pbFields(buf: Uint8Array): Generator<PbField> {
  let pos = 0;
  const empty = buf.subarray(0, 0);
  while (pos < buf.length) {
    const start = pos;
    const [key, afterKey] = readSmallVarint(buf, pos);
    pos = afterKey;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let bytes = empty;
    let varint = 0n;
    if (wire === WIRE_VARINT) [varint, pos] = readVarint(buf, pos);
    else if (wire === WIRE_I64) pos += 8;
    else if (wire === WIRE_I32) pos += 4;
    else if (wire === WIRE_LEN) {
      const [len, afterLen] = readSmallVarint(buf, pos);
      bytes = buf.subarray(afterLen, afterLen + len);
      pos = afterLen + len;
    } else throw new ProtobufError(`unsupported wire type ${wire} (field ${field})`);
    if (pos > buf.length) throw new ProtobufError(`field ${field} runs past the end of its message`);
    if (field === 0) throw new ProtobufError('field number 0');
    yield { field, wire, raw: buf.subarray(start, pos), bytes, varint };
  }
}

const utf8 = new TextDecoder();
export const pbString = (f: PbField): string => utf8.decode(f.bytes);
/** An int64 varint as a number (two's complement negatives restored). */
export const pbInt = (f: PbField): number => Number(BigInt.asIntN(64, f.varint));

/** Builds a message as a list of byte pieces: nothing is copied until `finish`. */
export class PbWriter {
  readonly pieces: Uint8Array[] = [];
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  raw(bytes: Uint8Array): this {
    this.pieces.push(bytes);
    this.length += bytes.byteLength;
    return this;
  }

  private varint(value: bigint | number): void {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.raw(Uint8Array.from(out));
  }

  int(field: number, value: number | bigint): this {
    this.varint((field << 3) | WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.varint((field << 3) | WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.raw(b);
  }

  bytes(field: number, value: Uint8Array): this {
    this.varint((field << 3) | WIRE_LEN);
    this.varint(value.byteLength);
    return this.raw(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A nested message whose pieces are kept (a big tensor inside is not copied). */
  message(field: number, inner: PbWriter): this {
    this.varint((field << 3) | WIRE_LEN);
    this.varint(inner.length);
    for (const p of inner.pieces) this.raw(p);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const p of this.pieces) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  }
}
