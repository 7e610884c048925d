// @vitest-environment jsdom
// "Add to report" in Probe (Compare, continuation score, heatmap), the pins listed with a Remove
// button in Suite, the HTML download carrying them; pins kept in IndexedDB across a reload.
import 'fake-indexeddb/auto';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { analyzeTrace } from '../../src/core/index.ts';
import type { SuiteResult } from '../../src/suite/types.ts';
import { ProbePanel } from '../../src/ui/ProbePanel.tsx';
import { SuitePanel } from '../../src/ui/SuitePanel.tsx';
import {
  idbPinStore,
  pinFromCompare,
  useReportPins,
  type PinStore,
  type ReportPin,
} from '../../src/ui/reportPins.ts';
import type { CompareResult, ContinuationResult, HeatmapResult } from '../../src/worker/workbenchApi.ts';
import { fixtureResult } from '../suite/reportFixture.ts';
import { current } from './setup.ts';

const lastResult: { value: SuiteResult | null } = { value: null };
vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return {
    ...orig,
    workbench: () => ({ ...current.fake.api, lastSuiteResult: async () => lastResult.value }),
  };
});

const downloads: { blob: Blob; name: string }[] = [];
vi.mock('../../src/ui/download.ts', () => ({
  download: (blob: Blob, name: string) => downloads.push({ blob, name }),
}));

const COMPARE: CompareResult = {
  prompt: 'The <b>keeper</b> & "the"',
  view: 'ft',
  base: [{ id: 1, token: ' the', logprob: Math.log(0.5) }],
  ft: [{ id: 2, token: ' Tollmere', logprob: Math.log(0.7) }],
  topK: 1,
  divergence: { js: 0.12345, klFtBase: 0.5, klBaseFt: Infinity, entropyBase: 2.1, entropyFt: 1.7 },
  baseMass: 0.5,
  ftMass: 0.7,
};
const CONTINUATION: ContinuationResult = { view: 'ft', base: -9.5, ft: -2.25, delta: 7.25, numTokens: 3 };
const rolling = (logprobs: number[]) => ({
  tokenIds: new Int32Array(logprobs.length + 1),
  logprobs: new Float32Array(logprobs),
  numTokens: logprobs.length + 1,
  totalLogprob: logprobs.reduce((a, b) => a + b, 0),
  meanLogprob: logprobs.reduce((a, b) => a + b, 0) / logprobs.length,
  perplexity: 2,
});
const HEATMAP: HeatmapResult = {
  view: 'ft',
  tokens: ['Od', 'essa', ' lit'],
  base: rolling([-4, -2]),
  ft: rolling([-1, -2.5]),
};

/** A memory store standing in for IndexedDB. */
function memoryStore(initial: ReportPin[] = []): PinStore & { saved: ReportPin[][] } {
  const saved: ReportPin[][] = [];
  return {
    saved,
    load: async () => initial,
    save: async (pins) => void saved.push([...pins]),
  };
}

function Harness({ store }: { store: PinStore }) {
  const pins = useReportPins(store);
  return (
    <>
      <ProbePanel
        ready
        pins={pins}
        pair={{
          pairId: 'demo:deltascope-demo',
          label: 'demo base vs demo ft',
          dtype: 'fp32',
          device: 'wasm',
        }}
      />
      <SuitePanel ready pins={pins} />
    </>
  );
}

const probe = () => screen.getByRole('region', { name: 'Probe' });
const suite = () => screen.getByRole('region', { name: 'Suite' });

async function runSuite() {
  current.fake.api.validateSuite.mockResolvedValue({
    ok: true,
    issues: [],
    probes: [{ name: 'kl', kind: 'delta_kl', enabled: true }],
  });
  const result = fixtureResult();
  lastResult.value = result;
  current.fake.api.runSuite.mockResolvedValue(result);
  const run = within(suite()).getByRole('button', { name: 'Run suite' }) as HTMLButtonElement;
  await waitFor(() => expect(run.disabled).toBe(false));
  await act(async () => fireEvent.click(run));
  await screen.findByTestId('suite-summary');
}

describe('report pins', () => {
  it('pins a Compare, a continuation score and a heatmap; lists them in Suite; the HTML download draws them', async () => {
    current.fake.api.compare.mockResolvedValue(COMPARE);
    current.fake.api.scoreContinuation.mockResolvedValue(CONTINUATION);
    current.fake.api.heatmap.mockResolvedValue(HEATMAP);
    const store = memoryStore();
    render(<Harness store={store} />);
    const list = () => within(suite()).getByTestId('report-pins');
    expect(list().textContent).toContain('Pinned for the HTML report (0)');

    await act(async () => fireEvent.click(within(probe()).getByRole('button', { name: 'Compare' })));
    const add = within(probe()).getByRole('button', { name: 'Add to report: comparison' });
    fireEvent.click(add);
    expect(
      (within(probe()).getByRole('button', { name: 'In report: comparison' }) as HTMLButtonElement).disabled,
    ).toBe(true);
    expect(list().textContent).toContain(
      'Compare · base vs ft · “The <b>keeper</b> & "the"” · on demo base vs demo ft',
    );
    // The pin records the pair it was computed on (saved with it).
    await waitFor(() =>
      expect(store.saved.at(-1)?.[0]?.pair).toEqual({
        pairId: 'demo:deltascope-demo',
        label: 'demo base vs demo ft',
        dtype: 'fp32',
        device: 'wasm',
      }),
    );

    // The continuation pin keeps the prompt and continuation it was scored on, even once edited.
    const contInput = within(probe()).getByRole('textbox', { name: 'Continuation' });
    fireEvent.change(contInput, { target: { value: ' Tollmere light' } });
    await act(async () =>
      fireEvent.click(within(probe()).getByRole('button', { name: 'Score continuation' })),
    );
    fireEvent.change(contInput, { target: { value: ' edited later' } });
    fireEvent.click(within(probe()).getByRole('button', { name: 'Add to report: continuation score' }));
    await act(async () => fireEvent.click(within(probe()).getByRole('button', { name: 'Heatmap' })));
    fireEvent.click(within(probe()).getByRole('button', { name: 'Add to report: heat map' }));
    expect(list().textContent).toContain('Pinned for the HTML report (3)');
    // The actions stay findable by name: no other button's name contains theirs (Playwright matches
    // names by substring, so "Add to report: Compare" once made every "Compare" click ambiguous).
    const names = within(probe())
      .getAllByRole('button')
      .map((b) => b.getAttribute('aria-label') ?? b.textContent ?? '');
    for (const action of ['Compare', 'Score continuation', 'Heatmap', 'Generate'])
      expect(
        names.filter((n) => n.toLowerCase().includes(action.toLowerCase())),
        action,
      ).toEqual([action]);
    expect(list().textContent).toContain('“ Tollmere light” after “The festival begins');
    expect(list().textContent).not.toContain('edited later');
    await waitFor(() => expect(store.saved.at(-1)).toHaveLength(3));

    await runSuite();
    // The suite's trace analysis (from the worker) goes into the report's trace section.
    current.fake.api.suiteTraceAnalysis.mockResolvedValue(analyzeTrace([]));
    downloads.length = 0;
    await act(async () =>
      fireEvent.click(within(suite()).getByRole('button', { name: 'Download HTML report' })),
    );
    expect(downloads).toHaveLength(1);
    expect(downloads[0]!.name).toBe('deltascope-suite-report.html');
    expect(downloads[0]!.blob.type).toBe('text/html');
    const html = await downloads[0]!.blob.text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const pins = Array.from(doc.querySelectorAll('#pins [data-pin]')).map((p) => p.getAttribute('data-pin'));
    expect(pins).toEqual(['compare', 'continuation', 'heatmap']);
    expect(doc.querySelector('[data-pin="compare"] .prompt')!.textContent).toContain(COMPARE.prompt);
    expect(doc.querySelector('[data-pin="continuation"] .prompt')!.textContent).toContain(' Tollmere light');
    expect(doc.querySelectorAll('[data-pin="heatmap"] .tok[data-delta]')).toHaveLength(2);
    expect(doc.querySelector('#probes')).not.toBeNull();
    expect(doc.querySelector('#trace')!.textContent).toContain('Trace by probe and op');
  });

  it('Remove takes a pin out, moves focus to the next Remove button, and the Compare can be added again', async () => {
    const a = pinFromCompare(COMPARE, new Date(0));
    const b = pinFromCompare({ ...COMPARE, prompt: 'second' }, new Date(1));
    const store = memoryStore([a, b]);
    current.fake.api.compare.mockResolvedValue(COMPARE);
    render(<Harness store={store} />);
    const list = within(suite()).getByTestId('report-pins');
    await waitFor(() => expect(list.textContent).toContain('Pinned for the HTML report (2)'));
    const removes = within(list).getAllByRole('button', { name: /^Remove from report/ });
    removes[0]!.focus();
    fireEvent.click(removes[0]!);
    expect(list.textContent).toContain('Pinned for the HTML report (1)');
    expect(list.textContent).toContain('“second”');
    await waitFor(() =>
      expect(document.activeElement?.getAttribute('aria-label')).toBe(
        'Remove from report: Compare · base vs ft · “second”',
      ),
    );
    await waitFor(() => expect(store.saved.at(-1)?.map((p) => p.id)).toEqual([b.id]));

    await act(async () => fireEvent.click(within(probe()).getByRole('button', { name: 'Compare' })));
    fireEvent.click(within(probe()).getByRole('button', { name: 'Add to report: comparison' }));
    const last = within(list)
      .getAllByRole('button', { name: /^Remove from report/ })
      .at(-1)!;
    fireEvent.click(last);
    expect(within(probe()).getByRole('button', { name: 'Add to report: comparison' })).toBeTruthy();
  });

  it('keeps pins in IndexedDB: a new store reads back what was saved (an infinite KL included), dropping malformed entries', async () => {
    const name = `pins-test-${Math.random()}`;
    const pin = pinFromCompare(COMPARE, new Date(5));
    await idbPinStore(name).save([pin, { kind: 'compare', id: 'broken' } as unknown as ReportPin]);
    const back = await idbPinStore(name).load();
    expect(back).toEqual([pin]);
    expect((back[0] as typeof pin).divergence.klBaseFt).toBe(Infinity);
  });

  it('without pins (no prop) the Probe panel offers no "Add to report"', async () => {
    current.fake.api.compare.mockResolvedValue(COMPARE);
    render(<ProbePanel ready />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Compare' })));
    expect(screen.queryByRole('button', { name: /Add to report/ })).toBeNull();
  });
});
