import type { Band } from '../suite/types.ts';
import type { Category } from '../probes/types.ts';

const BAND_COLOR: Record<Band, string> = {
  noise: '#b91c1c',
  partial: '#d97706',
  healthy: '#15803d',
  suspicious: '#7c3aed',
};

/** A half-circle gauge for the overall score with sway's bands (0.00, "noise", when nothing scored). */
export function ScoreGauge({ score, band }: { score: number; band: Band }) {
  const angle = Math.PI * (1 - score);
  const x = 60 + 48 * Math.cos(angle);
  const y = 60 - 48 * Math.sin(angle);
  const color = BAND_COLOR[band];
  return (
    <figure
      className="gauge"
      data-testid="score-gauge"
      aria-label={`overall score ${score.toFixed(2)}, ${band}`}
    >
      <svg viewBox="0 0 120 70" width="160" height="93" role="img">
        <path d="M 12 60 A 48 48 0 0 1 108 60" fill="none" stroke="#e5e8ee" strokeWidth="10" />
        <path
          d={`M 12 60 A 48 48 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`}
          fill="none"
          stroke={color}
          strokeWidth="10"
        />
        <text x="60" y="55" textAnchor="middle" fontSize="18" fontWeight="600">
          {score.toFixed(2)}
        </text>
      </svg>
      <figcaption style={{ color }}>{band}</figcaption>
    </figure>
  );
}

export function CategoryBars({
  components,
  weights,
}: {
  components: Partial<Record<Category, number>>;
  weights: Record<Category, number>;
}) {
  return (
    <div className="category-bars" data-testid="category-bars">
      {(Object.keys(weights) as Category[]).map((c) => {
        const v = components[c];
        return (
          <div key={c} className="cat-row">
            <span className="cat-name">{c}</span>
            <span className="cat-track">
              {v !== undefined && <span className="cat-fill" style={{ width: `${v * 100}%` }} />}
            </span>
            <span className="num">{v === undefined ? '—' : v.toFixed(2)}</span>
            <span className="cat-weight">w {weights[c].toFixed(2)}</span>
          </div>
        );
      })}
    </div>
  );
}

/** The ablation curve: mean divergence from λ_min against λ; `measure` says which divergence. */
export function AblationCurve({
  lambdas,
  values,
  measure,
}: {
  lambdas: number[];
  values: number[];
  measure: string;
}) {
  const w = 260;
  const h = 110;
  const xMin = Math.min(...lambdas);
  const xMax = Math.max(...lambdas);
  const yMax = Math.max(...values, 1e-9);
  const px = (l: number) => 30 + ((l - xMin) / (xMax - xMin || 1)) * (w - 40);
  const py = (v: number) => h - 20 - (v / yMax) * (h - 30);
  const d = lambdas
    .map((l, i) => `${i === 0 ? 'M' : 'L'} ${px(l).toFixed(1)} ${py(values[i]!).toFixed(1)}`)
    .join(' ');
  return (
    <figure className="ablation" data-testid="ablation-curve">
      <figcaption>
        Ablation curve: divergence from λ = {xMin} as the adapter is scaled{' '}
        <span data-testid="ablation-measure">({measure})</span>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label="ablation curve">
        <line x1="30" y1={h - 20} x2={w - 10} y2={h - 20} stroke="#c7cdd8" />
        <line x1="30" y1="10" x2="30" y2={h - 20} stroke="#c7cdd8" />
        <path d={d} fill="none" stroke="#2b59c3" strokeWidth="2" />
        {lambdas.map((l, i) => (
          <g key={l}>
            <circle cx={px(l)} cy={py(values[i]!)} r="3" fill="#2b59c3" />
            <text x={px(l)} y={h - 6} fontSize="9" textAnchor="middle">
              {l}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
