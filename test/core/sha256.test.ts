// The incremental SHA-256 against node:crypto: known vectors (FIPS 180-4 / NIST), the padding
// boundaries (55, 56, 63, 64, 65 bytes), and random bytes fed in random chunks giving one digest.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Hex } from '../../src/core/sha256.ts';

const node = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Sha256', () => {
  it('gives the published digests', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    // One million 'a's, fed in uneven pieces.
    const h = new Sha256();
    const piece = new Uint8Array(9973).fill(0x61);
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, piece.length);
      h.update(piece.subarray(0, n));
      left -= n;
    }
    expect(h.bytes).toBe(1_000_000);
    expect(h.digestHex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('pads right at every block boundary', () => {
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
      expect(sha256Hex(bytes), `${n} bytes`).toBe(node(bytes));
    }
  });

  it('hashes UTF-8 text as its bytes', () => {
    const text = 'λ-scaled view — 漢字 🙂';
    expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
  });

  it('any chunking of any bytes gives node:crypto’s digest', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 700 }),
        fc.array(fc.nat({ max: 200 }), { maxLength: 12 }),
        (bytes, cuts) => {
          const h = new Sha256();
          let at = 0;
          for (const c of cuts) {
            const end = Math.min(bytes.length, at + c);
            h.update(bytes.subarray(at, end));
            at = end;
          }
          h.update(bytes.subarray(at));
          expect(h.digestHex()).toBe(node(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const buf = new Uint8Array(300).map((_, i) => i & 0xff);
    const view = buf.subarray(13, 213);
    expect(sha256Hex(view)).toBe(node(view));
  });

  it('refuses input after the digest', () => {
    const h = new Sha256().update(new Uint8Array([1]));
    h.digestHex();
    expect(() => h.update(new Uint8Array([2]))).toThrow(/after digest/);
    expect(h.digestHex()).toBe(node(new Uint8Array([1])));
  });
});
