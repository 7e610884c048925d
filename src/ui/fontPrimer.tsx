import { analyzeTrace } from '../core/index.ts';
import { TraceAnalysisView } from './TraceAnalysisView.tsx';

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

export function FontPrimer() {
  return (
    <div className="font-primer" aria-hidden="true" inert>
      <TraceAnalysisView a={PRIMER} />
    </div>
  );
}
