/**
 * A minimal protocol-buffers wire-format writer. Enough for the ONNX subset the
 * demo model and the model zoo need; hand-written so the bytes depend only on
 * the call order.
 *
 * Nested messages keep their pieces instead of being concatenated, and a piece
 * may be lazy (its length known up front, its bytes produced when written), so
 * a 500 MB model can be streamed to disk with one tensor in memory at a time.
 */

/** Bytes whose length is known now and whose content is produced when they are written. */
export interface LazyBytes {
  readonly byteLength: number;
  produce(): Uint8Array;
}

type Piece = Uint8Array | LazyBytes;

export class ProtobufWriter {
  private pieces: Piece[] = [];
  private length = 0;

  private push(piece: Piece): void {
    this.pieces.push(piece);
    this.length += piece.byteLength;
  }

  private varint(value: bigint): void {
    // Negative int64 values are written as their 64-bit two's complement, as protobuf requires.
    let v = value < 0n ? (1n << 64n) + value : value;
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  /** Bytes written so far (lazy pieces counted at their declared length). */
  get byteLength(): number {
    return this.length;
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  /** A length-delimited field whose content is produced only when the output is read. */
  lazyBytes(field: number, value: LazyBytes): this {
    this.tag(field, 2);
    this.varint(BigInt(value.byteLength));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    build(inner);
    this.tag(field, 2);
    this.varint(BigInt(inner.length));
    for (const p of inner.pieces) this.push(p);
    return this;
  }

  /**
   * The output in order, producing lazy pieces as they are reached. A lazy piece
   * that produces a different length than it declared would corrupt every
   * enclosing length prefix, so that throws.
   */
  *chunks(): Generator<Uint8Array> {
    for (const p of this.pieces) {
      if (p instanceof Uint8Array) {
        yield p;
        continue;
      }
      const bytes = p.produce();
      if (bytes.byteLength !== p.byteLength) {
        throw new Error(`protobuf: lazy piece produced ${bytes.byteLength} bytes, declared ${p.byteLength}`);
      }
      yield bytes;
    }
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks()) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
