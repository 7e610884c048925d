const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
// One scratch buffer for the message schedule: the hash is synchronous and re-entrancy free.
const W = new Uint32Array(80);

/**
 * SHA-1 of a byte string. Synchronous on purpose: the hash sits on the cache-lookup hot path, and
 * `crypto.subtle.digest` is async-only (a microtask per lookup) and absent in some worker contexts.
 * SHA-1 is used as sway uses it: a stable key, not a security boundary.
 */
export function sha1Hex(bytes: Uint8Array): string {
  const len = bytes.length;
  // Message + 0x80 + zero pad + 64-bit big-endian bit length, to a multiple of 64 bytes.
  const blocks = ((len + 8) >> 6) + 1;
  const padded = new Uint8Array(blocks * 64);
  padded.set(bytes);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  const bitLen = len * 8;
  view.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
  view.setUint32(padded.length - 4, bitLen >>> 0);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;

  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
      W[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return [h0, h1, h2, h3, h4].map(wordHex).join('');
}

function wordHex(w: number): string {
  return HEX[(w >>> 24) & 0xff]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!;
}

/**
 * sway's prompt hash: the first 12 lowercase hex characters of SHA-1 over the UTF-8 bytes. Equal to
 * Python's `hashlib.sha1(p.encode()).hexdigest()[:12]` for every well-formed string; lone surrogates
 * become U+FFFD, as `TextEncoder` encodes them.
 */
export function promptHash(prompt: string): string {
  let h = memo.get(prompt);
  if (h === undefined) {
    h = sha1Hex(encoder.encode(prompt)).slice(0, 12);
    // Probes look the same prompts up again and again (both views, several probes, cache hits);
    // a bounded memo keeps SHA-1 off the hit path. Cleared wholesale when full: simple and O(1).
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(prompt, h);
  }
  return h;
}

const MEMO_MAX = 4096;
const memo = new Map<string, string>();

/** sway hashes a `(prompt, completion)` pair as `prompt + "\0" + completion`. */
export function pairHash(prompt: string, completion: string): string {
  return promptHash(`${prompt}\u0000${completion}`);
}
