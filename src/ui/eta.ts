import { fmtDuration } from './format.ts';

/** Below this fraction done, a rate is too noisy to promise anything. */
const MIN_FRACTION = 0.02;

/**
 * Seconds left for work that is `fraction` done after `elapsedS` seconds, at the rate so far; null
 * until enough is done to go on, and once it is finished.
 */
export function etaSeconds(fraction: number | null, elapsedS: number): number | null {
  if (fraction === null || !(fraction >= MIN_FRACTION) || fraction >= 1 || !(elapsedS >= 0)) return null;
  return (elapsedS / fraction) * (1 - fraction);
}

/** " · about 12 s left", or "" when there is no estimate yet: appended to a progress line. */
export function etaText(fraction: number | null, startedAtMs: number, atMs: number): string {
  const eta = etaSeconds(fraction, (atMs - startedAtMs) / 1000);
  return eta === null ? '' : ` · about ${fmtDuration(eta)} left`;
}
