/** Temperature + nucleus (top-p) sampling from one row of logits. */
export function sampleNextToken(
  logits: Float32Array,
  temperature: number,
  topP: number,
  rand: () => number,
): number {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp((logits[i]! - max) / temperature);
    sum += probs[i]!;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  // Keep the smallest prefix whose mass reaches top-p (at least one token).
  const keep: number[] = [];
  let mass = 0;
  for (const i of order) {
    keep.push(i);
    mass += probs[i]! / sum;
    if (mass >= topP) break;
  }
  let keptSum = 0;
  for (const i of keep) keptSum += probs[i]!;
  let r = rand() * keptSum;
  for (const i of keep) {
    r -= probs[i]!;
    if (r <= 0) return i;
  }
  return keep[keep.length - 1]!;
}
