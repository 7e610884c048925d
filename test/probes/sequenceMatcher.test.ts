import { describe, expect, it } from 'vitest';
import { sequenceMatcherRatio } from '../../src/probes/sequenceMatcher.ts';

// Expected values from Python: difflib.SequenceMatcher(None, a, b).ratio()
const CASES: [string, string, number][] = [
  ['abcd', 'bcde', 0.75],
  ['hello world', 'hello there world', 0.7857142857142857],
  ['', '', 1.0],
  ['abc', '', 0.0],
  [
    'The quick brown fox jumps over the lazy dog.',
    'The quick brown cat jumps over a lazy dog!',
    0.8604651162790697,
  ],
  ['a'.repeat(250) + 'b'.repeat(10), 'a'.repeat(220) + 'c'.repeat(1) + 'b'.repeat(12), 0.8924949290060852],
  ['private Thread currentThread;', 'private volatile Thread currentThread;', 0.8656716417910447],
  ['日本語テキスト', '日本のテキスト', 0.8571428571428571],
];

describe('sequenceMatcherRatio (difflib port)', () => {
  it.each(CASES)('ratio(%j, %j) = %d', (a, b, expected) => {
    expect(sequenceMatcherRatio(a, b)).toBeCloseTo(expected, 12);
  });
});
