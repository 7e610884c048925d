import type { GroupStats, TraceAnalysis } from '../core/index.ts';
import { fmtPct } from './format.ts';
import { fmtWall } from './traceFormat.ts';

/** One run's analysis: summary, per view / probe / op, the slowest events and the hot prompts. */
export function TraceAnalysisView({ a }: { a: TraceAnalysis }) {
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
