/**
 * Python's `f"{x:.{digits}f}"`. JavaScript's `toFixed` rounds an exact tie (0.125 → 2 digits) away
 * from zero, Python to the even digit ("0.12"), and Python spells non-finite values `nan` / `inf`. A
 * tie means the exact decimal expansion stops one digit past the cut with a 5; then an odd last digit
 * steps back by one (never a borrow, as it is ≥ 1).
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const s = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return s;
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 30));
  const tail = exact.slice(exact.indexOf('.') + digits + 1);
  if (!/^50*$/.test(tail)) return s;
  const last = s.charCodeAt(s.length - 1) - 48;
  return last % 2 === 0 ? s : s.slice(0, -1) + String(last - 1);
}
