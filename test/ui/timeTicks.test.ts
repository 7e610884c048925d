import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTimeTicks } from '../../src/ui/timeTicks.ts';

describe('formatTimeTicks', () => {
  it('a span under a second reads in milliseconds, with no repeated label', () => {
    expect(formatTimeTicks([0, 0.0002, 0.0004, 0.0006, 0.0008, 0.001], 0.0012)).toEqual([
      '0.0 ms',
      '0.2 ms',
      '0.4 ms',
      '0.6 ms',
      '0.8 ms',
      '1.0 ms',
    ]);
    expect(formatTimeTicks([0, 0.25, 0.5, 0.75], 0.8)).toEqual(['0 ms', '250 ms', '500 ms', '750 ms']);
  });

  it('seconds under two minutes, m:ss above', () => {
    expect(formatTimeTicks([0, 2.5, 5, 7.5], 9)).toEqual(['0.0 s', '2.5 s', '5.0 s', '7.5 s']);
    expect(formatTimeTicks([0, 10, 20], 25)).toEqual(['0 s', '10 s', '20 s']);
    expect(formatTimeTicks([0, 60, 150, 600], 700)).toEqual(['0:00', '1:00', '2:30', '10:00']);
    expect(formatTimeTicks([119.95, 120], 200)).toEqual(['1:59.95', '2:00.00']);
  });

  it('never prints a negative zero', () => {
    expect(formatTimeTicks([-0.00001, 0.5], 0.9)).toEqual(['0 ms', '500 ms']);
  });

  it('a tick equal to an earlier one gets an empty label', () => {
    expect(formatTimeTicks([1, 1, 2], 5)).toEqual(['1 s', '', '2 s']);
  });

  it('for any span and tick set, distinct ticks get distinct, non-empty labels', () => {
    const tick = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
      fc.integer({ min: 0, max: 5000 }).map((i) => i / 1000),
      fc.integer({ min: 0, max: 100 }).map((i) => i * 1e-7),
    );
    fc.assert(
      fc.property(
        fc.array(tick, { maxLength: 12 }),
        fc.double({ noNaN: true, min: -1e7, max: 1e7 }),
        (ticks, span) => {
          const labels = formatTimeTicks(ticks, span);
          expect(labels).toHaveLength(ticks.length);
          const byLabel = new Map<string, string>();
          const seen = new Set<string>();
          ticks.forEach((t, i) => {
            const key = String(t);
            const label = labels[i]!;
            if (seen.has(key)) {
              expect(label).toBe('');
              return;
            }
            seen.add(key);
            expect(label).not.toBe('');
            expect(byLabel.get(label) ?? key).toBe(key);
            byLabel.set(label, key);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
