// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { TraceEvent } from '../../src/core/index.ts';
import { RunMetricsTracker, runMetricsOf } from '../../src/core/runMetrics.ts';
import { RunMetricsTable } from '../../src/ui/RunMetricsView.tsx';
import { TracesPanel } from '../../src/ui/TracesPanel.tsx';
import type { RunMetricsResult } from '../../src/worker/workbenchApi.ts';
import { run } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

vi.mock('../../src/ui/download.ts', () => ({ download: vi.fn() }));

const ev = (
  i: number,
  over: Partial<TraceEvent> & { batch_size?: number; tokens?: number } = {},
): TraceEvent =>
  ({
    ts: 1000 + i,
    probe: null,
    view_id: 'base',
    prompt_hash: 'h',
    top_k: 8,
    op: 'next_token_dist',
    wall_ms: 2 + i,
    hit: false,
    ...over,
  }) as TraceEvent;

const cell = (testId: string) => screen.getByTestId(testId);

describe('RunMetricsTable', () => {
  it('shows ops × p50/p95/p99 and the run numbers with their units', () => {
    const t = new RunMetricsTracker();
    t.addAll([
      ev(0, { wall_ms: 10, batch_size: 2, tokens: 5 }),
      ev(0, { wall_ms: 10, batch_size: 2, tokens: 5 }),
      ev(1, { hit: true, wall_ms: 0 }),
      ev(2, { op: 'logprob_of', wall_ms: 4 }),
    ]);
    t.note({ loadMs: 1500, heapBytes: 3 * 1024 * 1024, gpuBytes: 2048 });
    render(<RunMetricsTable m={t.snapshot()} origin="stored" />);
    const rows = within(cell('metrics-ops')).getAllByTestId('metrics-op-row');
    expect(rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent))).toEqual([
      ['logprob_of', '1', '4.00 ms', '4.00 ms', '4.00 ms'],
      ['next_token_dist', '1', '20 ms', '20 ms', '20 ms'],
    ]);
    expect(cell('metrics-hit-rate').textContent).toBe('25.0%');
    expect(cell('metrics-peak-batch').textContent).toBe('2');
    expect(cell('metrics-load').textContent).toBe('1.50 s');
    expect(cell('metrics-heap').textContent).toBe('3.0 MB');
    expect(cell('metrics-gpu').textContent).toBe('2.0 KB');
    // 10 tokens over the batch's 20 ms of forward time.
    expect(cell('metrics-tokens-per-s').textContent).toBe('500 tokens/s');
    expect(cell('metrics-prompts-per-s').textContent).toMatch(/^\d+(\.\d+)? prompts\/s$/);
  });

  it('no sample: every unknown reads "—" and says why; no NaN anywhere', () => {
    render(<RunMetricsTable m={new RunMetricsTracker().snapshot()} origin="stored" />);
    for (const id of [
      'metrics-prompts-per-s',
      'metrics-tokens-per-s',
      'metrics-hit-rate',
      'metrics-peak-batch',
    ]) {
      expect(cell(id).textContent).toBe('—');
      expect(cell(id).getAttribute('title')).toBeTruthy();
    }
    expect(cell('metrics-gpu').textContent).toBe('—');
    expect(cell('metrics-ops').textContent).toContain('no forward pass yet');
    expect(screen.getByTestId('run-metrics').textContent).not.toMatch(/NaN|Infinity/);
  });

  it('percentiles from the reservoir are marked ≈ with the rank error', () => {
    const m = runMetricsOf(
      Array.from({ length: 50 }, (_, i) => ev(i)),
      { reservoirSize: 8 },
    );
    render(<RunMetricsTable m={m} origin="computed" />);
    const [row] = within(cell('metrics-ops')).getAllByTestId('metrics-op-row');
    const p95 = row!.querySelectorAll('td')[3]!;
    expect(p95.textContent).toMatch(/^≈/);
    expect(p95.getAttribute('title')).toMatch(/reservoir of 8 of 50 samples: rank within ±\d/);
    expect(screen.getByTestId('run-metrics').getAttribute('data-origin')).toBe('computed');
  });
});

describe('TracesPanel with run metrics', () => {
  it('shows the selected run metrics and downloads the metrics history', async () => {
    const metrics = runMetricsOf([ev(0, { wall_ms: 7 })]);
    const runMetrics = vi.fn(async (runId: string): Promise<RunMetricsResult> => ({
      runId,
      metrics,
      origin: 'stored',
    }));
    const history = new Blob(['{"schema":"deltascope.metrics_history","version":1,"runs":[]}']);
    const exportMetricsHistory = vi.fn(async () => history);
    Object.assign(current.fake.api, { runMetrics, exportMetricsHistory });
    current.fake.api.listRuns.mockResolvedValue([run('r1', 4)]);
    current.fake.api.runAnalysis.mockResolvedValue({
      events: 0,
    } as Awaited<ReturnType<typeof current.fake.api.runAnalysis>>);
    render(<TracesPanel ready />);
    await waitFor(() => expect(runMetrics).toHaveBeenCalledWith('r1'));
    const row = await screen.findByTestId('metrics-op-row');
    expect(row.textContent).toContain('7.00 ms');
    const button = screen.getByRole('button', { name: 'Download metrics history' }) as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    const { download } = await import('../../src/ui/download.ts');
    await waitFor(() => expect(download).toHaveBeenCalled());
    const [blob, name] = vi.mocked(download).mock.calls[0]!;
    expect(blob).toBe(history);
    expect(name).toMatch(/^deltascope-metrics-.*\.json$/);
  });

  it('with no stored run the history download is disabled', async () => {
    render(<TracesPanel ready />);
    expect(await screen.findByText(/No runs stored yet/)).toBeTruthy();
    expect(
      (screen.getByRole('button', { name: 'Download metrics history' }) as HTMLButtonElement).disabled,
    ).toBe(true);
  });
});
