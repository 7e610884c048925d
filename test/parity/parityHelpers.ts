// Shared helpers of the parity tests: read a sway-parity fixture, compare floats at 1e-9 relative.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

export function fixture<T>(name: string): T {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/sway-parity/${name}.json`, import.meta.url), 'utf8'),
  ) as T;
}

/** |a − b| ≤ 1e-9 · max(1, |b|)… relative for large values, absolute near 0. */
export function close(
  actual: number | null | undefined,
  expected: number | null,
  what: string,
  absTol = 0,
): void {
  if (expected === null) {
    expect(actual ?? null, what).toBeNull();
    return;
  }
  expect(typeof actual, what).toBe('number');
  const tol = Math.max(absTol, 1e-9 * Math.max(Math.abs(expected), 1e-300));
  if (Math.abs(actual! - expected) > tol && !(expected === 0 && Math.abs(actual!) < 1e-15)) {
    expect(actual, `${what}: ${actual} vs sway ${expected}`).toBe(expected);
  }
}

export function closeAll(
  actual: readonly number[],
  expected: readonly number[],
  what: string,
  absTol = 0,
): void {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((e, i) => close(actual[i], e, `${what}[${i}]`, absTol));
}
