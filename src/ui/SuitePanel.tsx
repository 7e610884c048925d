import { hygieneLines } from '../suite/promptHygiene.ts';
import { useEffect, useRef, useState } from 'react';
import type { ProbeResult } from '../probes/types.ts';
import type { SuiteResult } from '../suite/types.ts';
import type { ReportFormat, SuiteEvent, SuiteValidation } from '../worker/workbenchApi.ts';
import { errorCode, errorMessage } from '../core/errors.ts';
import type { SpecIssue } from '../suite/spec.ts';
import { toHtmlReport } from '../suite/reports/html.ts';
import { download } from './download.ts';
import { etaText } from './eta.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { fmtDuration } from './format.ts';
import { nullContexts, type NullContext } from './nullCalibration.ts';
import { ScoreGauge, CategoryBars, AblationCurve, NullDistribution } from './SuiteCharts.tsx';
import type { ReportPins } from './reportPins.ts';
import { ReportPinsList } from './reportPinsList.tsx';
import { useEscape } from './useEscape.ts';
import { getSettings, updateSettings } from './useSettings.ts';
import { useStaleGuard } from './useStaleGuard.ts';
import { Comlink, workbench } from './workerClient.ts';

// Example specs ship with the app (the same files the CLI runs).
const EXAMPLES = import.meta.glob('../../examples/*.yaml', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const exampleNames = Object.keys(EXAMPLES)
  .map((p) => p.split('/').pop()!)
  .sort((a, b) => (a === 'demo-suite.yaml' ? -1 : b === 'demo-suite.yaml' ? 1 : a.localeCompare(b)));
const exampleText = (name: string) => EXAMPLES[`../../examples/${name}`] ?? '';

/** A `spec/invalid` error's `details`: the spec's issues, when they have the expected shape. */
function specIssues(e: unknown): SpecIssue[] | null {
  if (errorCode(e) !== 'spec/invalid') return null;
  const details = (e as { details?: unknown }).details;
  const ok =
    Array.isArray(details) &&
    details.every(
      (i: unknown) =>
        typeof i === 'object' &&
        i !== null &&
        typeof (i as SpecIssue).line === 'number' &&
        typeof (i as SpecIssue).message === 'string',
    );
  return ok ? (details as SpecIssue[]) : null;
}

interface Progress {
  probeIndex: number;
  probeCount: number;
  probeName: string;
  done: number;
  total: number;
  startedAt: number;
  at: number;
}

const fmt = (x: number | null, d = 3) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));

/**
 * @param pins the snapshots pinned in the Probe panel: listed here, and drawn in the HTML report.
 */
export function SuitePanel({ ready, pins }: { ready: boolean; pins?: ReportPins }) {
  const [yaml, setYaml] = useState(() => getSettings().suite.spec ?? exampleText(exampleNames[0] ?? ''));
  const [validation, setValidation] = useState<SuiteValidation | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [live, setLive] = useState<ProbeResult[]>([]);
  const [result, setResult] = useState<SuiteResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const editor = useRef<HTMLTextAreaElement>(null);
  const newTicket = useStaleGuard();
  useEscape(progress !== null, () => void workbench().cancelSuite());

  // Validate as you type (debounced), in the worker, before any model work.
  useEffect(() => {
    const t = setTimeout(() => {
      updateSettings('suite', { spec: yaml });
      void workbench()
        .validateSuite(yaml)
        .then(setValidation, (e: unknown) => setError(errorMessage(e)));
    }, 250);
    return () => clearTimeout(t);
  }, [yaml]);

  function goToLine(line: number) {
    const el = editor.current;
    if (el === null) return;
    const lines = el.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  }

  async function run() {
    setError(null);
    setResult(null);
    setLive([]);
    const startedAt = performance.now();
    const ticket = newTicket();
    setProgress({
      probeIndex: 0,
      probeCount: validation?.probes.length ?? 0,
      probeName: '',
      done: 0,
      total: 0,
      startedAt,
      at: startedAt,
    });
    try {
      const r = await workbench().runSuite(
        yaml,
        Comlink.proxy((e: SuiteEvent) => {
          if (!ticket.current) return;
          if (e.type === 'progress') setProgress({ ...e, startedAt, at: performance.now() });
          else setLive((prev) => [...prev.slice(0, e.index), e.result]);
        }),
      );
      setResult(r);
    } catch (e) {
      // A spec the worker refused: its issues go where the editor's own checks show theirs.
      const issues = specIssues(e);
      if (issues !== null) setValidation({ ok: false, issues, probes: [] });
      else setError(errorMessage(e));
    } finally {
      ticket.end();
      setProgress(null);
    }
  }

  async function save(format: ReportFormat) {
    try {
      const text = await workbench().suiteReport(format);
      const type =
        format === 'json' ? 'application/json' : format === 'markdown' ? 'text/markdown' : 'application/xml';
      const ext = format === 'json' ? 'json' : format === 'markdown' ? 'md' : 'xml';
      download(new Blob([text], { type }), `deltascope-suite-report.${ext}`);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  /** The HTML report of the last run (the result the JSON download has), with the pins. */
  async function saveHtml() {
    try {
      const last = (await workbench().lastSuiteResult()) ?? result;
      if (last === null) return;
      // The suite's trace, per probe and op, where this worker ran it (not after an engine restart).
      const trace = await workbench()
        .suiteTraceAnalysis()
        .catch(() => null);
      const html = toHtmlReport(last, {
        pins: pins?.pins ?? [],
        ...(trace !== null ? { traceSummary: trace } : {}),
      });
      download(new Blob([html], { type: 'text/html' }), 'deltascope-suite-report.html');
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  const fraction =
    progress && progress.probeCount > 0
      ? (progress.probeIndex + (progress.total > 0 ? progress.done / progress.total : 0)) /
        progress.probeCount
      : 0;
  const rows = result?.probes ?? live;
  const ablation = rows.find((r) => r.kind === 'adapter_ablation' && Array.isArray(r.evidence.lambdas));
  const nulls = nullContexts(rows);

  return (
    <section aria-labelledby="suite-heading" className="panel suite-panel">
      <div className="panel-title">
        <h2 id="suite-heading">Suite</h2>
        <label className="inline">
          Example
          <select
            aria-label="Example spec"
            onChange={(e) => {
              if (e.target.value) setYaml(exampleText(e.target.value));
            }}
            value=""
          >
            <option value="">load an example…</option>
            {exampleNames.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="hint">
        A sway-compatible <code>sway.yaml</code>. It runs on the pair loaded in Model (the spec’s{' '}
        <code>models</code> are for the CLI).
      </p>
      <div className="suite-editor">
        <label className="grow">
          Spec (YAML)
          <textarea
            ref={editor}
            className="code"
            rows={14}
            spellCheck={false}
            value={yaml}
            onChange={(e) => setYaml(e.target.value)}
          />
        </label>
        <div className="suite-side">
          {validation === null ? (
            <p className="hint">Checking…</p>
          ) : validation.ok ? (
            <p className="ok" data-testid="spec-valid">
              ✓ valid: {validation.probes.length} probe{validation.probes.length === 1 ? '' : 's'} (
              {validation.probes.map((p) => p.kind).join(', ')})
            </p>
          ) : (
            <ul className="issues" data-testid="spec-issues" aria-label="Spec problems">
              {validation.issues.map((i, k) => (
                <li key={k}>
                  <button type="button" className="link" onClick={() => goToLine(i.line)}>
                    line {i.line}:{i.column}
                  </button>{' '}
                  <code>{i.path}</code> {i.message}
                </li>
              ))}
            </ul>
          )}
          <div className="buttons">
            <button
              type="button"
              className="primary"
              disabled={!ready || !validation?.ok || progress !== null}
              onClick={() => void run()}
            >
              Run suite
            </button>
            <button
              type="button"
              title="Esc"
              disabled={progress === null}
              onClick={() => void workbench().cancelSuite()}
            >
              Cancel
            </button>
          </div>
          {!ready && <p className="empty">Load a model pair to run a suite.</p>}
          {progress !== null && (
            <div className="progress" role="status" aria-live="polite">
              <progress aria-label="Suite progress" max={1} value={fraction} />
              <span>
                probe {Math.min(progress.probeIndex + 1, progress.probeCount)} of {progress.probeCount}
                {progress.probeName ? ` · ${progress.probeName}` : ''}
                {progress.total > 0 ? ` · ${progress.done}/${progress.total}` : ''}
                {etaText(fraction, progress.startedAt, progress.at)}
              </span>
            </div>
          )}
        </div>
      </div>
      <ErrorAlert message={error} />
      {pins !== undefined && <ReportPinsList pins={pins} />}
      {result !== null && (
        <div className="suite-summary" data-testid="suite-summary">
          <ScoreGauge score={result.score.overall} band={result.score.band} />
          <CategoryBars components={result.score.components} weights={result.score.weights} />
          <div className="suite-meta">
            <p>
              wall {result.wallSeconds.toFixed(2)} s · seed {result.determinism.seed} ·{' '}
              {result.determinism.class} · cache{' '}
              {String((result.backendStats as Record<string, number>).cache_hits ?? 0)}/
              {String(
                ((result.backendStats as Record<string, number>).cache_hits ?? 0) +
                  ((result.backendStats as Record<string, number>).cache_misses ?? 0),
              )}
            </p>
            {result.score.findings.length > 0 && (
              <ul className="findings">
                {result.score.findings.map((f) => (
                  <li key={f}>{f}</li>
                ))}
              </ul>
            )}
            {result.hygiene !== undefined && hygieneLines(result.hygiene).length > 0 && (
              <div className="hygiene" data-testid="suite-hygiene">
                <h4>Prompt hygiene</h4>
                <ul>
                  {hygieneLines(result.hygiene).map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              </div>
            )}
            <div className="buttons">
              <button type="button" onClick={() => void save('json')}>
                Download JSON report
              </button>
              <button type="button" onClick={() => void save('markdown')}>
                Download markdown
              </button>
              <button type="button" onClick={() => void save('junit')}>
                Download JUnit
              </button>
              <button type="button" onClick={() => void saveHtml()}>
                Download HTML report
              </button>
            </div>
          </div>
        </div>
      )}
      {ablation && (
        <AblationCurve lambdas={ablation.evidence.lambdas as number[]} {...ablationSeries(ablation)} />
      )}
      {rows.length > 0 && (
        <table className="suite-table" data-testid="suite-results">
          <thead>
            <tr>
              <th>probe</th>
              <th>kind</th>
              <th>verdict</th>
              <th className="num">score</th>
              <th className="num">raw</th>
              <th className="num" title="Jensen–Shannon divergence over the full vocabulary (nats)">
                exact JS
              </th>
              <th className="num">z</th>
              <th>95% CI</th>
              <th className="num">time</th>
              <th>note</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <ResultRow
                key={r.name}
                r={r}
                nullCtx={nulls[i] ?? null}
                open={open === r.name}
                onToggle={() => setOpen(open === r.name ? null : r.name)}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * What the ablation curve draws: the exact full-vocabulary JS per λ when the probe measured it (a
 * number of our own), else sway's top-k divergence, labelled as such.
 */
function ablationSeries(r: ProbeResult): { values: number[]; measure: string } {
  const exact = r.evidence.exact_js_per_lambda;
  if (Array.isArray(exact) && exact.every((v) => typeof v === 'number')) {
    return { values: exact as number[], measure: 'exact JS over the full vocabulary' };
  }
  return { values: r.evidence.mean_divergence_per_lambda as number[], measure: "sway's top-k formula" };
}

function ResultRow({
  r,
  nullCtx,
  open,
  onToggle,
}: {
  r: ProbeResult;
  /** The null calibration r's z-score came from, drawn beside it. */
  nullCtx: NullContext | null;
  open: boolean;
  onToggle(): void;
}) {
  return (
    <>
      <tr className={`verdict-${r.verdict}`}>
        <td>
          <button type="button" className="link" aria-expanded={open} onClick={onToggle}>
            {r.name}
          </button>
        </td>
        <td>{r.kind}</td>
        <td>
          <span className={`verdict ${r.verdict}`} data-testid={`verdict-${r.name}`}>
            {r.verdict.toUpperCase()}
          </span>
        </td>
        <td className="num">{fmt(r.score, 2)}</td>
        <td className="num">
          {fmt(r.raw)}
          {typeof r.evidence.raw_formula === 'string' && (
            <span className="raw-formula" data-testid={`raw-formula-${r.name}`}>
              {' '}
              {r.evidence.raw_formula.replace(/^sway js@/, 'sway JS@').replace(/^exact js$/, 'exact JS')}
            </span>
          )}
        </td>
        <td className="num" data-testid={`exact-js-${r.name}`}>
          {typeof r.evidence.exact_js === 'number' ? fmt(r.evidence.exact_js) : '—'}
        </td>
        <td className="num z-cell">
          {r.zScore === null ? '—' : `${r.zScore >= 0 ? '+' : ''}${r.zScore.toFixed(2)}σ`}
          {nullCtx !== null && r.zScore !== null && r.raw !== null && (
            <NullDistribution raw={r.raw} z={r.zScore} ctx={nullCtx} testId={`null-dist-${r.name}`} />
          )}
        </td>
        <td>{r.ci95 === null ? '—' : `[${r.ci95[0].toFixed(3)}, ${r.ci95[1].toFixed(3)}]`}</td>
        <td className="num">{r.durationS < 10 ? `${r.durationS.toFixed(2)} s` : fmtDuration(r.durationS)}</td>
        <td className="note">{r.message}</td>
      </tr>
      {open && (
        <tr className="details">
          <td colSpan={10}>
            <pre>
              {JSON.stringify(
                r.evidence,
                (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(6)) : v),
                2,
              )}
            </pre>
          </td>
        </tr>
      )}
    </>
  );
}
