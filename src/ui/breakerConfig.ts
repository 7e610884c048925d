import type { BreakerOptions } from '../worker/workbenchApi.ts';

/** The next load is the half-open trial of WebGPU in a fresh worker (set by the page before it restarts). */
let trialPending = false;

export function markBreakerTrial(): void {
  trialPending = true;
}

/**
 * The breaker settings a load sends: `?breaker=off` switches the breaker off (a lost device then
 * stops the work and the page offers Restart), `?breakerRecoveryS=<s>` sets the recovery timeout
 * (default 60 s), `?breakerThreshold=<n>` the consecutive failures that open it (default 3). The
 * first load after a trial restart carries `trial` (read once).
 */
export function breakerRequest(search: string = location.search): BreakerOptions {
  const params = new URLSearchParams(search);
  const opts: BreakerOptions = {};
  if (params.get('breaker') === 'off') opts.enabled = false;
  const recovery = Number(params.get('breakerRecoveryS'));
  if (params.has('breakerRecoveryS') && Number.isFinite(recovery) && recovery >= 0)
    opts.recoveryTimeoutMs = recovery * 1000;
  const threshold = Number(params.get('breakerThreshold'));
  if (Number.isInteger(threshold) && threshold >= 1) opts.failureThreshold = threshold;
  if (trialPending) {
    trialPending = false;
    opts.trial = true;
  }
  return opts;
}

/** The `breaker` field of a load request, absent when every setting is the default. */
export function breakerFields(search?: string): { breaker?: BreakerOptions } {
  const breaker = breakerRequest(search);
  return Object.keys(breaker).length > 0 ? { breaker } : {};
}
