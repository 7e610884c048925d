import { useCallback, useRef } from 'react';

/** One piece of work (a load, a batch, a suite run) and whether its callbacks still matter. */
export interface Ticket {
  /** False once a newer ticket was taken or this one ended: its callbacks are stale. */
  readonly current: boolean;
  /** Ends the ticket; returns whether it was still the current one (so the caller may clean up). */
  end(): boolean;
}

/**
 * Progress callbacks travel on their own message channel and can land after the work's result, or
 * after a newer run superseded it. Each run takes a ticket; a callback checks `ticket.current`.
 */
export function useStaleGuard(): () => Ticket {
  const latest = useRef(0);
  return useCallback(() => {
    const token = ++latest.current;
    return {
      get current() {
        return latest.current === token;
      },
      end() {
        if (latest.current !== token) return false;
        latest.current++;
        return true;
      },
    };
  }, []);
}
