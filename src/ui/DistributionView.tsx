import type { TokenRow } from '../worker/workbenchApi.ts';
import { showToken } from './format.ts';

/** One view's top-k next tokens with probability bars. */
export function DistributionView({
  title,
  rows,
  testId,
}: {
  title: string;
  rows: TokenRow[];
  testId: string;
}) {
  const max = rows.reduce((m, r) => Math.max(m, Math.exp(r.logprob)), 0) || 1;
  return (
    <figure className="dist" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <ol>
        {rows.map((r) => {
          const p = Math.exp(r.logprob);
          return (
            <li key={r.id} data-token-id={r.id} title={`id ${r.id} · logprob ${r.logprob.toFixed(4)}`}>
              <code className="tok">{showToken(r.token)}</code>
              <span className="bar" style={{ width: `${(p / max) * 100}%` }} />
              <span className="num">{(p * 100).toFixed(2)}%</span>
            </li>
          );
        })}
      </ol>
    </figure>
  );
}
