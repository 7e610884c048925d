import { useId, useState } from 'react';
import type { PairViews } from '../worker/workbenchApi.ts';

export type ViewMode = 'ft' | 'scaled' | 'null';

export interface ViewChoice {
  mode: ViewMode;
  /** The adapter's scale for `scaled` (two decimals, as the view id has). */
  lambda: number;
  /** The null adapter's seed for `null`. */
  seed: number;
}

export const LAMBDA_MIN = -1;
export const LAMBDA_MAX = 2;
export const LAMBDA_STEP = 0.05;

/** λ as the view id spells it: two decimals, no negative zero. */
export const roundLambda = (l: number): number => Math.round(l * 100) / 100 + 0;

/**
 * The view id a choice names (`ft`, `scaled_<λ:.2f>`, `null_<seed>`), falling back to `ft` when the
 * loaded pair lacks the capability (a two-full-models pair has neither).
 */
export function viewName(choice: ViewChoice, views: PairViews | null): string {
  if (choice.mode === 'scaled' && views?.scalable) return `scaled_${roundLambda(choice.lambda).toFixed(2)}`;
  if (choice.mode === 'null' && views?.nullCalibrated) return `null_${choice.seed}`;
  return 'ft';
}

/**
 * Which view the Compare sets against base, on a pair with adapter views: ft, the adapter scaled by
 * λ (a range slider, −1…2 in steps of 0.05, arrow keys move it), or a seeded null adapter. Every
 * change calls `onChange` with the new choice; the panel re-scores the prompt (latest wins).
 */
export function ViewPicker({
  views,
  choice,
  disabled,
  onChange,
}: {
  views: PairViews;
  choice: ViewChoice;
  disabled: boolean;
  onChange(next: ViewChoice): void;
}) {
  const id = useId();
  const lambdaText = roundLambda(choice.lambda).toFixed(2);
  // The seed field keeps what is typed (an empty field mid-edit); only a whole seed ≥ 0 applies.
  const [seedText, setSeedText] = useState(String(choice.seed));
  return (
    <fieldset className="view-picker" data-testid="view-picker" disabled={disabled}>
      <legend>Compare base with</legend>
      <label className="inline">
        <input
          type="radio"
          name={`${id}-view`}
          value="ft"
          checked={choice.mode === 'ft'}
          onChange={() => onChange({ ...choice, mode: 'ft' })}
        />
        ft
      </label>
      <span className="view-option">
        <label className="inline">
          <input
            type="radio"
            name={`${id}-view`}
            value="scaled"
            checked={choice.mode === 'scaled'}
            disabled={!views.scalable}
            onChange={() => onChange({ ...choice, mode: 'scaled' })}
          />
          scaled
        </label>
        <label className="inline" htmlFor={`${id}-lambda`}>
          λ (adapter scale)
        </label>
        <input
          id={`${id}-lambda`}
          type="range"
          min={LAMBDA_MIN}
          max={LAMBDA_MAX}
          step={LAMBDA_STEP}
          value={choice.lambda}
          disabled={!views.scalable}
          aria-valuetext={`λ ${lambdaText}`}
          data-testid="lambda-slider"
          onChange={(e) =>
            onChange({ ...choice, mode: 'scaled', lambda: roundLambda(Number(e.target.value)) })
          }
        />
        <output htmlFor={`${id}-lambda`} data-testid="lambda-value">
          {lambdaText}
        </output>
      </span>
      <span className="view-option">
        <label className="inline">
          <input
            type="radio"
            name={`${id}-view`}
            value="null"
            checked={choice.mode === 'null'}
            disabled={!views.nullCalibrated}
            onChange={() => onChange({ ...choice, mode: 'null' })}
          />
          null adapter
        </label>
        <label className="inline">
          seed
          <input
            type="number"
            min={0}
            step={1}
            value={seedText}
            disabled={!views.nullCalibrated}
            data-testid="null-seed"
            onChange={(e) => {
              setSeedText(e.target.value);
              const seed = Number(e.target.value);
              if (e.target.value.trim() !== '' && Number.isSafeInteger(seed) && seed >= 0)
                onChange({ ...choice, mode: 'null', seed });
            }}
          />
        </label>
      </span>
    </fieldset>
  );
}
