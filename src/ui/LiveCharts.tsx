import { useMemo, useState } from 'react';
import { LiveMetrics, type BackendStatsDict, type LatencySummary } from '../core/index.ts';
import { errorMessage } from '../core/errors.ts';
import type { BatchProgress, FeedUpdate } from '../worker/workbenchApi.ts';
import { UPlotChart, type ChartSeries } from './UPlotChart.tsx';
import { Comlink, workbench } from './workerClient.ts';
import { etaText } from './eta.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { fmtMs, fmtPct } from './format.ts';
import { batchHygieneText } from '../suite/promptHygiene.ts';
import { loadPrompts } from './loadPrompts.ts';
import { useEscape } from './useEscape.ts';
import { getSettings, useSettings } from './useSettings.ts';
import { useStaleGuard } from './useStaleGuard.ts';
import { useFeed } from './useWorkerListener.ts';

type Listener = (columns: ArrayLike<number>[]) => void;
type Notify = () => void;

/** One LiveMetrics per page, fed by the worker's batched feed; charts read its series. */
function useLiveMetrics(rollingWindow: number) {
  const [metrics] = useState(() => new LiveMetrics(rollingWindow));
  const [stats, setStats] = useState<BackendStatsDict | null>(null);
  const [latency, setLatency] = useState<LatencySummary[]>([]);
  const [listeners] = useState(() => new Set<Notify>());

  useFeed((u: FeedUpdate) => {
    if (metrics.add(u.events)) {
      for (const notify of listeners) notify();
      setLatency(metrics.latencyByOperation());
    }
    setStats(u.stats);
  });

  const subscribeWith = useMemo(
    () => (columns: () => ArrayLike<number>[]) => (onData: Listener) => {
      const notify: Notify = () => onData(columns());
      listeners.add(notify);
      notify();
      return () => listeners.delete(notify);
    },
    [listeners],
  );
  return { metrics, stats, latency, subscribeWith };
}

const hitSeries = (window: number): ChartSeries[] => [
  { label: 'cumulative', stroke: '#2b59c3' },
  { label: `last ${window} lookups`, stroke: '#db8f4f', dash: [4, 3] },
];
const BATCH_SERIES: ChartSeries[] = [
  { label: 'batch', stroke: '#6f8fdc', points: true },
  { label: 'running avg', stroke: '#2b59c3' },
  { label: 'max', stroke: '#b91c1c', dash: [4, 3] },
];
const LATENCY_SERIES: ChartSeries[] = [
  { label: 'p50', stroke: '#2b59c3' },
  { label: 'p95', stroke: '#db8f4f' },
  { label: 'p99', stroke: '#b91c1c' },
];
const UNIT_RANGE: [number, number] = [0, 1];

export function LiveCharts({ ready }: { ready: boolean }) {
  const batch = useSettings((s) => s.batch);
  // The window is fixed for this page's metrics: a change applies from the next visit.
  const [rollingWindow] = useState(() => getSettings().charts.rollingWindow);
  const HIT_SERIES = useMemo(() => hitSeries(rollingWindow), [rollingWindow]);
  const { metrics, stats, latency, subscribeWith } = useLiveMetrics(rollingWindow);
  const [running, setRunning] = useState<string | null>(null);
  const [lastRun, setLastRun] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const hitSub = useMemo(
    () => subscribeWith(() => [metrics.hitT.view(), metrics.hitCumulative.view(), metrics.hitRolling.view()]),
    [metrics, subscribeWith],
  );
  const batchSub = useMemo(
    () =>
      subscribeWith(() => [
        metrics.batchIndex.view(),
        metrics.batchSize.view(),
        metrics.batchAvg.view(),
        metrics.batchMax.view(),
      ]),
    [metrics, subscribeWith],
  );
  const latencySub = useMemo(
    () =>
      subscribeWith(() => [
        metrics.latencyT.view(),
        metrics.latencyP50.view(),
        metrics.latencyP95.view(),
        metrics.latencyP99.view(),
      ]),
    [metrics, subscribeWith],
  );

  const newTicket = useStaleGuard();
  async function runLoad(n: number, topK: number) {
    const ticket = newTicket();
    const startedAt = performance.now();
    setRunning(`Scoring ${n} prompts on both views…`);
    setError(null);
    try {
      const r = await workbench().runBatch(
        loadPrompts(n),
        topK,
        Comlink.proxy((p: BatchProgress) => {
          if (!ticket.current) return;
          const fraction = p.total > 0 ? p.done / p.total : null;
          setRunning(
            `Scoring ${p.total} prompts on both views… ${p.done} of ${p.total}` +
              etaText(fraction, startedAt, performance.now()),
          );
        }),
      );
      setLastRun(
        r.stoppedBy === 'device lost'
          ? `Stopped after ${r.prompts} of ${n} prompts × 2 views: the WebGPU device was lost; their events are kept.`
          : r.cancelled
            ? `Cancelled after ${r.prompts} of ${n} prompts × 2 views (${fmtMs(r.wallMs)}); their events are kept.`
            : `${r.prompts} prompts × 2 views in ${fmtMs(r.wallMs)} · ${batchHygieneText(r.hygiene)}`,
      );
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      ticket.end();
      setRunning(null);
    }
  }
  useEscape(running !== null, () => void workbench().cancelBatch());
  const s = stats;
  return (
    <section className="panel charts-panel" aria-label="Live instrumentation">
      <div className="panel-title">
        <h2 className="sr-only">Live instrumentation</h2>
        <div className="counters" data-testid="counters">
          <Counter label="lookups" value={s ? s.cache_hits + s.cache_misses : 0} />
          <Counter label="hits" value={s?.cache_hits ?? 0} />
          <Counter label="misses" value={s?.cache_misses ?? 0} />
          <Counter label="forward passes" value={s?.forward_passes ?? 0} />
          <Counter label="batches" value={s?.batches_sent ?? 0} />
          <Counter label="hit rate" value={s ? fmtPct(s.hit_rate) : '—'} />
        </div>
      </div>
      {!ready && <p className="empty">Charts fill in as soon as a model pair is loaded and probed.</p>}
      <div className="load-row">
        <button
          type="button"
          disabled={!ready || running !== null}
          onClick={() => void runLoad(batch.prompts, batch.topK)}
        >
          Run {batch.prompts}-prompt batch
        </button>
        {running !== null && (
          <button type="button" title="Esc" onClick={() => void workbench().cancelBatch()}>
            Cancel batch
          </button>
        )}
        <span className="hint" role="status" data-testid="load-status">
          {running ?? lastRun ?? `Generates load: ${batch.prompts} prompts (30% repeats) through both views.`}
        </span>
      </div>
      <ErrorAlert message={error} />
      <UPlotChart
        title="Cache hit rate"
        headingId="chart-hit-rate"
        series={HIT_SERIES}
        xLabel="time"
        xTime
        yLabel="hit rate"
        yRange={UNIT_RANGE}
        subscribe={hitSub}
      />
      <UPlotChart
        title="Batch size"
        headingId="chart-batch-size"
        series={BATCH_SERIES}
        xLabel="batch #"
        yLabel="prompts"
        subscribe={batchSub}
      />
      <UPlotChart
        title="Latency"
        headingId="chart-latency"
        series={LATENCY_SERIES}
        xLabel="time"
        xTime
        yLabel="ms / forward batch"
        subscribe={latencySub}
      />
      {/* Always rendered (header and all): no layout shift when the first pass lands, and the header's
          bold face is resolved at load rather than in the middle of the first run. */}
      <table className="latency-table" data-testid="latency-table">
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
          {latency.length === 0 && (
            <tr className="empty-row">
              <td colSpan={5}>No forward passes yet.</td>
            </tr>
          )}
          {latency.map((l) => (
            <tr key={l.op}>
              <td>{l.op}</td>
              <td className="num">{l.count}</td>
              <td className="num">{fmtMs(l.p50)}</td>
              <td className="num">{fmtMs(l.p95)}</td>
              <td className="num">{fmtMs(l.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Counter({ label, value }: { label: string; value: number | string }) {
  return (
    <div className="counter">
      <span className="counter-value" data-testid={`counter-${label.replace(/ /g, '-')}`}>
        {typeof value === 'number' ? value.toLocaleString() : value}
      </span>
      <span className="counter-label">{label}</span>
    </div>
  );
}
