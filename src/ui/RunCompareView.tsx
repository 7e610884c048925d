import { useCallback, useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { errorMessage } from '../core/errors.ts';
import { IdbSuiteRuns, onSuiteRunsChanged, type SuiteRunSummary } from '../store/suiteRunDb.ts';
import { buildCompareMatrix, type CompareMatrix } from '../suite/reports/compare.ts';
import { labelledReportsFromJson } from '../suite/reports/compareInput.ts';
import {
  compareTable,
  describeRegression,
  fmtDelta,
  regressionRule,
  toHtmlCompare,
  toMarkdownCompare,
} from '../suite/reports/compareRender.ts';
import { fmtScore } from '../suite/reports/format.ts';
import type { SuiteResult } from '../suite/types.ts';
import { download } from './download.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import './runCompare.css';

/** What the view needs from the stored suite runs (IdbSuiteRuns; a fake in tests). */
export type SuiteRunSource = Pick<IdbSuiteRuns, 'list' | 'get' | 'add' | 'delete'>;

let shared: IdbSuiteRuns | null = null;
/** The page's one handle on the stored suite runs; null where IndexedDB is missing. */
function defaultSource(): SuiteRunSource | null {
  if (typeof indexedDB === 'undefined') return null;
  shared ??= new IdbSuiteRuns();
  return shared;
}

const when = (r: SuiteRunSummary): string => {
  const t = Date.parse(r.finishedAt);
  return new Date(Number.isFinite(t) ? t : r.savedAt).toLocaleString();
};

const optionText = (r: SuiteRunSummary): string =>
  `${r.source === 'import' ? '⤓ ' : ''}${r.label} · ${when(r)} · ${fmtScore(r.overall)} ${r.band}`;

/**
 * "Compare suite runs": pick two stored suite runs (every suite the workbench finishes is kept, and
 * JSON reports can be imported) and see sway's compare matrix against the first — each probe's
 * verdict, score and raw, the score delta, regressions marked — with "show only what changed".
 */
export function RunCompareView({ source: given }: { source?: SuiteRunSource | null }) {
  const source = given === undefined ? defaultSource() : given;
  const [runs, setRuns] = useState<SuiteRunSummary[] | null>(null);
  const [pick, setPick] = useState<{ a: string | null; b: string | null }>({ a: null, b: null });
  const [onlyChanged, setOnlyChanged] = useState(false);
  const [results, setResults] = useState<{ key: string; a: SuiteResult; b: SuiteResult } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    if (source === null) return;
    try {
      setRuns(await source.list());
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [source]);

  useEffect(() => {
    // A timer, not a direct call: the first read must not set state inside the effect itself.
    const first = setTimeout(() => void refresh(), 0);
    const off = onSuiteRunsChanged(() => void refresh());
    return () => {
      clearTimeout(first);
      off();
    };
  }, [refresh]);

  // Unpicked (or picked and since deleted): the newest run against the one before it.
  const has = (id: string | null) => id !== null && runs?.some((r) => r.id === id) === true;
  const a = has(pick.a) ? pick.a : (runs?.[1]?.id ?? null);
  const b = has(pick.b) ? pick.b : (runs?.[0]?.id ?? null);
  const key = a !== null && b !== null ? `${a}|${b}` : null;

  useEffect(() => {
    if (source === null || key === null || a === null || b === null || a === b) return;
    let live = true;
    Promise.all([source.get(a), source.get(b)])
      .then(([ra, rb]) => {
        if (live) setResults({ key, a: ra, b: rb });
      })
      .catch((e: unknown) => {
        if (live) setError(errorMessage(e));
      });
    return () => {
      live = false;
    };
  }, [source, key, a, b]);

  // Columns are "A" and "B": the pickers above say which run each is.
  const matrix: CompareMatrix | null = useMemo(
    () =>
      results === null || results.key !== key
        ? null
        : buildCompareMatrix([
            { label: 'A', result: results.a },
            { label: 'B', result: results.b },
          ]),
    [results, key],
  );

  const onImport = (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    if (source === null || files.length === 0) return;
    setError(null);
    void (async () => {
      try {
        // Every file is read (strictly: a file that is not a report is refused, naming it) before
        // any is stored, so a bad file among several stores none of them.
        const imported = [];
        for (const file of files) imported.push(...labelledReportsFromJson(await file.text(), file.name));
        for (const r of imported) await source.add(r.result, { label: r.label, source: 'import' });
        await refresh();
      } catch (err) {
        setError(errorMessage(err));
      }
    })();
  };

  if (source === null) {
    return (
      <div
        className="run-compare"
        role="group"
        aria-labelledby="run-compare-heading"
        data-testid="run-compare"
      >
        <h3 id="run-compare-heading">Compare suite runs</h3>
        <p className="empty">IndexedDB is not available here, so suite runs are not kept to compare.</p>
      </div>
    );
  }

  const enough = runs !== null && runs.length >= 2;
  const t = matrix === null ? null : compareTable(matrix, onlyChanged);
  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
  const picker = (which: 'a' | 'b', value: string | null, title: string) => (
    <label className="run-compare-pick">
      {title}{' '}
      <select
        value={value ?? ''}
        data-testid={`compare-pick-${which}`}
        onChange={(e) => setPick((p) => ({ ...p, [which]: e.target.value }))}
      >
        {runs?.map((r) => (
          <option key={r.id} value={r.id}>
            {optionText(r)}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="run-compare" role="group" aria-labelledby="run-compare-heading" data-testid="run-compare">
      <h3 id="run-compare-heading">Compare suite runs</h3>
      <div className="run-compare-actions">
        {enough && picker('a', a, 'A (baseline)')}
        {enough && picker('b', b, 'B')}
        <button type="button" onClick={() => fileInput.current?.click()}>
          Import JSON report
        </button>
        <button type="button" onClick={() => void refresh()}>
          Refresh list
        </button>
        {enough &&
          b !== null &&
          (confirmDelete ? (
            <span className="confirm">
              Delete run B for good?{' '}
              <button
                type="button"
                className="danger"
                onClick={() => {
                  setConfirmDelete(false);
                  void source
                    .delete(b)
                    .then(refresh)
                    .catch((e: unknown) => setError(errorMessage(e)));
                }}
              >
                Confirm delete
              </button>{' '}
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" className="danger-outline" onClick={() => setConfirmDelete(true)}>
              Delete run B
            </button>
          ))}
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          multiple
          hidden
          data-testid="compare-import-input"
          onChange={onImport}
        />
      </div>
      <ErrorAlert message={error} />
      {runs !== null && !enough && (
        <p className="empty">
          {runs.length === 0 ? 'No suite run stored yet.' : 'One suite run stored.'} Run a suite (Suite panel)
          or import a JSON report (<code>deltascope run --json</code>) until there are two to compare.
        </p>
      )}
      {enough && a === b && <p className="hint">A and B are the same run: pick two different runs.</p>}
      {matrix !== null && t !== null && a !== b && (
        <>
          <div className="run-compare-actions">
            <label className="run-compare-toggle">
              <input
                type="checkbox"
                checked={onlyChanged}
                data-testid="compare-only-changed"
                onChange={(e) => setOnlyChanged(e.target.checked)}
              />{' '}
              Show only what changed
            </label>
            <button
              type="button"
              onClick={() =>
                download(
                  new Blob([toHtmlCompare(matrix, { onlyChanged })], { type: 'text/html' }),
                  `deltascope-compare-${stamp()}.html`,
                )
              }
            >
              Download HTML
            </button>
            <button
              type="button"
              onClick={() =>
                download(
                  new Blob([toMarkdownCompare(matrix, { onlyChanged })], { type: 'text/markdown' }),
                  `deltascope-compare-${stamp()}.md`,
                )
              }
            >
              Download markdown
            </button>
          </div>
          <p className="run-compare-summary" data-testid="compare-summary" role="status">
            {matrix.rows.filter((r) => r.changed).length} of {matrix.rows.length} probes changed ·{' '}
            {matrix.regressions.length} regression{matrix.regressions.length === 1 ? '' : 's'} · composite{' '}
            {fmtScore(matrix.runs[0]!.overall)} → {fmtScore(matrix.runs[1]!.overall)} (
            {fmtDelta(matrix.runs[1]!.deltaOverall)}, {matrix.runs[0]!.band} → {matrix.runs[1]!.band})
          </p>
          <div className="run-compare-scroll">
            <table className="run-compare-table" data-testid="compare-matrix">
              <thead>
                <tr>
                  {t.header.map((h, i) => (
                    <th key={i} scope="col" className={t.align[i] === 'right' ? 'num' : undefined}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {t.rows.map((r) => (
                  <tr
                    key={r.name}
                    className={r.status}
                    data-testid="compare-row"
                    data-probe={r.name}
                    data-status={r.status}
                  >
                    {r.cells.map((c, i) => (
                      <td key={i} className={t.align[i] === 'right' ? 'num' : undefined}>
                        {c}
                      </td>
                    ))}
                  </tr>
                ))}
                <tr className="composite">
                  {t.composite.map((c, i) => (
                    <td key={i} className={t.align[i] === 'right' ? 'num' : undefined}>
                      {c}
                    </td>
                  ))}
                </tr>
              </tbody>
            </table>
          </div>
          {t.rows.length === 0 && <p className="empty">No probe changed between A and B.</p>}
          {t.hidden > 0 && (
            <p className="hint">
              {t.hidden} unchanged probe{t.hidden === 1 ? '' : 's'} hidden.
            </p>
          )}
          {matrix.regressions.length > 0 && (
            <div className="run-compare-regressions" data-testid="compare-regressions">
              <p>Regressions ({regressionRule(matrix)}):</p>
              <ul>
                {matrix.regressions.map((r) => (
                  <li key={`${r.run}:${r.probe}`}>{describeRegression(r)}</li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
    </div>
  );
}
