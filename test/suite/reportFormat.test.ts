import { describe, expect, it } from 'vitest';
import {
  cacheSummary,
  fmtCi,
  fmtDuration,
  fmtRaw,
  fmtScore,
  fmtZ,
  pyFixed,
  scoreBar,
} from '../../src/suite/reports/index.ts';

describe("sway's report formatters", () => {
  it('score .2f, raw ,.3f, z +,.2f σ, CI [lo, hi] .3f, missing as —', () => {
    expect(fmtScore(0.5)).toBe('0.50');
    expect(fmtScore(null)).toBe('—');
    expect(fmtRaw(1234567.8912)).toBe('1,234,567.891');
    expect(fmtRaw(-1234.5)).toBe('-1,234.500');
    expect(fmtRaw(0.0004)).toBe('0.000');
    expect(fmtRaw(undefined)).toBe('—');
    expect(fmtZ(290766.123)).toBe('+290,766.12σ');
    expect(fmtZ(-2.5)).toBe('-2.50σ');
    expect(fmtZ(0)).toBe('+0.00σ');
    expect(fmtZ(null)).toBe('—');
    expect(fmtCi([0.1, 0.25])).toBe('[0.100, 0.250]');
    expect(fmtCi(null)).toBe('—');
    expect(fmtRaw(NaN)).toBe('nan');
    expect(fmtZ(Infinity)).toBe('+infσ');
  });

  it('duration: .2f below 10 s, .1f below 100 s, else ,.0f', () => {
    expect(fmtDuration(0.123)).toBe('0.12s');
    expect(fmtDuration(9.999)).toBe('10.00s');
    expect(fmtDuration(42.31)).toBe('42.3s');
    expect(fmtDuration(1234.4)).toBe('1,234s');
    expect(fmtDuration(null)).toBe('—');
  });

  it("rounds exact ties to even, as Python's format does", () => {
    expect(pyFixed(42.25, 1)).toBe('42.2');
    expect(pyFixed(42.75, 1)).toBe('42.8');
    expect(pyFixed(0.5, 0)).toBe('0');
    expect(pyFixed(1.5, 0)).toBe('2');
    expect(pyFixed(-0.5, 0)).toBe('-0');
    expect(pyFixed(0.125, 2)).toBe('0.12');
    // 0.135 is not a tie in binary (it is slightly above), so it rounds up in both languages.
    expect(pyFixed(0.135, 2)).toBe('0.14');
  });

  it('10-character bars and the cache footer', () => {
    expect(scoreBar(0.62)).toBe('██████░░░░');
    expect(scoreBar(null)).toBe('░'.repeat(10));
    expect(scoreBar(2)).toBe('█'.repeat(10));
    const stats = {
      cache_hits: 1,
      cache_misses: 2,
      forward_passes: 2,
      scoring_wall_s: 0.1,
      hit_rate: 1 / 3,
      batches_sent: 0,
      batched_prompts: 0,
      max_batch_size: 0,
      avg_batch_size: 0,
    };
    expect(cacheSummary(stats)).toBe('cache: 1/3 = 33%');
    expect(cacheSummary({ ...stats, batches_sent: 2, batched_prompts: 5, avg_batch_size: 2.5 })).toBe(
      'cache: 1/3 = 33% | batches: 2 (avg=2.5)',
    );
    expect(cacheSummary({})).toBe('cache: n/a');
  });
});
