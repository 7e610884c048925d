// Views as rows: requests made before the event loop's next turn run as one group with a scale per
// row, and every request gets exactly its own rows back, whatever the mix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogitsRunner } from '../../src/backend/logitsRunner.ts';
import { ViewRowMerger } from '../../src/backend/viewRows.ts';

/** A runner whose logits for a row are [scale, want, ...row], the scale read as extraFeeds would. */
function fakeRunner(merger: ViewRowMerger, calls: number[][], fail = () => false): LogitsRunner {
  const logits = (rows: readonly (readonly number[])[], want: string) => {
    // Two "session runs" per call, as a budget split would make: each reads its own rows' scales.
    const half = Math.ceil(rows.length / 2);
    const scales = [...merger.scales(half, 0), ...merger.scales(rows.length - half, half)];
    calls.push(scales);
    if (fail()) throw new Error('session failed');
    return rows.map((r, i) => Float32Array.from([scales[i]!, want === 'all' ? 1 : 0, ...r]));
  };
  return {
    vocabSize: 4,
    eosTokenIds: [],
    stuffingToken: null,
    encode: () => [],
    decode: () => '',
    tokenStrings: () => [],
    generateGreedy: () => Promise.resolve([]),
    dispose: () => Promise.resolve(),
    forward: (rows, want) => Promise.resolve(logits(rows, want)),
    forwardEach: (rows, want, consume) => {
      logits(rows, want).forEach((l, i) => consume(i, 0, l));
      return Promise.resolve();
    },
  };
}

describe('ViewRowMerger', () => {
  it('every request gets its own rows at its own scale, whatever arrives together (property)', async () => {
    const request = fc.record({
      scale: fc.constantFrom(0, 0.5, 1, 2),
      rows: fc.array(fc.array(fc.nat(50), { minLength: 1, maxLength: 4 }), { maxLength: 5 }),
      want: fc.constantFrom('last' as const, 'all' as const),
      each: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 12 }),
        async (reqs, maxRows) => {
          const merger = new ViewRowMerger(maxRows);
          const calls: number[][] = [];
          merger.runner = fakeRunner(merger, calls);
          const results = await Promise.all(
            reqs.map(async (r) => {
              if (!r.each) return merger.forward(r.scale, r.rows, r.want);
              const got: Float32Array[] = [];
              await merger.forwardEach(r.scale, r.rows, r.want, (row, _p, l) => (got[row] = l.slice()));
              return got;
            }),
          );
          reqs.forEach((r, i) => {
            expect(results[i]!.map((l) => Array.from(l))).toEqual(
              r.rows.map((row) => [r.scale, r.want === 'all' ? 1 : 0, ...row]),
            );
          });
          // No group is bigger than the cap unless one request alone is.
          const biggest = Math.max(...reqs.map((r) => r.rows.length));
          for (const c of calls) expect(c.length).toBeLessThanOrEqual(Math.max(maxRows, biggest));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('base and ft asked together run as one group; a later request runs as the next', async () => {
    const merger = new ViewRowMerger(64);
    const calls: number[][] = [];
    merger.runner = fakeRunner(merger, calls);
    const rows = [[1, 2], [3]];
    await Promise.all([merger.forward(0, rows, 'last'), merger.forward(1, rows, 'last')]);
    expect(calls).toEqual([[0, 0, 1, 1]]);
    await merger.forward(0.5, rows, 'last');
    expect(calls).toEqual([
      [0, 0, 1, 1],
      [0.5, 0.5],
    ]);
    expect(merger.stats).toEqual({ groups: 2, requests: 3, rows: 6 });
  });

  it('a failing session run rejects that group only', async () => {
    const merger = new ViewRowMerger(2);
    const calls: number[][] = [];
    let n = 0;
    merger.runner = fakeRunner(merger, calls, () => n++ === 0);
    const [a, b] = await Promise.allSettled([
      merger.forward(0, [[1], [2]], 'last'),
      merger.forward(1, [[1], [2]], 'last'),
    ]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
    // The merger keeps working after a failure.
    await expect(merger.forward(1, [[7]], 'all')).resolves.toHaveLength(1);
  });
});
