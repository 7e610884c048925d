// @vitest-environment jsdom
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { DeltascopeError } from '../../src/core/errors.ts';
import { ProbePanel } from '../../src/ui/ProbePanel.tsx';
import { viewName } from '../../src/ui/ViewPicker.tsx';
import type { CompareResult } from '../../src/worker/workbenchApi.ts';
import { deferred } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const PROMPT = 'The festival begins when the keeper of the';
const ADAPTER = { scalable: true, nullCalibrated: true };

function result(view: string, js = 0.1): CompareResult {
  return {
    prompt: PROMPT,
    view,
    base: [{ id: 1, token: ' the', logprob: Math.log(0.5) }],
    ft: [{ id: 2, token: ' Tollmere', logprob: Math.log(0.7) }],
    topK: 1,
    divergence: { js, klFtBase: 0.5, klBaseFt: 0.4, entropyBase: 2.1, entropyFt: 1.7 },
    baseMass: 0.5,
    ftMass: 0.7,
  };
}

const slider = () => screen.getByRole('slider', { name: 'λ (adapter scale)' }) as HTMLInputElement;
const views = () => current.fake.api.compare.mock.calls.map((c) => c[2]);

describe('view picker and λ slider', () => {
  it('absent on a pair of two full models (or when the views are unknown)', () => {
    const { rerender } = render(<ProbePanel ready views={{ scalable: false, nullCalibrated: false }} />);
    expect(screen.queryByTestId('view-picker')).toBeNull();
    rerender(<ProbePanel ready />);
    expect(screen.queryByRole('slider')).toBeNull();
  });

  it('the slider is a labelled range −1…2 in steps of 0.05 that shows its value', () => {
    render(<ProbePanel ready views={ADAPTER} />);
    const s = slider();
    expect([s.min, s.max, s.step, s.value]).toEqual(['-1', '2', '0.05', '0.5']);
    expect(screen.getByTestId('lambda-value').textContent).toBe('0.50');
    expect(s.getAttribute('aria-valuetext')).toBe('λ 0.50');
    const group = screen.getByRole('group', { name: 'Compare base with' });
    expect(within(group).getByRole('radio', { name: 'ft' })).toHaveProperty('checked', true);
  });

  it('moving the slider re-scores the prompt on scaled_<λ>, and the result says which view', async () => {
    current.fake.api.compare.mockImplementation(async (_p, _k, view) => result(view ?? 'ft'));
    render(<ProbePanel ready views={ADAPTER} />);
    await act(async () => fireEvent.change(slider(), { target: { value: '0.25' } }));
    expect(current.fake.api.compare).toHaveBeenLastCalledWith(PROMPT, 10, 'scaled_0.25');
    expect(screen.getByTestId('compare-view').textContent).toBe('base vs scaled_0.25');
    expect(within(screen.getByTestId('dist-ft')).getByText('scaled_0.25')).toBeTruthy();
    expect(screen.getByTestId('lambda-value').textContent).toBe('0.25');
    expect(screen.getByRole('radio', { name: 'scaled' })).toHaveProperty('checked', true);
    // Compare now runs on the chosen view; picking ft goes back to ft.
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Compare' })));
    expect(current.fake.api.compare).toHaveBeenLastCalledWith(PROMPT, 10, 'scaled_0.25');
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: 'ft' })));
    expect(current.fake.api.compare).toHaveBeenLastCalledWith(PROMPT, 10, 'ft');
    expect(screen.getByTestId('compare-view').textContent).toBe('base vs ft');
  });

  it('Continuation, Heatmap and Generate set base against the picked view and name it', async () => {
    current.fake.api.compare.mockImplementation(async (_p, _k, view) => result(view ?? 'ft'));
    const logprobs = (xs: number[]) => ({
      logprobs: Float32Array.from(xs),
      meanLogprob: xs.reduce((a, b) => a + b, 0) / xs.length,
      perplexity: 2,
      numTokens: xs.length + 1,
    });
    current.fake.api.heatmap.mockImplementation(
      async (_t, view) =>
        ({
          view: view ?? 'ft',
          tokens: ['<s>', 'a', 'b'],
          base: logprobs([-1, -2]),
          ft: logprobs([-0.5, -2.5]),
        }) as never,
    );
    current.fake.api.scoreContinuation.mockImplementation(async (_p, _c, view) => ({
      view: view ?? 'ft',
      base: -3,
      ft: -2,
      delta: 1,
      numTokens: 2,
    }));
    current.fake.api.generate.mockImplementation(async (p, _n, view) => ({
      view: view ?? 'ft',
      prompt: p,
      base: ' x',
      ft: ' y',
    }));
    render(<ProbePanel ready views={ADAPTER} />);
    await act(async () => fireEvent.change(slider(), { target: { value: '0.25' } }));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Heatmap' })));
    expect(current.fake.api.heatmap.mock.calls.at(-1)![1]).toBe('scaled_0.25');
    expect(screen.getByTestId('heatmap').textContent).toContain('mean Δ log-prob (scaled_0.25 − base)');
    fireEvent.change(screen.getByRole('textbox', { name: 'Continuation' }), { target: { value: ' lamp' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Score continuation' })));
    expect(current.fake.api.scoreContinuation.mock.calls.at(-1)![2]).toBe('scaled_0.25');
    expect(screen.getByTestId('continuation-result').textContent).toContain('· scaled_0.25 ');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Generate' })));
    expect(current.fake.api.generate.mock.calls.at(-1)![2]).toBe('scaled_0.25');
    expect(
      within(screen.getByTestId('generated')).getByRole('heading', { name: 'scaled_0.25' }),
    ).toBeTruthy();
  });

  it('latest wins: slider moves during a compare are dropped but the last, which runs next', async () => {
    const pending = [deferred<CompareResult>(), deferred<CompareResult>()];
    let n = 0;
    current.fake.api.compare.mockImplementation(() => pending[n++]!.promise);
    render(<ProbePanel ready views={ADAPTER} />);
    fireEvent.change(slider(), { target: { value: '0.1' } });
    for (const v of ['0.15', '0.2', '0.35', '0.6', '-0.45', '1.3', '1.7']) {
      fireEvent.change(slider(), { target: { value: v } });
    }
    // The slider itself follows every move; only the first λ has been sent so far.
    expect(screen.getByTestId('lambda-value').textContent).toBe('1.70');
    expect(views()).toEqual(['scaled_0.10']);
    await act(async () => pending[0]!.resolve(result('scaled_0.10')));
    expect(views()).toEqual(['scaled_0.10', 'scaled_1.70']);
    await act(async () => pending[1]!.resolve(result('scaled_1.70')));
    expect(views()).toEqual(['scaled_0.10', 'scaled_1.70']);
    expect(screen.getByTestId('compare-view').textContent).toBe('base vs scaled_1.70');
  });

  it('a failed compare does not stop the newest λ from running; the error then clears', async () => {
    const first = deferred<CompareResult>();
    current.fake.api.compare.mockReturnValueOnce(first.promise).mockResolvedValueOnce(result('scaled_2.00'));
    render(<ProbePanel ready views={ADAPTER} />);
    fireEvent.change(slider(), { target: { value: '1' } });
    fireEvent.change(slider(), { target: { value: '2' } });
    await act(async () => first.reject(new DeltascopeError('input/invalid', 'view refused')));
    expect(views()).toEqual(['scaled_1.00', 'scaled_2.00']);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('compare-view').textContent).toBe('base vs scaled_2.00');
  });

  it('keyboard: the slider is a native range, so arrow keys move it (the browser fires change)', () => {
    render(<ProbePanel ready views={ADAPTER} />);
    const s = slider();
    s.focus();
    expect(document.activeElement).toBe(s);
    expect(s.type).toBe('range');
  });

  it('a null view with a seed: picking it and changing the seed re-score on null_<seed>', async () => {
    current.fake.api.compare.mockImplementation(async (_p, _k, view) => result(view ?? 'ft'));
    render(<ProbePanel ready views={ADAPTER} />);
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: 'null adapter' })));
    expect(current.fake.api.compare).toHaveBeenLastCalledWith(PROMPT, 10, 'null_1000');
    const seed = screen.getByRole('spinbutton', { name: 'seed' });
    // An empty or fractional seed mid-edit runs nothing.
    await act(async () => fireEvent.change(seed, { target: { value: '' } }));
    await act(async () => fireEvent.change(seed, { target: { value: '1.5' } }));
    expect(current.fake.api.compare).toHaveBeenCalledTimes(1);
    await act(async () => fireEvent.change(seed, { target: { value: '7' } }));
    expect(current.fake.api.compare).toHaveBeenLastCalledWith(PROMPT, 10, 'null_7');
    expect(screen.getByTestId('compare-view').textContent).toBe('base vs null_7');
  });

  it('only the views the pair serves can be picked', () => {
    render(<ProbePanel ready views={{ scalable: true, nullCalibrated: false }} />);
    expect(screen.getByRole('radio', { name: 'null adapter' })).toHaveProperty('disabled', true);
    expect(slider().disabled).toBe(false);
  });

  it('without a pair the picker is disabled and nothing runs', () => {
    render(<ProbePanel ready={false} views={ADAPTER} />);
    fireEvent.change(slider(), { target: { value: '1' } });
    expect(current.fake.api.compare).not.toHaveBeenCalled();
  });

  it('viewName: λ with two decimals, no negative zero; ft when the pair lacks the capability', () => {
    const c = { lambda: 0.15000000000000002, seed: 3 };
    expect(viewName({ ...c, mode: 'scaled' }, ADAPTER)).toBe('scaled_0.15');
    expect(viewName({ ...c, mode: 'scaled', lambda: -0.001 }, ADAPTER)).toBe('scaled_0.00');
    expect(viewName({ ...c, mode: 'scaled', lambda: -1 }, ADAPTER)).toBe('scaled_-1.00');
    expect(viewName({ ...c, mode: 'null' }, ADAPTER)).toBe('null_3');
    expect(viewName({ ...c, mode: 'null' }, { scalable: true, nullCalibrated: false })).toBe('ft');
    expect(viewName({ ...c, mode: 'scaled' }, null)).toBe('ft');
  });
});
