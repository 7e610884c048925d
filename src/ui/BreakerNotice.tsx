import { useCallback } from 'react';
import type { BreakerStatus } from '../worker/workbenchApi.ts';
import { useWorkerListener } from './useWorkerListener.ts';
import { workbench } from './workerClient.ts';

const openBreakerWatch = (listener: (s: BreakerStatus) => void) => workbench().watchBreaker(listener);

/** Subscribes to the worker's breaker status (mount one per worker: it is keyed by the engine). */
export function BreakerWatch({ onStatus }: { onStatus(status: BreakerStatus): void }) {
  useWorkerListener(openBreakerWatch, onStatus);
  return null;
}

/** One line of the notice's log: the state, what the session did, and the device it runs on. */
export function breakerLogLine(s: BreakerStatus): string {
  return `${s.state}: ${breakerText(s)}${s.device !== null ? ` [${s.device}]` : ''}`;
}

/** What the session did, in words. */
export function breakerText(s: BreakerStatus): string {
  const failed = `WebGPU failed (${s.failure ?? 'GPU failure'})`;
  if (s.state === 'open' && s.fallingBack) return `${failed}; loading the pair on WASM to continue…`;
  if (s.state === 'open') return `${failed}; continuing on WASM — will try WebGPU again in ${s.recoveryS} s.`;
  if (s.state === 'half-open')
    return s.trial
      ? 'Trying WebGPU again in a fresh engine (the pair is loaded again; results so far are kept)…'
      : `${failed}; continuing on WASM — WebGPU is tried again once the batch or suite in progress finishes.`;
  return `WebGPU is back: the trial after ${s.recoveryS} s succeeded, and the session runs on WebGPU again.`;
}

interface Props {
  status: BreakerStatus | null;
  /** What the session did so far, oldest first (one line per change). */
  log: readonly string[];
  /** The manual restart, on the device the user picks. */
  onRestart(device: 'webgpu' | 'wasm'): void;
}

/**
 * The GPU circuit breaker's notice: the state, what the session did about it (fell back to WASM by
 * itself, will try WebGPU again, tried it), and the manual restart for whoever wants it now.
 */
export function BreakerNotice({ status, log, onRestart }: Props) {
  const restart = useCallback((d: 'webgpu' | 'wasm') => onRestart(d), [onRestart]);
  if (status === null) return null;
  const closed = status.state === 'closed';
  return (
    <div
      className={`notice breaker-notice ${status.state}`}
      role="status"
      aria-live="polite"
      data-testid="breaker-notice"
      data-state={status.state}
    >
      <p>
        <strong>GPU circuit breaker: {status.state}.</strong> {breakerText(status)}
      </p>
      {status.failureMessage !== null && !closed && (
        <p className="breaker-detail" title={status.failureMessage}>
          {/* The runtime's first sentence: the rest of a device-loss message speaks of Restart. */}
          {status.failureMessage.split(/(?<=\.) /)[0]}
        </p>
      )}
      {log.length > 1 && (
        <ol className="breaker-log" data-testid="breaker-log" aria-label="What the session did">
          {log.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ol>
      )}
      {!closed && !status.trial && (
        <div className="row">
          {(['webgpu', 'wasm'] as const).map((d) => (
            <button key={d} type="button" onClick={() => restart(d)}>
              Restart on {d === 'webgpu' ? 'WebGPU' : 'WASM'}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
