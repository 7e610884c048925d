/** The trace analysis as text for a terminal, as markdown and as JSON (`deltascope trace`). */
import { markdownTable, textTable, type Align } from './textTable.ts';
import { UNASSIGNED_PROBE, type BatchStats, type GroupStats, type TraceAnalysis } from './traceAnalysis.ts';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const ms = (x: number): string => `${x.toFixed(2)} ms`;

function isoTs(ts: number | null): string {
  if (ts === null || !Number.isFinite(ts)) return '—';
  const d = new Date(ts * 1000);
  return Number.isNaN(d.getTime()) ? '—' : d.toISOString();
}

const GROUP_HEADER = ['name', 'events', 'total ms', 'hits', 'misses', 'hit rate'];
const GROUP_ALIGN: Align[] = ['left', 'right', 'right', 'right', 'right', 'right'];
const SLOW_HEADER = ['wall ms', 'hit', 'op', 'view', 'probe', 'prompt_hash'];
const SLOW_ALIGN: Align[] = ['right', 'left', 'left', 'left', 'left', 'left'];
const HOT_HEADER = ['prompt_hash', 'count', 'hits'];
const HOT_ALIGN: Align[] = ['left', 'right', 'right'];

const text = (header: string[], rows: string[][], align: Align[]) =>
  textTable(header, rows, align, { rule: true });

function groupRows(gs: GroupStats[]): string[][] {
  return gs.map((g) => [
    g.name,
    String(g.events),
    g.totalMs.toFixed(2),
    String(g.hits),
    String(g.misses),
    pct(g.hitRate),
  ]);
}

function slowRows(a: TraceAnalysis): string[][] {
  return a.slowest.map((e) => [
    e.wall_ms.toFixed(2),
    e.hit ? 'hit' : 'miss',
    e.op,
    e.view_id,
    e.probe || UNASSIGNED_PROBE,
    e.prompt_hash,
  ]);
}

function batchLine(b: BatchStats): string {
  return b.batches === 0
    ? 'batches: none'
    : `batches: ${b.batches} (avg=${b.avgBatchSize.toFixed(1)}, max=${b.maxBatchSize}, prompts=${b.batchedPrompts})`;
}

/** Plain-text report for a terminal: aligned columns, fixed decimals. */
export function renderAnalysisText(a: TraceAnalysis): string {
  const out: string[] = [
    `events: ${a.events}  total: ${ms(a.totalMs)}  hit rate: ${pct(a.hitRate)} (${a.hits}/${a.events})`,
    `time range: ${isoTs(a.firstTs)} → ${isoTs(a.lastTs)} (${a.spanS.toFixed(3)} s)`,
    batchLine(a.batch),
    '',
    'per probe',
    ...text(GROUP_HEADER, groupRows(a.byProbe), GROUP_ALIGN),
    '',
    'per view',
    ...text(GROUP_HEADER, groupRows(a.byView), GROUP_ALIGN),
    '',
    'per op',
    ...text(GROUP_HEADER, groupRows(a.byOp), GROUP_ALIGN),
    '',
    `slowest ${a.slowest.length} events`,
    ...text(SLOW_HEADER, slowRows(a), SLOW_ALIGN),
  ];
  if (a.hotPrompts.length > 0) {
    out.push(
      '',
      'hot prompts',
      ...text(
        HOT_HEADER,
        a.hotPrompts.map((p) => [p.promptHash, String(p.count), String(p.hits)]),
        HOT_ALIGN,
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** Markdown report: a summary list and one table per breakdown. */
export function renderAnalysisMarkdown(a: TraceAnalysis): string {
  const out: string[] = [
    '# Trace analysis',
    '',
    `- events: **${a.events}**`,
    `- total wall time: **${ms(a.totalMs)}**`,
    `- hit rate: **${pct(a.hitRate)}** (${a.hits}/${a.events})`,
    `- time range: ${isoTs(a.firstTs)} → ${isoTs(a.lastTs)} (${a.spanS.toFixed(3)} s)`,
    `- ${batchLine(a.batch)}`,
    '',
    '## Per probe',
    '',
    ...markdownTable(GROUP_HEADER, groupRows(a.byProbe), GROUP_ALIGN),
    '',
    '## Per view',
    '',
    ...markdownTable(GROUP_HEADER, groupRows(a.byView), GROUP_ALIGN),
    '',
    '## Per op',
    '',
    ...markdownTable(GROUP_HEADER, groupRows(a.byOp), GROUP_ALIGN),
    '',
    `## Slowest ${a.slowest.length} events`,
    '',
    ...markdownTable(SLOW_HEADER, slowRows(a), SLOW_ALIGN),
  ];
  if (a.hotPrompts.length > 0) {
    out.push(
      '',
      '## Hot prompts',
      '',
      ...markdownTable(
        HOT_HEADER,
        a.hotPrompts.map((p) => [`\`${p.promptHash}\``, String(p.count), String(p.hits)]),
        HOT_ALIGN,
      ),
    );
  }
  return out.join('\n') + '\n';
}

/**
 * JSON report: sway's `render_json` fields first, with sway's names (`total_events`,
 * `total_wall_ms`, `overall_hit_rate`, `per_probe`, `per_view`, `slowest` with the eight trace
 * fields), then deltascope's additions (`per_op`, hit and miss counts, the time range,
 * `hot_prompts`, `batch`).
 */
export function analysisToJson(a: TraceAnalysis): Record<string, unknown> {
  const group = (key: string) => (g: GroupStats) => ({
    [key]: g.name,
    n_events: g.events,
    total_ms: g.totalMs,
    cache_hits: g.hits,
    cache_misses: g.misses,
    hit_rate: g.hitRate,
  });
  return {
    total_events: a.events,
    total_wall_ms: a.totalMs,
    overall_hit_rate: a.hitRate,
    per_probe: a.byProbe.map(group('probe')),
    per_view: a.byView.map((g) => ({ view_id: g.name, n_events: g.events, total_ms: g.totalMs })),
    slowest: a.slowest.map((e) => ({
      ts: e.ts,
      probe: e.probe,
      view_id: e.view_id,
      prompt_hash: e.prompt_hash,
      top_k: e.top_k,
      op: e.op,
      wall_ms: e.wall_ms,
      hit: e.hit,
    })),
    per_op: a.byOp.map(group('op')),
    cache_hits: a.hits,
    cache_misses: a.misses,
    first_ts: a.firstTs,
    last_ts: a.lastTs,
    span_s: a.spanS,
    hot_prompts: a.hotPrompts.map((p) => ({ prompt_hash: p.promptHash, count: p.count, hits: p.hits })),
    batch: {
      batches: a.batch.batches,
      batched_prompts: a.batch.batchedPrompts,
      max_batch_size: a.batch.maxBatchSize,
      avg_batch_size: a.batch.avgBatchSize,
      sizes: a.batch.sizes,
    },
  };
}

/** `analysisToJson` as indented text. */
export function renderAnalysisJson(a: TraceAnalysis): string {
  return JSON.stringify(analysisToJson(a), null, 2) + '\n';
}
