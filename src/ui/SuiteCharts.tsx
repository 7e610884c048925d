import type { Band } from '../suite/types.ts';
import type { Category } from '../probes/types.ts';
import { fmtSig, nullSummary, type NullContext } from './nullCalibration.ts';

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

/**
 * The ablation curve: mean divergence from λ_min against λ; `measure` says which divergence. λ = 1
 * (the adapter as trained) is marked when the sweep has it.
 */
export function AblationCurve({
  lambdas,
  values,
  measure,
}: {
  lambdas: number[];
  values: number[];
  measure: string;
}) {
  const w = 280;
  const h = 120;
  const left = 44;
  const xMin = Math.min(...lambdas);
  const xMax = Math.max(...lambdas);
  const yMax = Math.max(...values, 1e-9);
  const px = (l: number) => left + ((l - xMin) / (xMax - xMin || 1)) * (w - left - 10);
  const py = (v: number) => h - 20 - (v / yMax) * (h - 30);
  const d = lambdas
    .map((l, i) => `${i === 0 ? 'M' : 'L'} ${px(l).toFixed(1)} ${py(values[i]!).toFixed(1)}`)
    .join(' ');
  const points = lambdas.map((l, i) => `λ ${l}: ${fmtSig(values[i]!)}`).join(', ');
  return (
    <figure className="ablation" data-testid="ablation-curve">
      <figcaption>
        Ablation curve: divergence from λ = {xMin} as the adapter is scaled{' '}
        <span data-testid="ablation-measure">({measure})</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        width={w}
        height={h}
        role="img"
        aria-label={`ablation curve, divergence by λ: ${points}`}
      >
        <line x1={left} y1={h - 20} x2={w - 10} y2={h - 20} stroke="#c7cdd8" />
        <line x1={left} y1="10" x2={left} y2={h - 20} stroke="#c7cdd8" />
        <text x={left - 4} y="14" fontSize="9" textAnchor="end">
          {fmtSig(yMax)}
        </text>
        <text x={left - 4} y={h - 20} fontSize="9" textAnchor="end">
          0
        </text>
        {lambdas.includes(1) && (
          <line
            x1={px(1)}
            y1="10"
            x2={px(1)}
            y2={h - 20}
            stroke="#94a3b8"
            strokeDasharray="3 3"
            data-testid="ablation-ft-marker"
          >
            <title>λ = 1: the adapter as trained (ft)</title>
          </line>
        )}
        <path d={d} fill="none" stroke="#2b59c3" strokeWidth="2" />
        {lambdas.map((l, i) => (
          <g key={l}>
            <circle cx={px(l)} cy={py(values[i]!)} r="3" fill="#2b59c3" data-testid="ablation-point">
              <title>{`λ ${l}: ${fmtSig(values[i]!)}`}</title>
            </circle>
            <text x={px(l)} y={h - 6} fontSize="9" textAnchor="middle">
              {l}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/**
 * A probe's raw value beside the null distribution its z-score came from: each null adapter's raw
 * value as a dot, the null mean ± std as a band with a tick at the mean, the probe's raw as a red
 * marker. The axis spans all of them, so a raw far outside the nulls reads as far. The text
 * alternative gives the same numbers.
 */
export function NullDistribution({
  raw,
  z,
  ctx,
  testId,
}: {
  raw: number;
  z: number;
  ctx: NullContext;
  testId: string;
}) {
  const w = 140;
  const h = 26;
  const { mean, std } = ctx.stats;
  const xs = [...ctx.samples, mean - std, mean + std, raw].filter(Number.isFinite);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.06;
  const px = (v: number) => 4 + ((v - (lo - pad)) / (hi - lo + 2 * pad)) * (w - 8);
  const label = nullSummary(raw, ctx, z);
  return (
    <svg
      className="null-dist"
      viewBox={`0 0 ${w} ${h}`}
      width={w}
      height={h}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-samples={ctx.samples.length}
    >
      <title>{label}</title>
      <line x1="4" y1={h - 6} x2={w - 4} y2={h - 6} stroke="#c7cdd8" />
      <rect
        x={px(mean - std)}
        y="6"
        width={Math.max(1, px(mean + std) - px(mean - std))}
        height={h - 12}
        fill="#dbe4f7"
      />
      <line x1={px(mean)} y1="4" x2={px(mean)} y2={h - 4} stroke="#2b59c3" strokeWidth="1.5" />
      {ctx.samples.map((v, i) => (
        <circle key={i} cx={px(v)} cy={h / 2} r="2.5" fill="#566074" className="null-sample" />
      ))}
      <line x1={px(raw)} y1="2" x2={px(raw)} y2={h - 2} stroke="#b91c1c" strokeWidth="2" />
      <path
        d={`M ${px(raw) - 4} 1 L ${px(raw) + 4} 1 L ${px(raw)} 7 Z`}
        fill="#b91c1c"
        className="raw-marker"
      />
    </svg>
  );
}
