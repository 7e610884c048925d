import { BACKEND_STATS_KEYS, pyFixed } from '../../core/index.ts';
import type { RunMetrics } from '../../core/runMetrics.ts';
import type { GroupStats, TraceAnalysis } from '../../core/traceAnalysis.ts';
import type { SuiteResult } from '../types.ts';
import { MISSING } from './format.ts';
import { esc, figure, groupedBarsSvg, keyed, table } from './htmlSvg.ts';

/** Integers as they are, other numbers at 3 decimals (run metrics and backend stats). */
export const fmtMetric = (x: number | null | undefined): string =>
  typeof x !== 'number' ? MISSING : Number.isInteger(x) ? String(x) : pyFixed(x, 3);

/** The run metrics' scalar rows: label, key in `metrics`, and what the number is. */
const METRIC_ROWS: [string, keyof RunMetrics][] = [
  ['lookups (prompt × view × op)', 'lookups'],
  ['cache hits', 'hits'],
  ['cache misses', 'misses'],
  ['hit rate', 'hit_rate'],
  ['forward batches', 'forward_batches'],
  ['peak batch', 'peak_batch'],
  ['busy (s)', 'busy_s'],
  ['span (s)', 'span_s'],
  ['prompts/s', 'prompts_per_s'],
  ['tokens', 'tokens'],
  ['tokens/s', 'tokens_per_s'],
  ['load (ms)', 'load_ms'],
  ['JS heap peak (bytes)', 'heap_peak_bytes'],
  ['GPU buffer peak (bytes)', 'gpu_peak_bytes'],
];

function backendStatsHtml(r: SuiteResult): string {
  const stats = r.backendStats as Partial<Record<string, number>>;
  if (!BACKEND_STATS_KEYS.some((k) => typeof stats[k] === 'number')) {
    return '<p class="empty">Backend stats not recorded.</p>';
  }
  return table(
    ['backend stat', 'value'],
    BACKEND_STATS_KEYS.map((k) => [
      `<td><code>${k}</code></td>`,
      keyed(`backend_stats.${k}`, stats[k], fmtMetric(stats[k])),
    ]),
    { cls: 'kv', caption: "The backend's counters (sway's stats keys)", numeric: [false, true] },
  );
}

function metricsHtml(m: RunMetrics): string {
  const scalars = table(
    ['run metric', 'value'],
    METRIC_ROWS.map(([label, key]) => {
      const v = m[key] as number | null;
      const note = key === 'heap_peak_bytes' ? m.heap_source : key === 'gpu_peak_bytes' ? m.gpu_source : null;
      return [
        `<td>${esc(label)}${note ? ` <span class="note">(${esc(note)})</span>` : ''}</td>`,
        keyed(`metrics.${key}`, v, v === null ? `${MISSING} not measured` : fmtMetric(v)),
      ];
    }),
    { cls: 'kv', numeric: [false, true] },
  );
  const keys = ['p50', 'p95', 'p99'] as const;
  const ops = m.ops;
  const chart =
    ops.length === 0
      ? '<p class="empty">No latency samples.</p>'
      : figure(
          'fig-latency',
          `Forward-batch latency per op, ms: p50, p95, p99 (${m.quantile.method}; a sample is ${m.latency_sample}).`,
          groupedBarsSvg(
            ops.map((o) => ({ label: o.op, values: keys.map((q) => o[`${q}_ms`]) })),
            keys,
            `latency per op: ${ops.map((o) => `${o.op} p50 ${fmtMetric(o.p50_ms)} ms, p95 ${fmtMetric(o.p95_ms)} ms, p99 ${fmtMetric(o.p99_ms)} ms`).join('; ')}`,
            'ms',
          ),
          table(
            ['op', 'samples', 'p50 ms', 'p95 ms', 'p99 ms', 'min ms', 'max ms', 'mean ms', 'percentiles'],
            ops.map((o, i) => [
              `<td><code>${esc(o.op)}</code></td>`,
              keyed(`metrics.ops.${i}.samples`, o.samples, String(o.samples)),
              ...(['p50_ms', 'p95_ms', 'p99_ms', 'min_ms', 'max_ms', 'mean_ms'] as const).map((k) =>
                keyed(`metrics.ops.${i}.${k}`, o[k], fmtMetric(o[k])),
              ),
              `<td>${o.exact ? 'exact' : esc(`≈ reservoir of ${o.retained}, rank error ±${pyFixed(o.rank_error.p99, 4)} (p99)`)}</td>`,
            ]),
            { cls: 'sortable', numeric: [false, true, true, true, true, true, true, true, false] },
          ),
        );
  return scalars + `<h3>Latency per op</h3>` + chart;
}

function groupTable(caption: string, groups: readonly GroupStats[]): string {
  return table(
    ['name', 'events', 'hits', 'misses', 'hit rate', 'total ms'],
    groups.map((g) => [
      `<td><code>${esc(g.name)}</code></td>`,
      `<td class="n">${g.events}</td>`,
      `<td class="n">${g.hits}</td>`,
      `<td class="n">${g.misses}</td>`,
      `<td class="n">${esc(pyFixed(g.hitRate, 3))}</td>`,
      `<td class="n">${esc(pyFixed(g.totalMs, 1))}</td>`,
    ]),
    { cls: 'sortable', caption, numeric: [false, true, true, true, true, true] },
  );
}

/** The trace summary: backend stats, the run's metrics (p50/p95/p99 per op), the trace by probe/op. */
export function traceBodyHtml(r: SuiteResult, analysis?: TraceAnalysis): string {
  const metrics =
    r.metrics === undefined ? '<p class="empty">Run metrics not recorded.</p>' : metricsHtml(r.metrics);
  const trace =
    analysis === undefined
      ? ''
      : `<h3>Trace by probe and op</h3><p>${analysis.events} events, ${analysis.hits} hits, hit rate ${esc(pyFixed(analysis.hitRate, 3))}, ${esc(pyFixed(analysis.batch.batches, 0))} batches (avg ${esc(pyFixed(analysis.batch.avgBatchSize, 2))}, max ${analysis.batch.maxBatchSize}).</p>` +
        groupTable('Events per probe', analysis.byProbe) +
        groupTable('Events per op', analysis.byOp);
  return backendStatsHtml(r) + metrics + trace;
}
