import { CancelledError } from '../core/index.ts';

/**
 * transformers.js's configuration (`env`) is one global object, so model loads run one at a time.
 * A cancelled load answers its caller at once; the step it was in (a held download, a session being
 * created) finishes in the background, whatever it produced is disposed, and only then does the
 * next load start.
 */
let chain: Promise<unknown> = Promise.resolve();
/** Loads started and not yet really stopped (a cancelled one counts until its step ends). */
let inFlight = 0;

export interface QueueOptions {
  signal?: AbortSignal;
  /** Called when this load has to wait for an earlier one that has not stopped yet. */
  onWaiting?: () => void;
  /** The message of the `CancelledError` a cancelled load rejects with. */
  cancelledMessage: string;
}

export function queueLoad<T extends { dispose(): Promise<unknown> }>(
  load: () => Promise<T>,
  opts: QueueOptions,
): Promise<T> {
  if (inFlight > 0) opts.onWaiting?.();
  inFlight++;
  const run = chain.then(load);
  chain = run.catch(() => undefined).finally(() => inFlight--);
  const signal = opts.signal;
  if (signal === undefined) return run;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError(opts.cancelledMessage));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) void value.dispose();
        else resolve(value);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
