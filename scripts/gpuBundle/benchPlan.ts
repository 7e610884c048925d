// The time budget of `bench:gpu` (bench/gpu.ts): which step runs, and for how long at most. A GPU
// machine is lent for one short attempt, so the run must end inside its budget whatever happens: a
// step that does not fit is skipped with the reason, a step that overruns is stopped, and the steps
// marked essential (the model and the CPU figures) keep their time reserved from the ones before.
// Pure: the clock readings come in as numbers.

/** One step of the plan, in the order it runs. */
export interface PlanStep {
  id: string;
  /** Kept even when the budget is short: later steps reserve its estimate from the steps before. */
  essential: boolean;
  /** Expected seconds (a default guess, or a measurement of a like step earlier in the run). */
  estimateS: number;
}

export type StepDecision = { run: true; timeoutS: number } | { run: false; reason: string };

/** Seconds kept at the end of the budget for writing the results. */
export const FINAL_MARGIN_S = 10;

/**
 * Whether `step` runs with `remainingS` of the budget left, and its time limit. A non-essential step
 * runs only if its estimate fits beside the estimates of the essential steps after it; it may then
 * use all of that time. An essential step runs whenever a few seconds are left, with the same limit,
 * but never less than half of what is left (an estimate can be wrong: the step itself matters more).
 */
export function decideStep(
  step: PlanStep,
  later: readonly PlanStep[],
  remainingS: number,
  marginS: number = FINAL_MARGIN_S,
): StepDecision {
  const usable = remainingS - marginS;
  const reserved = later.filter((s) => s.essential);
  const reserveS = reserved.reduce((sum, s) => sum + s.estimateS, 0);
  const available = usable - reserveS;
  if (step.essential) {
    if (usable < 5) return { run: false, reason: `no time left in the budget (${fmt(remainingS)} s)` };
    return { run: true, timeoutS: Math.max(available, usable / 2) };
  }
  if (available < step.estimateS) {
    const kept =
      reserved.length === 0
        ? ''
        : `, after keeping ${fmt(reserveS)} s for ${reserved.map((s) => s.id).join(', ')}`;
    return {
      run: false,
      reason: `skipped for time: needs about ${fmt(step.estimateS)} s, ${fmt(Math.max(0, available))} s left in the budget${kept}`,
    };
  }
  return { run: true, timeoutS: available };
}

const fmt = (s: number) => String(Math.round(s));
