import { useCallback, useEffect, useRef, useState, type ChangeEvent } from 'react';
import { download } from './download.ts';
import { analyzeTrace, type GroupStats, type TraceAnalysis } from '../core/index.ts';
import type { FeedUpdate, RunRecord, StorageUsage } from '../worker/workbenchApi.ts';
import { fmtBytes, fmtMs, fmtPct } from './format.ts';
import { Comlink, workbench } from './workerClient.ts';
import './traces.css';

type Where = 'list' | 'analysis' | 'jsonl' | 'perfetto' | 'import' | 'delete';

/** How often at most the runs list re-reads storage while events stream in. */
const REFRESH_MS = 2000;

/** Wall time that stays readable when it adds up: "9.61 ms", "952 ms", "5.08 s", "116.00 s". */
function fmtWall(ms: number): string {
  return Number.isFinite(ms) && ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : fmtMs(ms);
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function fmtClock(ts: number): string {
  return new Date(ts * 1000).toLocaleTimeString(undefined, { hour12: false });
}

function fmtSpan(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${(seconds - m * 60).toFixed(0)} s`;
}

/** "14:02:07–14:05:31 (3 min 24 s)", with the date when it is not today. */
function fmtRange(first: number | null, last: number | null): string {
  if (first === null || last === null) return 'no events yet';
  const day = new Date(first * 1000);
  const today = new Date().toDateString() === day.toDateString();
  const prefix = today ? '' : `${day.toLocaleDateString()} `;
  return `${prefix}${fmtClock(first)}–${fmtClock(last)} (${fmtSpan(last - first)})`;
}

function fileBase(run: RunRecord): string {
  const label = run.label
    .replace(/\.jsonl$/i, '')
    .replace(/[^\w.-]+/g, '_')
    .slice(0, 60);
  return `deltascope-${label}-${run.id}`;
}

/**
 * The "Traces" panel: runs stored in IndexedDB (one per model load, or imported), their analysis,
 * and JSONL / Perfetto export, JSONL import, delete and storage used. All storage work happens in
 * the worker; this component only asks for results.
 */
/** How long a run must be quiet before its analysis is recomputed. */
const ANALYSIS_QUIET_MS = 1500;

export function TracesPanel({ ready }: { ready: boolean }) {
  const [runs, setRuns] = useState<RunRecord[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [analysis, setAnalysis] = useState<{ runId: string; count: number; a: TraceAnalysis } | null>(null);
  const [storage, setStorage] = useState<StorageUsage | null>(null);
  const [busy, setBusy] = useState<Where | null>(null);
  const [error, setError] = useState<{ where: Where; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    try {
      const [list, usage] = await Promise.all([workbench().listRuns(), workbench().storageUsed()]);
      setRuns(list);
      setStorage(usage);
      setError((e) => (e?.where === 'list' ? null : e));
    } catch (e) {
      setError({ where: 'list', message: message(e) });
    }
  }, []);

  // Re-read the runs when trace events arrive, at most every two seconds.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // Timers, not direct calls: the first read must not set state inside the effect itself.
    const first = setTimeout(() => void refresh(), 0);
    const onUpdate = (u: FeedUpdate) => {
      if (!live || u.events.length === 0 || timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        if (live) void refresh();
      }, REFRESH_MS);
    };
    void workbench().subscribe(Comlink.proxy(onUpdate));
    return () => {
      live = false;
      clearTimeout(first);
      if (timer !== null) clearTimeout(timer);
    };
  }, [refresh]);

  useEffect(() => {
    if (!ready) return;
    const t = setTimeout(() => void refresh(), 0);
    return () => clearTimeout(t);
  }, [ready, refresh]);

  // Commit buffered events before the page goes away or into the background.
  useEffect(() => {
    const flush = () =>
      void workbench()
        .flushTraces()
        .catch(() => {});
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') flush();
    };
    window.addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.removeEventListener('pagehide', flush);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, []);

  const run = runs?.find((r) => r.id === selected) ?? runs?.[0] ?? null;
  const runId = run?.id ?? null;
  const runCount = run?.eventCount ?? 0;

  // The analysis reads the whole run: recompute it when the run goes quiet (or another run is picked),
  // not on every count change, so a long run is not re-read from storage every second while it works.
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
            setError((e) => (e?.where === 'analysis' ? null : e));
          },
          async (e: unknown) => {
            // The run may have gone meanwhile (deleted, or the empty run of a failed load dropped):
            // then the list moves on to another run, which is not an error.
            const list = await workbench()
              .listRuns()
              .catch(() => null);
            if (!live) return;
            if (list !== null && !list.some((r) => r.id === runId)) setRuns(list);
            else setError({ where: 'analysis', message: message(e) });
          },
        );
    }, delay);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId, runCount, shownRunId]);

  async function act(where: Where, job: () => Promise<void>) {
    setBusy(where);
    setError(null);
    setNotice(null);
    try {
      await job();
    } catch (e) {
      setError({ where, message: message(e) });
    } finally {
      setBusy(null);
    }
  }

  const onImport = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file === undefined) return;
    void act('import', async () => {
      const r = await workbench().importJsonl(file);
      const skipped =
        r.skipped === 0
          ? 'no lines skipped'
          : `${r.skipped} invalid line${r.skipped === 1 ? '' : 's'} skipped (line${r.skipped === 1 ? '' : 's'} ${r.skippedLines.join(', ')}${r.skipped > r.skippedLines.length ? ', …' : ''})`;
      setNotice(`Imported ${r.imported.toLocaleString()} events from ${r.label}; ${skipped}.`);
      setSelected(r.runId);
      await refresh();
    });
  };

  const errorFor = (where: Where) =>
    error?.where === where ? (
      <p className="error" role="alert">
        {error.message}
      </p>
    ) : null;

  const shown = analysis !== null && analysis.runId === runId ? analysis.a : null;

  return (
    <section aria-labelledby="traces-heading" className="panel traces-panel" data-testid="traces-panel">
      <div className="panel-title">
        <h2 id="traces-heading">Traces</h2>
        <span className="traces-storage" data-testid="storage-used">
          {storage?.usage != null
            ? `storage used ${fmtBytes(storage.usage)}${storage.quota != null ? ` of ${fmtBytes(storage.quota)}` : ''}`
            : 'storage used —'}
        </span>
      </div>
      <div className="traces-actions">
        <button
          type="button"
          disabled={run === null || busy !== null}
          onClick={() =>
            run &&
            void act('jsonl', async () =>
              download(await workbench().exportJsonl(run.id), `${fileBase(run)}.jsonl`),
            )
          }
        >
          Download JSONL
        </button>
        <button
          type="button"
          disabled={run === null || busy !== null}
          onClick={() =>
            run &&
            void act('perfetto', async () =>
              download(await workbench().exportPerfetto(run.id), `${fileBase(run)}.perfetto.json`),
            )
          }
        >
          Download Perfetto trace
        </button>
        <button type="button" disabled={busy !== null} onClick={() => fileInput.current?.click()}>
          Import JSONL
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".jsonl,.ndjson,.json,.txt,application/x-ndjson"
          hidden
          data-testid="import-input"
          onChange={onImport}
        />
        {busy !== null && (
          <span className="hint" role="status">
            {busy === 'import' ? 'Importing…' : busy === 'delete' ? 'Deleting…' : 'Preparing file…'}
          </span>
        )}
      </div>
      {errorFor('jsonl')}
      {errorFor('perfetto')}
      {errorFor('import')}
      {notice !== null && (
        <p className="traces-notice" role="status" data-testid="import-notice">
          {notice}
        </p>
      )}
      {errorFor('list')}
      {runs !== null && runs.length === 0 && (
        <p className="empty">
          No runs stored yet. {ready ? 'Click Compare or run a batch' : 'Load a model pair and probe it'} —
          every lookup is saved here — or import a sway / deltascope JSONL trace.
        </p>
      )}
      {runs !== null && runs.length > 0 && (
        <ul className="run-list" aria-label="Stored runs">
          {runs.map((r) => (
            <li key={r.id}>
              <button
                type="button"
                className="run-row"
                aria-pressed={r.id === runId}
                data-testid="run-row"
                data-run-id={r.id}
                data-events={r.eventCount}
                onClick={() => {
                  setSelected(r.id);
                  setConfirmDelete(false);
                }}
              >
                <span className="run-label" title={r.label}>
                  {r.source === 'import' ? '⤓ ' : ''}
                  {r.label}
                </span>
                <span className="run-events">{r.eventCount.toLocaleString()} events</span>
                <span className="run-hit">{r.eventCount > 0 ? fmtPct(r.hits / r.eventCount) : '—'} hit</span>
                <span className="run-range">
                  {fmtRange(r.firstTs, r.lastTs)}
                  {r.device ? ` · ${r.device}` : ''}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {run !== null && (
        <div className="run-detail" data-testid="run-detail" data-run-id={run.id}>
          <div className="run-detail-title">
            {/* Not a heading: a run's label is user text and must never shadow the panel headings. */}
            <p className="run-title" data-testid="run-title">
              {run.label}
            </p>
            {confirmDelete ? (
              <span className="confirm">
                Delete {run.eventCount.toLocaleString()} events?{' '}
                <button
                  type="button"
                  className="danger"
                  disabled={busy !== null}
                  onClick={() =>
                    void act('delete', async () => {
                      await workbench().deleteRun(run.id);
                      setConfirmDelete(false);
                      setSelected(null);
                      await refresh();
                    })
                  }
                >
                  Confirm delete
                </button>{' '}
                <button type="button" onClick={() => setConfirmDelete(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" className="danger-outline" onClick={() => setConfirmDelete(true)}>
                Delete run
              </button>
            )}
          </div>
          {errorFor('delete')}
          {errorFor('analysis')}
          {shown === null ? (
            error?.where !== 'analysis' && <p className="empty">Analysing…</p>
          ) : (
            <>
              {analysis !== null && analysis.count !== runCount && (
                <p className="hint" role="status">
                  Still recording: the analysis catches up once the run is quiet.
                </p>
              )}
              <AnalysisView a={shown} />
            </>
          )}
        </div>
      )}
      {shown === null && <FontPrimer />}
    </section>
  );
}

/**
 * A small analysis rendered invisibly until the first real one shows. Laying it out makes Chrome
 * resolve the analysis's font faces (bold, mono, small sizes) at startup: resolving a new face is a
 * synchronous call to the browser's font service, and when the first real analysis arrived in the
 * middle of a batch, with the worker keeping both cores busy, that one Layout took 40–180 ms.
 */
const PRIMER = analyzeTrace(
  [false, true].map((hit) => ({
    ts: 0,
    probe: 'primer',
    view_id: 'base',
    prompt_hash: '0123456789ab',
    top_k: 8,
    op: 'next_token_dist',
    wall_ms: 1,
    hit,
  })),
);

function FontPrimer() {
  return (
    <div className="font-primer" aria-hidden="true" inert>
      <AnalysisView a={PRIMER} />
    </div>
  );
}

function AnalysisView({ a }: { a: TraceAnalysis }) {
  if (a.events === 0)
    return <p className="empty">This run has no events yet. Probe the model to record some.</p>;
  return (
    <div className="analysis" data-testid="analysis">
      <dl className="analysis-summary">
        <div>
          <dt>events</dt>
          <dd data-testid="analysis-events">{a.events.toLocaleString()}</dd>
        </div>
        <div>
          <dt>hit rate</dt>
          <dd data-testid="analysis-hit-rate">{fmtPct(a.hitRate)}</dd>
        </div>
        <div>
          <dt>total wall</dt>
          <dd>{fmtWall(a.totalMs)}</dd>
        </div>
        <div>
          <dt>batches</dt>
          <dd>
            {a.batch.batches === 0
              ? 'none'
              : `${a.batch.batches} (avg ${a.batch.avgBatchSize.toFixed(1)}, max ${a.batch.maxBatchSize})`}
          </dd>
        </div>
      </dl>
      <GroupTable title="per view" testId="analysis-views" rows={a.byView} />
      <GroupTable title="per probe" testId="analysis-probes" rows={a.byProbe} />
      <GroupTable title="per op" testId="analysis-ops" rows={a.byOp} />
      <table className="traces-table">
        <caption>slowest events</caption>
        <thead>
          <tr>
            <th className="num">wall</th>
            <th>op</th>
            <th>view</th>
            <th>probe</th>
            <th>prompt</th>
          </tr>
        </thead>
        <tbody>
          {a.slowest.slice(0, 5).map((e, i) => (
            <tr key={i}>
              <td className="num">{fmtWall(e.wall_ms)}</td>
              <td>
                {e.op}
                {e.hit ? ' (hit)' : ''}
              </td>
              <td>{e.view_id}</td>
              <td>{e.probe ?? '—'}</td>
              <td className="mono">{e.prompt_hash}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {a.hotPrompts.length > 0 ? (
        <table className="traces-table">
          <caption>hot prompts</caption>
          <thead>
            <tr>
              <th>prompt_hash</th>
              <th className="num">lookups</th>
              <th className="num">hits</th>
            </tr>
          </thead>
          <tbody>
            {a.hotPrompts.slice(0, 5).map((p) => (
              <tr key={p.promptHash}>
                <td className="mono">{p.promptHash}</td>
                <td className="num">{p.count}</td>
                <td className="num">{p.hits}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="hint">No prompt was looked up twice yet, so there are no hot prompts.</p>
      )}
    </div>
  );
}

function GroupTable({ title, rows, testId }: { title: string; rows: GroupStats[]; testId: string }) {
  return (
    <table className="traces-table group-table" data-testid={testId}>
      <caption>{title}</caption>
      <thead>
        <tr>
          <th>name</th>
          <th className="num">events</th>
          <th className="num">total</th>
          <th className="num">hit rate</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((g) => (
          <tr key={g.name} data-name={g.name} data-events={g.events}>
            <td>{g.name}</td>
            <td className="num">{g.events.toLocaleString()}</td>
            <td className="num">{fmtWall(g.totalMs)}</td>
            <td className="num">{fmtPct(g.hitRate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
