/**
 * A backend broke its contract (e.g. a batch compute returned the wrong number of values). The
 * message names the op and view, says what was expected, and that the fault lies in the backend.
 */
export class BackendError extends Error {
  override readonly name = 'BackendError';
}

/** A probe cannot compute a meaningful value from its inputs (sway's `ProbeError`). */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
}

/** Work the user cancelled (a model load, a batch). Not a failure: the UI says so and moves on. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
}

/** Throws `CancelledError(message)` when `signal` has been aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted) throw new CancelledError(message);
}
