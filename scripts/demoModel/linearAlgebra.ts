/**
 * Dense float64 linear algebra for the closed-form fit: row-major matrices,
 * fixed iteration counts, no randomness beyond the seeded generator passed in.
 */
import type { SeededRandom } from './seededRandom.ts';

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function matrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function at(m: Matrix, r: number, c: number): number {
  return m.data[r * m.cols + c] as number;
}

/** C = A·B (or Aᵀ·B when transposeA). */
export function matMul(a: Matrix, b: Matrix, transposeA = false): Matrix {
  const n = transposeA ? a.cols : a.rows;
  const k = transposeA ? a.rows : a.cols;
  if (k !== b.rows) throw new Error(`matMul: inner sizes ${k} and ${b.rows} differ`);
  const c = matrix(n, b.cols);
  for (let i = 0; i < n; i++) {
    const crow = i * b.cols;
    for (let p = 0; p < k; p++) {
      const av = transposeA ? (a.data[p * a.cols + i] as number) : (a.data[i * a.cols + p] as number);
      if (av === 0) continue;
      const brow = p * b.cols;
      for (let j = 0; j < b.cols; j++)
        c.data[crow + j] = (c.data[crow + j] as number) + av * (b.data[brow + j] as number);
    }
  }
  return c;
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi; eigenvalues sorted descending. */
export function symmetricEigen(input: Matrix, sweeps = 60): { values: Float64Array; vectors: Matrix } {
  const n = input.rows;
  const a = Float64Array.from(input.data);
  const v = matrix(n, n);
  for (let i = 0; i < n; i++) v.data[i * n + i] = 1;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v.data[k * n + p] as number;
          const vkq = v.data[k * n + q] as number;
          v.data[k * n + p] = c * vkp - s * vkq;
          v.data[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (a[y * n + y] as number) - (a[x * n + x] as number) || x - y,
  );
  const values = Float64Array.from(order.map((i) => a[i * n + i] as number));
  const vectors = matrix(n, n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors.data[k * n + dst] = v.data[k * n + src] as number;
  });
  return { values, vectors };
}

/** Orthonormalises the columns in place (modified Gram–Schmidt). */
function orthonormalizeColumns(m: Matrix): void {
  for (let j = 0; j < m.cols; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < m.rows; r++) dot += at(m, r, i) * at(m, r, j);
      for (let r = 0; r < m.rows; r++) m.data[r * m.cols + j] = at(m, r, j) - dot * at(m, r, i);
    }
    let norm = 0;
    for (let r = 0; r < m.rows; r++) norm += at(m, r, j) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < m.rows; r++) m.data[r * m.cols + j] = at(m, r, j) / norm;
  }
}

/**
 * Top-k right singular vectors of A (cols × k) by subspace iteration on AᵀA
 * with a Rayleigh–Ritz step; used where A is too big for Jacobi.
 */
export function topRightSingularVectors(a: Matrix, k: number, iterations: number, rng: SeededRandom): Matrix {
  const q = matrix(a.cols, k);
  for (let i = 0; i < q.data.length; i++) q.data[i] = rng.normal();
  orthonormalizeColumns(q);
  let basis = q;
  for (let it = 0; it < iterations; it++) {
    basis = matMul(a, matMul(a, basis), true);
    orthonormalizeColumns(basis);
  }
  const projected = matMul(a, basis);
  const small = matMul(projected, projected, true);
  const { vectors } = symmetricEigen(small);
  return matMul(basis, vectors);
}

/** Lower-triangular L with L·Lᵀ = A (A symmetric positive definite). */
export function cholesky(a: Matrix): Matrix {
  const n = a.rows;
  const l = matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = at(a, i, j);
      for (let k = 0; k < j; k++) s -= at(l, i, k) * at(l, j, k);
      if (i === j) {
        if (s <= 0) throw new Error('cholesky: matrix is not positive definite');
        l.data[i * n + i] = Math.sqrt(s);
      } else {
        l.data[i * n + j] = s / at(l, j, j);
      }
    }
  }
  return l;
}

/** Inverse of a lower-triangular matrix. */
export function invertLower(l: Matrix): Matrix {
  const n = l.rows;
  const inv = matrix(n, n);
  for (let j = 0; j < n; j++) {
    inv.data[j * n + j] = 1 / at(l, j, j);
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += at(l, i, k) * at(inv, k, j);
      inv.data[i * n + j] = -s / at(l, i, i);
    }
  }
  return inv;
}

export function transpose(m: Matrix): Matrix {
  const t = matrix(m.cols, m.rows);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) t.data[c * m.rows + r] = at(m, r, c);
  return t;
}
