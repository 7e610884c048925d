import { useEffect, useState } from 'react';
import { errorMessage } from '../core/errors.ts';
import type { OpLatencyMetrics, RunMetrics } from '../core/runMetrics.ts';
import { fmtBytes, fmtPct } from './format.ts';
import { fmtWall } from './traceFormat.ts';
import { workbench } from './workerClient.ts';

const NOT_TOLD = 'not available: this browser does not report it';

/** A number with its unit, or "—" with the reason as a tooltip when it is unknown (null). */
function Value({
  v,
  fmt,
  why,
  testId,
}: {
  v: number | null;
  fmt: (x: number) => string;
  why: string;
  testId: string;
}) {
  return v === null ? (
    <dd data-testid={testId} title={why}>
      —
    </dd>
  ) : (
    <dd data-testid={testId}>{fmt(v)}</dd>
  );
}

const fmtRate = (unit: string) => (x: number) =>
  `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ${unit}/s`;

/** A percentile cell: "≈" and the stated rank error when it comes from the reservoir. */
function Pct({ o, v, err }: { o: OpLatencyMetrics; v: number | null; err: number }) {
  if (v === null) return <td className="num">—</td>;
  if (o.exact) return <td className="num">{fmtWall(v)}</td>;
  return (
    <td
      className="num"
      title={`from a reservoir of ${o.retained} of ${o.samples} samples: rank within ±${fmtPct(err, 2)} (99 %)`}
    >
      ≈{fmtWall(v)}
    </td>
  );
}

/**
 * A run's metrics (core/runMetrics.ts): per-op forward-batch latency p50/p95/p99 and the run's rates,
 * hit rate, peak batch, load time and memory. Unknown values show "—" and say why on hover.
 */
export function RunMetricsTable({ m, origin }: { m: RunMetrics; origin: 'stored' | 'computed' }) {
  return (
    <div className="run-metrics" data-testid="run-metrics" data-origin={origin}>
      <dl className="analysis-summary">
        <div>
          <dt>prompts/s</dt>
          <Value
            v={m.prompts_per_s}
            fmt={fmtRate('prompts')}
            why="no busy time recorded yet"
            testId="metrics-prompts-per-s"
          />
        </div>
        <div>
          <dt>tokens/s</dt>
          <Value
            v={m.tokens_per_s}
            fmt={fmtRate('tokens')}
            why="no forward pass of this run reported its token count"
            testId="metrics-tokens-per-s"
          />
        </div>
        <div>
          <dt>hit rate</dt>
          <Value v={m.hit_rate} fmt={(x) => fmtPct(x)} why="no lookups" testId="metrics-hit-rate" />
        </div>
        <div>
          <dt>peak batch</dt>
          <Value v={m.peak_batch} fmt={(x) => String(x)} why="no forward pass" testId="metrics-peak-batch" />
        </div>
        <div>
          <dt>load time</dt>
          <Value
            v={m.load_ms}
            fmt={fmtWall}
            why={
              origin === 'computed'
                ? 'not in the trace (imported or older run)'
                : 'this run did not load a pair'
            }
            testId="metrics-load"
          />
        </div>
        <div>
          <dt>JS heap peak</dt>
          <Value
            v={m.heap_peak_bytes}
            fmt={fmtBytes}
            why={origin === 'computed' ? 'not in the trace (imported or older run)' : NOT_TOLD}
            testId="metrics-heap"
          />
        </div>
        <div>
          <dt>GPU buffers peak</dt>
          <Value
            v={m.gpu_peak_bytes}
            fmt={fmtBytes}
            why={
              origin === 'computed'
                ? 'not in the trace (imported or older run)'
                : 'not on WebGPU, or not reported'
            }
            testId="metrics-gpu"
          />
        </div>
      </dl>
      <table className="traces-table" data-testid="metrics-ops">
        <caption title={`latency sample: ${m.latency_sample}`}>latency per forward batch</caption>
        <thead>
          <tr>
            <th>op</th>
            <th className="num">batches</th>
            <th className="num">p50</th>
            <th className="num">p95</th>
            <th className="num">p99</th>
          </tr>
        </thead>
        <tbody>
          {m.ops.length === 0 ? (
            <tr>
              <td colSpan={5}>no forward pass yet</td>
            </tr>
          ) : (
            m.ops.map((o) => (
              <tr key={o.op} data-testid="metrics-op-row">
                <td>{o.op}</td>
                <td className="num">{o.samples.toLocaleString()}</td>
                <Pct o={o} v={o.p50_ms} err={o.rank_error.p50} />
                <Pct o={o} v={o.p95_ms} err={o.rank_error.p95} />
                <Pct o={o} v={o.p99_ms} err={o.rank_error.p99} />
              </tr>
            ))
          )}
        </tbody>
      </table>
      <p className="hint">
        {origin === 'computed'
          ? 'Computed from the stored events (no metrics were stored with this run).'
          : `Kept with the run. Percentiles exact up to ${m.quantile.reservoir_size.toLocaleString()} batches per op, then from a seeded reservoir of that size (≈, rank error on hover).`}
      </p>
    </div>
  );
}

/** The selected run's metrics, asked again whenever its event count changes. */
export function RunMetricsView({ runId, eventCount }: { runId: string; eventCount: number }) {
  const [state, setState] = useState<
    { runId: string; m: RunMetrics; origin: 'stored' | 'computed' } | { runId: string; error: string } | null
  >(null);
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const r = await workbench().runMetrics(runId);
        if (live) setState({ runId, m: r.metrics, origin: r.origin });
      } catch (e) {
        if (live) setState({ runId, error: errorMessage(e) });
      }
    })();
    return () => {
      live = false;
    };
  }, [runId, eventCount]);
  if (state === null || state.runId !== runId) return null;
  if ('error' in state)
    return (
      <p className="hint" data-testid="run-metrics-error">
        Metrics unavailable: {state.error}
      </p>
    );
  return <RunMetricsTable m={state.m} origin={state.origin} />;
}
