import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorMessage } from '../core/errors.ts';
import type { RunRecord, StorageUsage, TraceAnalysis } from '../worker/workbenchApi.ts';
import { useFeed } from './useWorkerListener.ts';
import { workbench } from './workerClient.ts';

/** How often at most the runs list re-reads storage while events stream in. */
const REFRESH_MS = 2000;
/** How long a run must be quiet before its analysis is recomputed. */
const ANALYSIS_QUIET_MS = 1500;

export interface TraceRuns {
  /**
   * The runs that hold events, newest first (null until the first read). A run with none yet (a
   * load or a suite that has just started) is not listed: there is nothing to show or download.
   */
  runs: RunRecord[] | null;
  storage: StorageUsage | null;
  listError: string | null;
  /** Reads the runs and storage use again; returns every stored run (null when the read failed). */
  refresh(): Promise<RunRecord[] | null>;
}

/** The stored runs, read again when trace events arrive (at most every two seconds). */
export function useTraceRuns(ready: boolean): TraceRuns {
  const [all, setAll] = useState<RunRecord[] | null>(null);
  const [storage, setStorage] = useState<StorageUsage | null>(null);
  const [listError, setListError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [list, usage] = await Promise.all([workbench().listRuns(), workbench().storageUsed()]);
      setAll(list);
      setStorage(usage);
      setListError(null);
      return list;
    } catch (e) {
      setListError(errorMessage(e));
      return null;
    }
  }, []);

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    // Timers, not direct calls: the first read must not set state inside the effect itself.
    const first = setTimeout(() => void refresh(), 0);
    return () => {
      clearTimeout(first);
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [refresh]);
  useFeed((u) => {
    if (u.events.length === 0 || timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void refresh();
    }, REFRESH_MS);
  });
  useEffect(() => {
    if (!ready) return;
    const t = setTimeout(() => void refresh(), 0);
    return () => clearTimeout(t);
  }, [ready, refresh]);

  const runs = useMemo(() => all?.filter((r) => r.eventCount > 0) ?? null, [all]);
  return { runs, storage, listError, refresh };
}

export interface RunAnalysis {
  /** The analysis of the selected run, once one has arrived. */
  shown: TraceAnalysis | null;
  /** The run has more events than the analysis shown: it catches up once the run is quiet. */
  behind: boolean;
  error: string | null;
}

/**
 * The analysis of one run. It reads the whole run, so it is recomputed when the run goes quiet (or
 * another run is picked), not on every count change: a long run is not re-read every second.
 */
export function useRunAnalysis(
  runId: string | null,
  runCount: number,
  refresh: () => Promise<RunRecord[] | null>,
): RunAnalysis {
  const [analysis, setAnalysis] = useState<{ runId: string; count: number; a: TraceAnalysis } | null>(null);
  const [error, setError] = useState<{ runId: string; message: string } | null>(null);
  const shownRunId = analysis?.runId ?? null;
  useEffect(() => {
    if (runId === null) return;
    let live = true;
    const delay = shownRunId === runId ? ANALYSIS_QUIET_MS : 0;
    const timer = setTimeout(() => {
      workbench()
        .runAnalysis(runId)
        .then(
          (a) => {
            if (!live) return;
            setAnalysis({ runId, count: runCount, a });
            setError(null);
          },
          async (e: unknown) => {
            // The run may have gone meanwhile (deleted, or the empty run of a failed load dropped):
            // then the list moves on to another run, which is not an error.
            const list = await refresh();
            if (!live || (list !== null && !list.some((r) => r.id === runId))) return;
            setError({ runId, message: errorMessage(e) });
          },
        );
    }, delay);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId, runCount, shownRunId, refresh]);

  const current = analysis !== null && analysis.runId === runId ? analysis : null;
  return {
    shown: current?.a ?? null,
    behind: current !== null && current.count !== runCount,
    error: error !== null && error.runId === runId ? error.message : null,
  };
}
