// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { TraceEvent } from '../../src/core/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { LiveCharts } from '../../src/ui/LiveCharts.tsx';
import type { BatchProgress, BatchRunResult } from '../../src/worker/workbenchApi.ts';
import { STATS, deferred } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});
// uPlot draws on a canvas, which jsdom has not got: the charts are stood in for by their titles.
vi.mock('../../src/ui/UPlotChart.tsx', () => ({
  UPlotChart: ({ title, series }: { title: string; series: { label: string }[] }) => (
    <figure data-testid="chart">
      {title}: {series.map((s) => s.label).join(', ')}
    </figure>
  ),
}));

const miss = (i: number): TraceEvent & { batch_size: number } => ({
  ts: 1_700_000_000 + i / 10,
  probe: null,
  view_id: 'base',
  prompt_hash: '0123456789ab',
  top_k: 10,
  op: 'next_token_dist',
  wall_ms: 4,
  hit: false,
  batch_size: 1,
});

const batchButton = () => screen.getByRole('button', { name: 'Run 200-prompt batch' }) as HTMLButtonElement;

describe('LiveCharts', () => {
  it('empty: zero counters, no hit rate, an empty latency table, and no batch without a pair', () => {
    render(<LiveCharts ready={false} />);
    expect(screen.getByTestId('counter-lookups').textContent).toBe('0');
    expect(screen.getByTestId('counter-hit-rate').textContent).toBe('—');
    expect(screen.getByText('No forward passes yet.')).toBeTruthy();
    expect(screen.getByText(/Charts fill in as soon as a model pair is loaded/)).toBeTruthy();
    expect(batchButton().disabled).toBe(true);
    expect(screen.getAllByTestId('chart')[0]!.textContent).toBe(
      'Cache hit rate: cumulative, last 50 lookups',
    );
  });

  it('result: a feed update fills the counters and the latency table', async () => {
    render(<LiveCharts ready />);
    await waitFor(() => expect(current.fake.api.subscribe).toHaveBeenCalled());
    act(() => current.fake.feed({ events: [miss(0), miss(1), miss(2)], stats: STATS }));
    expect(screen.getByTestId('counter-lookups').textContent).toBe('12');
    expect(screen.getByTestId('counter-hit-rate').textContent).toBe('25.0%');
    expect(screen.queryByText('No forward passes yet.')).toBeNull();
    const row = screen.getByRole('cell', { name: 'next_token_dist' }).closest('tr')!;
    expect(row.textContent).toBe('next_token_dist34.00 ms4.00 ms4.00 ms');
  });

  it('loading: a batch shows progress and a cancel, then what it did', async () => {
    const pending = deferred<BatchRunResult>();
    let onProgress: ((p: BatchProgress) => void) | undefined;
    current.fake.api.runBatch.mockImplementation((prompts, topK, cb) => {
      expect(prompts).toHaveLength(200);
      expect(topK).toBe(32);
      onProgress = cb;
      return pending.promise;
    });
    render(<LiveCharts ready />);
    fireEvent.click(batchButton());
    expect(batchButton().disabled).toBe(true);
    act(() => onProgress!({ done: 50, total: 200 }));
    expect(screen.getByTestId('load-status').textContent).toMatch(
      /^Scoring 200 prompts on both views… 50 of 200( · about \d+ s left)?$/,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel batch' }));
    expect(current.fake.api.cancelBatch).toHaveBeenCalled();
    await act(async () =>
      pending.resolve({
        prompts: 64,
        wallMs: 1234,
        cancelled: true,
        stoppedBy: 'cancel',
        hygiene: { prompts: 200, kept: 200, duplicates: 60, excluded: 0, lineEndings: 0, surrogates: 0 },
      }),
    );
    expect(screen.getByTestId('load-status').textContent).toBe(
      'Cancelled after 64 of 200 prompts × 2 views (1234 ms); their events are kept.',
    );
    // A progress message that lands after the result changes nothing.
    act(() => onProgress!({ done: 64, total: 200 }));
    expect(screen.getByTestId('load-status').textContent).toMatch(/^Cancelled after 64/);
    expect(screen.queryByRole('button', { name: 'Cancel batch' })).toBeNull();
  });

  it('a finished batch says what prompt hygiene did', async () => {
    current.fake.api.runBatch.mockResolvedValue({
      prompts: 200,
      wallMs: 900,
      cancelled: false,
      hygiene: { prompts: 200, kept: 200, duplicates: 60, excluded: 0, lineEndings: 2, surrogates: 1 },
    });
    render(<LiveCharts ready />);
    await act(async () => fireEvent.click(batchButton()));
    expect(screen.getByTestId('load-status').textContent).toBe(
      '200 prompts × 2 views in 900 ms · prompt hygiene: 60 repeats, kept (the cache answers them); ' +
        '2 with \\r\\n line endings normalised; 1 with invalid UTF-16 replaced by U+FFFD',
    );
  });

  it('error: a batch that fails shows the message', async () => {
    current.fake.api.runBatch.mockRejectedValue(
      new DeltascopeError('state/not-ready', 'No model pair is loaded.'),
    );
    render(<LiveCharts ready />);
    await act(async () => fireEvent.click(batchButton()));
    expect(screen.getByRole('alert').textContent).toBe('No model pair is loaded.');
    expect(batchButton().disabled).toBe(false);
  });
});
