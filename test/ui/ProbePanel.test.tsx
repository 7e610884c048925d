// @vitest-environment jsdom
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { DeltascopeError } from '../../src/core/errors.ts';
import { SETTINGS_KEY } from '../../src/store/settings.ts';
import { ProbePanel } from '../../src/ui/ProbePanel.tsx';
import type { CompareResult, GenerateResult } from '../../src/worker/workbenchApi.ts';
import { deferred } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const COMPARE: CompareResult = {
  prompt: 'p',
  view: 'ft',
  base: [{ id: 1, token: ' the', logprob: Math.log(0.5) }],
  ft: [{ id: 2, token: ' Tollmere', logprob: Math.log(0.7) }],
  topK: 1,
  divergence: { js: 0.12345, klFtBase: 0.5, klBaseFt: Infinity, entropyBase: 2.1, entropyFt: 1.7 },
  baseMass: 0.5,
  ftMass: 0.7,
};

const compareButton = () => screen.getByRole('button', { name: 'Compare' });

describe('ProbePanel', () => {
  it('empty: without a pair it asks for one and every action is disabled', () => {
    render(<ProbePanel ready={false} />);
    expect(screen.getByText('Load a model pair to probe it.')).toBeTruthy();
    expect((compareButton() as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Generate' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.submit(compareButton().closest('form')!);
    expect(current.fake.api.compare).not.toHaveBeenCalled();
  });

  it('loading: while a compare runs, the buttons are disabled; the result then shows', async () => {
    const pending = deferred<CompareResult>();
    current.fake.api.compare.mockReturnValue(pending.promise);
    render(<ProbePanel ready />);
    expect(screen.queryByText('Load a model pair to probe it.')).toBeNull();
    fireEvent.click(compareButton());
    expect((compareButton() as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId('compare-result')).toBeNull();
    await act(async () => pending.resolve(COMPARE));
    expect((compareButton() as HTMLButtonElement).disabled).toBe(false);
    const result = screen.getByTestId('compare-result');
    expect(within(result).getByTestId('js-value').textContent).toBe('0.1235 nats');
    expect(within(result).getByTestId('kl-value').textContent).toBe('0.5000 nats');
    expect(within(result).getByTestId('kl-rev-value').textContent).toBe('∞ nats');
    expect(within(result).getByTestId('mass-value').textContent).toContain('top 1 rows drawn cover 50.0%');
    expect(within(result).getByTestId('dist-ft').textContent).toContain('Tollmere');
    expect(current.fake.api.compare).toHaveBeenCalledWith(
      'The festival begins when the keeper of the',
      10,
      'ft',
    );
  });

  it('error: a failed compare shows its message as an alert, and the next success clears it', async () => {
    current.fake.api.compare.mockRejectedValueOnce(
      new DeltascopeError('device/lost', 'The WebGPU device was lost; restart the engine.'),
    );
    render(<ProbePanel ready />);
    await act(async () => fireEvent.click(compareButton()));
    expect(screen.getByRole('alert').textContent).toBe('The WebGPU device was lost; restart the engine.');
    current.fake.api.compare.mockResolvedValueOnce(COMPARE);
    await act(async () => fireEvent.click(compareButton()));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('compare-result')).toBeTruthy();
  });

  it('result: Generate shows the prompt it ran on, not the one typed since', async () => {
    const result: GenerateResult = { view: 'ft', prompt: 'Once upon', base: ' a time', ft: ' a lighthouse' };
    current.fake.api.generate.mockResolvedValue(result);
    render(<ProbePanel ready />);
    const prompt = screen.getByRole('textbox', { name: 'Prompt' });
    fireEvent.change(prompt, { target: { value: 'Once upon' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Generate' })));
    fireEvent.change(prompt, { target: { value: 'Something else entirely' } });
    const out = screen.getByTestId('generated');
    expect(out.textContent).toContain('Once upon a time');
    expect(out.textContent).toContain('Once upon a lighthouse');
    expect(out.textContent).not.toContain('Something else');
    expect(current.fake.api.generate).toHaveBeenCalledWith('Once upon', 32, 'ft');
  });

  it('top-k and the prompt history are kept in the settings', async () => {
    current.fake.api.compare.mockResolvedValue(COMPARE);
    render(<ProbePanel ready />);
    fireEvent.change(screen.getByRole('spinbutton', { name: 'top-k' }), { target: { value: '7' } });
    await act(async () => fireEvent.click(compareButton()));
    expect(current.fake.api.compare).toHaveBeenLastCalledWith(expect.any(String), 7, 'ft');
    const stored = JSON.parse(localStorage.getItem(SETTINGS_KEY)!) as {
      probe: { topK: number; history: string[] };
    };
    expect(stored.probe.topK).toBe(7);
    expect(stored.probe.history).toEqual(['The festival begins when the keeper of the']);
    const chips = screen.getByLabelText('Prompt history');
    expect(within(chips).getByTitle('The festival begins when the keeper of the')).toBeTruthy();
  });
});
