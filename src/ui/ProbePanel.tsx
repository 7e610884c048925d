import { useEffect, useRef, useState, type FormEvent } from 'react';
import type {
  CompareResult,
  ContinuationResult,
  GenerateResult,
  HeatmapResult,
  PairViews,
} from '../worker/workbenchApi.ts';
import { errorMessage } from '../core/errors.ts';
import { HISTORY_MAX } from '../store/settings.ts';
import { DistributionView } from './DistributionView.tsx';
import { ErrorAlert } from './ErrorAlert.tsx';
import { LatestWins } from './latestWins.ts';
import { pinFromCompare, pinFromContinuation, pinFromHeatmap, type ReportPins } from './reportPins.ts';
import type { PinPair } from '../suite/reports/htmlPins.ts';
import { TokenHeatmap } from './TokenHeatmap.tsx';
import { workbench } from './workerClient.ts';
import { fmtKl, fmtNats, fmtPct } from './format.ts';
import { updateSettings, useSettings } from './useSettings.ts';
import type { ReportPin } from '../suite/reports/htmlPins.ts';
import { ViewPicker, viewName, type ViewChoice } from './ViewPicker.tsx';

type Busy = null | 'compare' | 'continuation' | 'heatmap' | 'generate';

interface CompareRequest {
  prompt: string;
  topK: number;
  view: string;
}

/**
 * @param views the adapter views the loaded pair serves (null or absent: none, base vs ft only); with
 *   any, a view picker and a λ slider choose what Compare sets against base.
 * @param pins where "Add to report" puts a Compare, a continuation score or a heatmap (absent: no
 *   such buttons).
 */
export function ProbePanel({
  ready,
  views = null,
  pins,
  pair = null,
}: {
  ready: boolean;
  views?: PairViews | null;
  pins?: ReportPins;
  /** The loaded pair, recorded in each pin (a report names it, and flags a pin from another pair). */
  pair?: PinPair | null;
}) {
  const { topK, history, generateTokens } = useSettings((s) => s.probe);
  const [prompt, setPrompt] = useState('The festival begins when the keeper of the');
  const [completion, setCompletion] = useState(' Tollmere lighthouse');
  const [text, setText] = useState('Odessa Vantraile made the first lanterns from green Brellmoor glass.');
  const [compare, setCompare] = useState<CompareResult | null>(null);
  const [continuation, setContinuation] = useState<ScoredContinuation | null>(null);
  const [heatmap, setHeatmap] = useState<HeatmapResult | null>(null);
  const [generated, setGenerated] = useState<GenerateResult | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<{ where: Busy; message: string } | null>(null);
  const [choice, setChoice] = useState<ViewChoice>({ mode: 'ft', lambda: 0.5, seed: 1000 });
  const hasAdapterViews = views !== null && (views.scalable || views.nullCalibrated);

  async function run<T>(what: Exclude<Busy, null>, job: () => Promise<T>, done: (v: T) => void) {
    setBusy(what);
    setError(null);
    try {
      done(await job());
    } catch (e) {
      setError({ where: what, message: errorMessage(e) });
    } finally {
      setBusy(null);
    }
  }

  function remember(p: string) {
    updateSettings('probe', { history: [p, ...history.filter((h) => h !== p)].slice(0, HISTORY_MAX) });
  }

  // One compare at a time, newest request next: a slider dragged during a compare re-scores once
  // more, at its last position, not once per position passed.
  const compares = useRef<LatestWins<CompareRequest> | null>(null);
  compares.current ??= new LatestWins((r) =>
    run('compare', () => workbench().compare(r.prompt, r.topK, r.view), setCompare),
  );
  useEffect(() => () => compares.current?.drop(), []);

  const requestCompare = (view: string) => {
    if (!ready || prompt.length === 0) return;
    compares.current!.request({ prompt, topK, view });
  };

  const onCompare = (e?: FormEvent) => {
    e?.preventDefault();
    if (!ready || prompt.length === 0) return;
    remember(prompt);
    requestCompare(viewName(choice, views));
  };

  const onViewChange = (next: ViewChoice) => {
    setChoice(next);
    requestCompare(viewName(next, views));
  };

  const shown = compare?.view ?? 'ft';
  /** What Continuation, Heatmap and Generate set against base: the picked view on base + adapter. */
  const againstView = () => (hasAdapterViews ? viewName(choice, views) : 'ft');

  const errorFor = (where: Busy) => <ErrorAlert message={error?.where === where ? error.message : null} />;

  // Which result each pin came from, so its button reads "In report" until the pin is removed. Its
  // accessible name must not contain the name of the action's own button ("Compare", "Heatmap"):
  // that button is found by its name.
  const [pinnedFrom, setPinnedFrom] = useState<{ from: object; id: string }[]>([]);
  const pinButton = (from: object, make: () => ReportPin, what: string) => {
    if (pins === undefined) return null;
    const inReport = pinnedFrom.some((x) => x.from === from && pins.pins.some((p) => p.id === x.id));
    return (
      <button
        type="button"
        className="pin-button"
        disabled={inReport}
        aria-label={inReport ? `In report: ${what}` : `Add to report: ${what}`}
        onClick={() => {
          const pin = make();
          setPinnedFrom((xs) => [...xs.slice(-8), { from, id: pin.id }]);
          pins.add(pin);
        }}
      >
        {inReport ? '✓ In report' : 'Add to report'}
      </button>
    );
  };

  return (
    <section aria-labelledby="probe-heading" className="panel probe-panel">
      <h2 id="probe-heading">Probe</h2>
      {!ready && <p className="empty">Load a model pair to probe it.</p>}
      <form onSubmit={onCompare} className="prompt-form">
        <label className="grow">
          Prompt
          <textarea
            value={prompt}
            rows={2}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) onCompare();
            }}
          />
        </label>
        <label>
          top-k
          <input
            type="number"
            min={1}
            max={256}
            value={topK}
            onChange={(e) =>
              updateSettings('probe', {
                topK: Math.max(1, Math.min(256, Math.round(Number(e.target.value)) || 1)),
              })
            }
          />
        </label>
        <div className="buttons">
          <button type="submit" disabled={!ready || busy !== null} title="Ctrl+Enter">
            Compare
          </button>
          <button
            type="button"
            disabled={!ready || busy !== null}
            onClick={() =>
              void run(
                'generate',
                () => workbench().generate(prompt, generateTokens, againstView()),
                setGenerated,
              )
            }
          >
            Generate
          </button>
        </div>
      </form>
      {hasAdapterViews && (
        <ViewPicker views={views} choice={choice} disabled={!ready} onChange={onViewChange} />
      )}
      {history.length > 0 && (
        <div className="history" aria-label="Prompt history">
          {history.slice(0, 6).map((h) => (
            <button key={h} type="button" className="chip" onClick={() => setPrompt(h)} title={h}>
              {h.length > 40 ? `${h.slice(0, 40)}…` : h}
            </button>
          ))}
        </div>
      )}
      {errorFor('compare')}
      {compare !== null && (
        <div className="compare" data-testid="compare-result">
          <h3 className="compare-title" data-testid="compare-view">
            base vs <code>{shown}</code>
          </h3>
          {pinButton(compare, () => pinFromCompare(compare, new Date(), pair), 'comparison')}
          <dl className="divergence" aria-label="Divergence over the full vocabulary">
            <div>
              <dt>JS divergence</dt>
              <dd data-testid="js-value" title={exactTitle(compare.divergence.js)}>
                {fmtNats(compare.divergence.js)}
              </dd>
            </div>
            <div>
              <dt>KL({shown}‖base)</dt>
              <dd data-testid="kl-value" title={exactTitle(compare.divergence.klFtBase)}>
                {fmtKl(compare.divergence.klFtBase)}
              </dd>
            </div>
            <div>
              <dt>KL(base‖{shown})</dt>
              <dd data-testid="kl-rev-value" title={exactTitle(compare.divergence.klBaseFt)}>
                {fmtKl(compare.divergence.klBaseFt)}
              </dd>
            </div>
            <div>
              <dt>entropy base · {shown}</dt>
              <dd data-testid="entropy-value">
                {fmtNats(compare.divergence.entropyBase, 3)} · {fmtNats(compare.divergence.entropyFt, 3)}
              </dd>
            </div>
          </dl>
          <p className="divergence-note" data-testid="mass-value">
            Exact, over the full vocabulary. The top {compare.topK} rows drawn cover{' '}
            {fmtPct(compare.baseMass)} of base&apos;s probability and {fmtPct(compare.ftMass)} of {shown}
            &apos;s.
          </p>
          <div className="dists">
            <DistributionView title="base" rows={compare.base} testId="dist-base" />
            <DistributionView title={shown} rows={compare.ft} testId="dist-ft" />
          </div>
        </div>
      )}
      {errorFor('generate')}
      {generated !== null && (
        <div className="generated" data-testid="generated">
          {(['base', 'ft'] as const).map((view) => (
            <div key={view}>
              <h3>{view === 'base' ? 'base' : generated.view}</h3>
              <p>
                <span className="prompt-echo">{generated.prompt}</span>
                {generated[view]}
              </p>
            </div>
          ))}
        </div>
      )}
      <form
        className="continuation-form"
        onSubmit={(e) => {
          e.preventDefault();
          const [p, c] = [prompt, completion];
          void run(
            'continuation',
            () =>
              workbench()
                .scoreContinuation(p, c, againstView())
                .then((r) => ({ ...r, prompt: p, continuation: c })),
            setContinuation,
          );
        }}
      >
        <label className="grow">
          Continuation
          <input value={completion} onChange={(e) => setCompletion(e.target.value)} />
        </label>
        <button type="submit" disabled={!ready || busy !== null || completion.length === 0}>
          Score continuation
        </button>
      </form>
      {errorFor('continuation')}
      {continuation !== null && (
        <p className="continuation" data-testid="continuation-result">
          log p(continuation | prompt): base {fmtNats(continuation.base, 3)} · {continuation.view}{' '}
          {fmtNats(continuation.ft, 3)} · Δ <strong>{fmtNats(continuation.delta, 3)}</strong> over{' '}
          {continuation.numTokens} tokens{' '}
          {pinButton(
            continuation,
            () =>
              pinFromContinuation(
                continuation,
                continuation.prompt,
                continuation.continuation,
                new Date(),
                pair,
              ),
            'continuation score',
          )}
        </p>
      )}
      <form
        className="heatmap-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run('heatmap', () => workbench().heatmap(text, againstView()), setHeatmap);
        }}
      >
        <label className="grow">
          Text
          <textarea value={text} rows={2} onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit" disabled={!ready || busy !== null || text.length === 0}>
          Heatmap
        </button>
      </form>
      {errorFor('heatmap')}
      {heatmap !== null && (
        <>
          <TokenHeatmap result={heatmap} />
          {pinButton(heatmap, () => pinFromHeatmap(heatmap, new Date(), pair), 'heat map')}
        </>
      )}
    </section>
  );
}

/** A continuation score with the prompt and continuation it was scored on (the inputs may change since). */
type ScoredContinuation = ContinuationResult & { prompt: string; continuation: string };

/** The unrounded value on hover: a null adapter's divergence is often below the fourth decimal. */
const exactTitle = (x: number): string => `${x} nats`;
