/**
 * Tick labels for a time axis (values in seconds) that suit the axis's span — milliseconds under a
 * second, seconds under two minutes, m:ss above — with as few decimals as keep them apart: two
 * distinct ticks never get the same label (uPlot's default printed `0 0 0 0.001 0.001` for a short
 * span). A tick equal to an earlier one gets an empty label.
 */
export function formatTimeTicks(ticks: readonly number[], span: number): string[] {
  const unit = unitFor(span);
  const tolerance = toleranceFor(ticks, span) * unit.perSecond;
  let fallback: string[] | null = null;
  for (let digits = 0; digits <= MAX_DIGITS; digits++) {
    const labels = ticks.map((t) => unit.label(t, digits));
    if (!apart(ticks, labels)) continue;
    fallback = labels;
    // Enough decimals that each label stands where its tick is ("2.5 s", not "3 s").
    const exact = ticks.every((t) => {
      const x = t * unit.perSecond;
      return Math.abs(x - Number(x.toFixed(digits))) <= tolerance + 1e-9 * Math.abs(x);
    });
    if (exact) return blankRepeats(ticks, labels);
  }
  // Ticks closer than any fixed decimals tell apart: the shortest exact form of each (distinct by
  // construction, since it identifies the number).
  return blankRepeats(ticks, fallback ?? ticks.map((t) => `${String(t)} s`));
}

/** A label may be off by 2% of the tick spacing (or of the span, with a single tick). */
function toleranceFor(ticks: readonly number[], span: number): number {
  const sorted = [...new Set(ticks)].sort((a, b) => a - b);
  let gap = Math.abs(span);
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, sorted[i]! - sorted[i - 1]!);
  return Number.isFinite(gap) ? gap * 0.02 : 0;
}

const MAX_DIGITS = 6;

interface Unit {
  /** The label of a tick (in seconds) with `digits` decimals on its smallest part. */
  label(seconds: number, digits: number): string;
  /** How many of the decimals' unit make a second (1000 for ms; 1 for s and m:ss). */
  perSecond: number;
}

const fixed = (x: number, digits: number): string => {
  const s = x.toFixed(digits);
  // "-0", "-0.00": a rounding artefact, not a negative time.
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
};

const ms: Unit = { label: (t, d) => `${fixed(t * 1000, d)} ms`, perSecond: 1000 };
const sec: Unit = { label: (t, d) => `${fixed(t, d)} s`, perSecond: 1 };
const minSec: Unit = {
  perSecond: 1,
  label: (t, d) => {
    const sign = t < 0 ? '-' : '';
    const abs = Math.abs(t);
    let m = Math.floor(abs / 60);
    let s = fixed(abs - m * 60, d);
    // 59.96 s at one decimal rounds to "60.0": carry it into the minutes.
    if (Number(s) >= 60) {
      m += 1;
      s = fixed(0, d);
    }
    const [whole, frac] = s.split('.');
    return `${sign}${m}:${whole!.padStart(2, '0')}${frac !== undefined ? `.${frac}` : ''}`;
  },
};

function unitFor(span: number): Unit {
  const s = Math.abs(span);
  if (!(s >= 1)) return ms;
  if (s < 120) return sec;
  return minSec;
}

/** Whether ticks that differ got labels that differ. */
function apart(ticks: readonly number[], labels: readonly string[]): boolean {
  const owner = new Map<string, string>();
  for (let i = 0; i < ticks.length; i++) {
    const key = String(ticks[i]);
    const prev = owner.get(labels[i]!);
    if (prev !== undefined && prev !== key) return false;
    owner.set(labels[i]!, key);
  }
  return true;
}

function blankRepeats(ticks: readonly number[], labels: string[]): string[] {
  const seen = new Set<string>();
  return labels.map((l, i) => {
    const key = String(ticks[i]);
    if (seen.has(key)) return '';
    seen.add(key);
    return l;
  });
}
