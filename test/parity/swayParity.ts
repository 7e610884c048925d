import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** A parity fixture written by sway's own functions (see test/fixtures/sway-parity/README.md). */
export interface ParityFixture<C> {
  generator: string;
  seed: number;
  count: number;
  cases: C[];
  [key: string]: unknown;
}

/** JSON has no NaN/Infinity: the fixtures spell them as strings; this turns them back into numbers. */
export function decodeNonFinite<T>(v: T): T {
  if (v === 'NaN') return Number.NaN as T;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY as T;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY as T;
  if (Array.isArray(v)) return v.map(decodeNonFinite) as T;
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeNonFinite(x);
    return out as T;
  }
  return v;
}

export function loadParity<C>(name: string): ParityFixture<C> {
  const url = new URL(`../fixtures/sway-parity/${name}.json`, import.meta.url);
  const parsed = JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as ParityFixture<C>;
  return { ...parsed, cases: parsed.cases.map((c) => decodeNonFinite(c)) };
}

/** Float formulas agree to 1e-9 relative (absolute below 1e-300, where only zero is honest). */
export function expectClose(actual: number | null, expected: number | null, what: string): void {
  if (expected === null || actual === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  if (Number.isNaN(expected)) {
    expect(Number.isNaN(actual), what).toBe(true);
    return;
  }
  if (!Number.isFinite(expected) || expected === 0) {
    expect(
      Math.abs(actual - expected) <= 1e-300 || actual === expected,
      `${what}: ${actual} vs ${expected}`,
    ).toBe(true);
    return;
  }
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  expect(rel <= 1e-9, `${what}: ${actual} vs ${expected} (rel ${rel})`).toBe(true);
}
