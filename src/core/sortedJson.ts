/**
 * Plain JSON with every mapping's keys sorted (Python's `sort_keys`), typed arrays as lists and
 * non-finite numbers as null, so the output is byte-stable for the same result.
 */
export function sortedJsonValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number>, (x) => sortedJsonValue(x));
  }
  if (Array.isArray(v)) return v.map(sortedJsonValue);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) {
      const value = (v as Record<string, unknown>)[key];
      if (value !== undefined) out[key] = sortedJsonValue(value);
    }
    return out;
  }
  return v;
}
