import { useCallback, useEffect, useState } from 'react';
import type { TraceStatus } from '../worker/workbenchApi.ts';
import { workbench } from './workerClient.ts';

/** How often the page asks the worker whether trace writes are failing. */
const POLL_MS = 2000;

/** Whether the trace writer's last error is the browser's storage being full. */
export const isQuotaError = (s: TraceStatus | null): boolean =>
  s !== null && s.lastError !== null && /storage is full|QuotaExceeded/i.test(s.lastError);

/**
 * Trace storage as the user needs to know it: whether the browser granted persistent storage
 * (asked once per visit; without it the browser may clear traces when space runs low), and — when
 * writes fail because storage is full — how many events are held in memory, how many were dropped,
 * and a button that deletes the oldest runs (never the current one) and then writes what was held.
 */
export function StorageNotice({ ready }: { ready: boolean }) {
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const [status, setStatus] = useState<TraceStatus | null>(null);
  const [busy, setBusy] = useState(false);
  const [freed, setFreed] = useState<string | null>(null);

  useEffect(() => {
    const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
    if (storage?.persisted === undefined) return;
    let live = true;
    void (async () => {
      try {
        const already = await storage.persisted();
        const granted = already || (storage.persist !== undefined && (await storage.persist()));
        if (live) setPersisted(granted);
      } catch {
        if (live) setPersisted(false);
      }
    })();
    return () => void (live = false);
  }, []);

  useEffect(() => {
    if (!ready) return;
    let live = true;
    const poll = () =>
      void workbench()
        .traceStatus()
        .then(
          (s) => live && setStatus(s),
          () => {},
        );
    poll();
    const id = setInterval(poll, POLL_MS);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [ready]);

  const freeSpace = useCallback(async () => {
    setBusy(true);
    setFreed(null);
    try {
      const api = workbench();
      const current = (await api.traceStatus()).currentRunId;
      const runs = (await api.listRuns()).filter((r) => r.id !== current);
      // Oldest first; half of them (at least one): enough to make room without emptying the list.
      const oldest = [...runs]
        .sort((a, b) => a.startedAt - b.startedAt)
        .slice(0, Math.max(1, runs.length >> 1));
      let events = 0;
      for (const r of oldest) events += await api.deleteRun(r.id);
      await api.flushTraces().catch(() => {});
      setFreed(
        oldest.length === 0
          ? 'No older run to delete: free disk space, then the held events are written.'
          : `Deleted ${oldest.length} old run${oldest.length === 1 ? '' : 's'} (${events.toLocaleString()} events).`,
      );
      setStatus(await api.traceStatus());
    } finally {
      setBusy(false);
    }
  }, []);

  const full = isQuotaError(status);
  return (
    <div className="storage-notice" data-testid="storage-notice">
      {persisted !== null && (
        <p className="storage-persist" data-testid="storage-persisted">
          {persisted
            ? 'Trace storage is persistent: the browser keeps it until you delete it.'
            : 'Trace storage is not persistent: the browser may clear stored traces when disk space runs low.'}
        </p>
      )}
      {full && status !== null && (
        <div className="error" role="alert" data-testid="storage-full">
          <p>
            Browser storage is full. {status.pending.toLocaleString()} trace events are held in memory and
            will be written once there is room
            {status.dropped > 0 ? `; ${status.dropped.toLocaleString()} of the oldest were dropped` : ''}.
          </p>
          <button type="button" disabled={busy} onClick={() => void freeSpace()}>
            Delete the oldest runs and save
          </button>
        </div>
      )}
      {!full && freed !== null && (
        <p className="notice" role="status" data-testid="storage-freed">
          {freed} Held events saved.
        </p>
      )}
    </div>
  );
}
