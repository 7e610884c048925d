import { useState } from 'react';
import type { HeatmapResult } from '../worker/workbenchApi.ts';
import { showToken } from './format.ts';

/** Colour for a log-prob delta: blue where ft likes the token more, red where less. */
function deltaColor(delta: number): string {
  const a = Math.min(1, Math.abs(delta) / 3);
  return delta >= 0 ? `rgba(37, 99, 235, ${a * 0.55})` : `rgba(220, 38, 38, ${a * 0.55})`;
}

/** Per-token log-prob delta (ft − base) over a text, with details for the token under the pointer. */
export function TokenHeatmap({ result }: { result: HeatmapResult }) {
  const [focus, setFocus] = useState<number | null>(null);
  const { tokens, base, ft } = result;
  const n = base.logprobs.length;
  const meanDelta = ft.meanLogprob - base.meanLogprob;
  return (
    <div className="heatmap" data-testid="heatmap">
      <p className="summary">
        mean Δ log-prob ({result.view} − base): <strong>{meanDelta.toFixed(3)} nats/token</strong> ·
        perplexity base {base.perplexity.toFixed(2)} → {result.view} {ft.perplexity.toFixed(2)}
      </p>
      <p className="tokens" onMouseLeave={() => setFocus(null)}>
        {tokens.map((t, i) => {
          // Token 0 has no prediction; token i is scored by logprobs[i − 1].
          const scored = i >= 1 && i - 1 < n;
          const delta = scored ? ft.logprobs[i - 1]! - base.logprobs[i - 1]! : 0;
          return (
            <span
              key={i}
              className="hm-tok"
              tabIndex={scored ? 0 : -1}
              style={{ background: scored ? deltaColor(delta) : 'transparent' }}
              onMouseEnter={() => setFocus(i)}
              onFocus={() => setFocus(i)}
              data-delta={scored ? delta.toFixed(4) : undefined}
            >
              {showToken(t)}
            </span>
          );
        })}
      </p>
      {focus !== null && focus >= 1 && focus - 1 < n && (
        <p className="hm-detail" role="status">
          <code>{showToken(tokens[focus]!)}</code> base {base.logprobs[focus - 1]!.toFixed(3)} · {result.view}{' '}
          {ft.logprobs[focus - 1]!.toFixed(3)} · Δ{' '}
          {(ft.logprobs[focus - 1]! - base.logprobs[focus - 1]!).toFixed(3)} nats
        </p>
      )}
    </div>
  );
}
