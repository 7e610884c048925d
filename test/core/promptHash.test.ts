import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pairHash, promptHash, sha1Hex } from '../../src/core/index.ts';

// Computed with Python: hashlib.sha1(p.encode()).hexdigest()[:12]
const PYTHON_VECTORS: [string, string][] = [
  ['', 'da39a3ee5e6b'],
  ['prompt', '9c7e05e5868a'],
  ['the capital', '2c73d9790acb'],
  ['The capital of France is', '2f0ef9e54ace'],
  ['h\u00e9llo w\u00f6rld', '24e9f5c07847'],
  ['\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8', '5978763927b1'],
  ['\u{1F44B}\u{1F3FD} emoji family \u{1F468}\u200d\u{1F469}\u200d\u{1F467}', '29e6b114b9d6'],
  ['a\u0000b', '4a3dec2d1f82'],
  ['x'.repeat(1000), 'c3efa690fa3f'],
  ['line\nbreak\ttab', '5f35a9a02eb9'],
  ['\ud7ff\ue000\u{10FFFF}', 'f6ad8545984f'],
];

describe('promptHash', () => {
  it.each(PYTHON_VECTORS)('matches Python for %j', (prompt, expected) => {
    expect(promptHash(prompt)).toBe(expected);
  });

  it('turns a lone surrogate into U+FFFD, as TextEncoder does', () => {
    // Python: hashlib.sha1('\ufffd'.encode()).hexdigest()[:12] and 'a\ufffdb'
    expect(promptHash('\ud800')).toBe('9bdb77276c18');
    expect(promptHash('a\udc00b')).toBe('c3693aea616c');
  });

  it('is 12 lowercase hex characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(promptHash(s)).toMatch(/^[0-9a-f]{12}$/);
      }),
    );
  });

  it('agrees with node:crypto SHA-1 on arbitrary strings, every length across block borders', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const bytes = new TextEncoder().encode(s);
        expect(sha1Hex(bytes)).toBe(createHash('sha1').update(bytes).digest('hex'));
      }),
      { numRuns: 500 },
    );
    for (let n = 0; n < 200; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(sha1Hex(bytes)).toBe(createHash('sha1').update(bytes).digest('hex'));
    }
  });

  it('hashes a (prompt, completion) pair as prompt NUL completion', () => {
    expect(pairHash('a', 'b')).toBe(promptHash('a\u0000b'));
    expect(pairHash('a', 'b')).toBe('4a3dec2d1f82');
  });
});
