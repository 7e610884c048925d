import { useRef, useState, type ChangeEvent } from 'react';
import { errorMessage } from '../core/errors.ts';
import { download } from './download.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { fmtBytes, fmtPct } from './format.ts';
import { FontPrimer } from './fontPrimer.tsx';
import { RunCompareView } from './RunCompareView.tsx';
import { RunMetricsView } from './RunMetricsView.tsx';
import { TraceAnalysisView } from './TraceAnalysisView.tsx';
import { fileBase, fmtRange, importNotice } from './traceFormat.ts';
import { usePageHideFlush } from './usePageHideFlush.ts';
import { useRunAnalysis, useTraceRuns } from './useTraceRuns.ts';
import { workbench } from './workerClient.ts';
import './traces.css';

type Where = 'jsonl' | 'perfetto' | 'import' | 'delete' | 'history';

/** The two downloads of a run: sway's JSONL and a Perfetto (Chrome Trace Event) file. */
const EXPORTS = [
  {
    where: 'jsonl',
    label: 'Download JSONL',
    ext: 'jsonl',
    read: (id: string) => workbench().exportJsonl(id),
  },
  {
    where: 'perfetto',
    label: 'Download Perfetto trace',
    ext: 'perfetto.json',
    read: (id: string) => workbench().exportPerfetto(id),
  },
] as const;

/**
 * The "Traces" panel: runs stored in IndexedDB (one per model load, or imported), their analysis,
 * and JSONL / Perfetto export, JSONL import, delete and storage used. All storage work happens in
 * the worker; this component only asks for results. Below them, two stored suite runs compared
 * (RunCompareView, which reads the suite runs the worker keeps).
 */
export function TracesPanel({ ready }: { ready: boolean }) {
  const { runs, storage, listError, refresh } = useTraceRuns(ready);
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, setBusy] = useState<Where | null>(null);
  const [error, setError] = useState<{ where: Where; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  usePageHideFlush();

  const run = runs?.find((r) => r.id === selected) ?? runs?.[0] ?? null;
  const runId = run?.id ?? null;
  const runCount = run?.eventCount ?? 0;
  const analysis = useRunAnalysis(runId, runCount, refresh);
  // A run without events has nothing to download (the list only shows runs with events; this is
  // the guard should one slip through).
  const canExport = run !== null && run.eventCount > 0 && busy === null;

  async function act(where: Where, job: () => Promise<void>) {
    setBusy(where);
    setError(null);
    setNotice(null);
    try {
      await job();
    } catch (e) {
      setError({ where, message: errorMessage(e) });
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
      setNotice(importNotice(r));
      setSelected(r.runId);
      await refresh();
    });
  };

  const errorFor = (where: Where) => <ErrorAlert message={error?.where === where ? error.message : null} />;

  const shown = analysis.shown;

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
        {EXPORTS.map((x) => (
          <button
            key={x.where}
            type="button"
            disabled={!canExport}
            onClick={() =>
              run &&
              void act(x.where, async () => download(await x.read(run.id), `${fileBase(run)}.${x.ext}`))
            }
          >
            {x.label}
          </button>
        ))}
        <button type="button" disabled={busy !== null} onClick={() => fileInput.current?.click()}>
          Import JSONL
        </button>
        <button
          type="button"
          disabled={busy !== null || runs === null || runs.length === 0}
          title="Every stored run's metrics as one JSON file"
          onClick={() =>
            void act('history', async () => {
              const stamp = new Date().toISOString().replace(/[:.]/g, '-');
              download(await workbench().exportMetricsHistory(), `deltascope-metrics-${stamp}.json`);
            })
          }
        >
          Download metrics history
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
      {errorFor('history')}
      {notice !== null && (
        <p className="traces-notice" role="status" data-testid="import-notice">
          {notice}
        </p>
      )}
      <ErrorAlert message={listError} />
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
          <RunMetricsView runId={run.id} eventCount={run.eventCount} />
          <ErrorAlert message={analysis.error} />
          {shown === null ? (
            analysis.error === null && <p className="empty">Analysing…</p>
          ) : (
            <>
              {analysis.behind && (
                <p className="hint" role="status">
                  Still recording: the analysis catches up once the run is quiet.
                </p>
              )}
              <TraceAnalysisView a={shown} />
            </>
          )}
        </div>
      )}
      {shown === null && <FontPrimer />}
      <RunCompareView />
    </section>
  );
}
