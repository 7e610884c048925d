/**
 * Reads a PEFT `adapter_model.safetensors` from bytes, in the page or in Node (no `fs`, no runtime).
 *
 * The container: an 8-byte little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {…}}`), then the data section,
 * whose offsets are relative to its start. An adapter is a few MB, but the file comes from a user or
 * a hub repo, so nothing in it is trusted: every length and offset is checked against the bytes
 * actually present before anything is read, and every refusal is a `DeltascopeError`
 * (`model-load/invalid-file`, `input` = the file) whose message says what is wrong — never a
 * RangeError from a DataView or a 4 GB allocation because a header said so.
 */
import { DeltascopeError } from '../core/errors.ts';
import { fromFloat16Bits } from '../core/float16.ts';

/** The dtypes an adapter is saved in. All are widened to float32 (exact for F16 and BF16). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export const SAFETENSORS_DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsTensor {
  /** The dtype as stored; `data` is always float32. */
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  /** Tensors in header order (JSON key order). */
  tensors: Map<string, SafetensorsTensor>;
  /** `__metadata__` (string → string), empty when absent. */
  metadata: Record<string, string>;
}

/**
 * A header longer than this is refused before it is decoded. safetensors' own reader caps it at
 * 100 MB; an adapter's header is a few kB (one entry per tensor), so a larger one means a corrupt or
 * hostile file.
 */
export const MAX_HEADER_BYTES = 100_000_000;

function fail(input: string, problem: string): never {
  throw new DeltascopeError(
    'model-load/invalid-file',
    `${input} is not a valid safetensors file: ${problem}. Re-save the adapter with PEFT's save_pretrained (safe_serialization=True).`,
    { input },
  );
}

const isDtype = (d: unknown): d is SafetensorsDtype => d === 'F32' || d === 'F16' || d === 'BF16';

/** IEEE half → float32 (exact: every half is a float32). */
export const halfToFloat = fromFloat16Bits;

function decodeData(bytes: Uint8Array, begin: number, count: number, dtype: SafetensorsDtype): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, count * SAFETENSORS_DTYPE_BYTES[dtype]);
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    // bfloat16 is the top half of a float32.
    const word = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      word.setUint32(0, view.getUint16(i * 2, true) << 16, true);
      out[i] = word.getFloat32(0, true);
    }
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(input: string, name: string, value: unknown): Entry {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(input, `the header entry for "${name}" is not an object`);
  const v = value as Record<string, unknown>;
  if (!isDtype(v.dtype))
    fail(
      input,
      `tensor "${name}" has dtype ${JSON.stringify(v.dtype)}; deltascope reads F32, F16 and BF16 adapters`,
    );
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    fail(input, `tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  const offsets = v.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  )
    fail(input, `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(input, `tensor "${name}" ends (${end}) before it begins (${begin})`);
  return { name, dtype: v.dtype, shape: shape as number[], begin, end };
}

/**
 * Decodes a safetensors file. `input` names it in every error (e.g. `adapter/adapter_model.safetensors`).
 * The checks, in order: at least 8 bytes; a header length ≤ `MAX_HEADER_BYTES` and inside the file;
 * UTF-8 JSON, an object; every entry's dtype, shape and offsets well-formed; element count × dtype
 * size equal to the byte span; tensors laid out in order without gaps or overlaps, the last one
 * ending exactly at the end of the file (what safetensors' own validation demands).
 */
export function decodeSafetensors(bytes: Uint8Array, input = 'adapter_model.safetensors'): SafetensorsFile {
  if (bytes.byteLength < 8)
    fail(input, `it is ${bytes.byteLength} bytes long, shorter than the 8-byte header length (truncated?)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    fail(
      input,
      `its header claims ${headerLength} bytes, more than the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`,
    );
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength)
    fail(
      input,
      `its header claims ${n} bytes but only ${bytes.byteLength - 8} follow the length field (truncated?)`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(input, `its header is not UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail(input, 'its header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        fail(input, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(input, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(input, name, value));
  }

  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  for (const e of entries) {
    if (e.end > dataLength)
      fail(
        input,
        `tensor "${e.name}" spans bytes ${e.begin}–${e.end} of the data section, which has ${dataLength} (truncated?)`,
      );
    const count = e.shape.reduce((a, b) => a * b, 1);
    const span = e.end - e.begin;
    if (count * SAFETENSORS_DTYPE_BYTES[e.dtype] !== span)
      fail(
        input,
        `tensor "${e.name}" has shape [${e.shape.join(', ')}] (${count} ${e.dtype} values, ${count * SAFETENSORS_DTYPE_BYTES[e.dtype]} bytes) but spans ${span} bytes`,
      );
  }
  // Offsets must tile the data section: sorted by begin, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor)
      fail(
        input,
        e.begin < cursor
          ? `tensor "${e.name}" (bytes ${e.begin}–${e.end}) overlaps the tensor before it (which ends at ${cursor})`
          : `there is a gap in the data section before tensor "${e.name}" (bytes ${cursor}–${e.begin} belong to no tensor)`,
      );
    cursor = e.end;
  }
  if (cursor !== dataLength)
    fail(
      input,
      `its data section is ${dataLength} bytes but its tensors cover ${cursor} (${dataLength - cursor} trailing bytes)`,
    );

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      data: decodeData(bytes, dataStart + e.begin, count, e.dtype),
    });
  }
  return { tensors, metadata };
}
