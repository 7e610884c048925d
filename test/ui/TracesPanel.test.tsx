// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { analyzeTrace, type TraceEvent } from '../../src/core/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { TracesPanel } from '../../src/ui/TracesPanel.tsx';
import type { TraceAnalysis } from '../../src/worker/workbenchApi.ts';
import { deferred, run } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

function analysisOf(n: number): TraceAnalysis {
  const events: TraceEvent[] = Array.from({ length: n }, (_, i) => ({
    ts: 1_700_000_000 + i,
    probe: null,
    view_id: i % 2 === 0 ? 'base' : 'ft',
    prompt_hash: '0123456789ab',
    top_k: 10,
    op: 'next_token_dist',
    wall_ms: 2,
    hit: i >= 2,
  }));
  return analyzeTrace(events);
}

const panel = () => screen.getByTestId('traces-panel');
const button = (name: string) => within(panel()).getByRole('button', { name }) as HTMLButtonElement;

describe('TracesPanel', () => {
  it('empty: with no stored run it says how to record one, and nothing can be downloaded', async () => {
    render(<TracesPanel ready />);
    expect(await screen.findByText(/No runs stored yet/)).toBeTruthy();
    expect(button('Download JSONL').disabled).toBe(true);
    expect(button('Download Perfetto trace').disabled).toBe(true);
    expect(screen.getByTestId('storage-used').textContent).toBe('storage used 2.0 KB of 1.0 MB');
  });

  it('a run without events (a load just started) is not listed; the last run with events stays selected', async () => {
    current.fake.api.listRuns.mockResolvedValue([run('new', 0), run('old', 6)]);
    current.fake.api.runAnalysis.mockResolvedValue(analysisOf(6));
    render(<TracesPanel ready />);
    await waitFor(() => expect(screen.getAllByTestId('run-row')).toHaveLength(1));
    expect(screen.getByTestId('run-row').getAttribute('data-run-id')).toBe('old');
    expect(screen.getByTestId('run-detail').getAttribute('data-run-id')).toBe('old');
    expect(button('Download JSONL').disabled).toBe(false);
    fireEvent.click(button('Download JSONL'));
    await waitFor(() => expect(current.fake.api.exportJsonl).toHaveBeenCalledWith('old'));
  });

  it('only an empty run: the list reads as empty and the downloads are disabled', async () => {
    current.fake.api.listRuns.mockResolvedValue([run('new', 0)]);
    render(<TracesPanel ready />);
    expect(await screen.findByText(/No runs stored yet/)).toBeTruthy();
    expect(screen.queryByTestId('run-detail')).toBeNull();
    expect(button('Download JSONL').disabled).toBe(true);
  });

  it('loading: the selected run says "Analysing…" until its analysis arrives, then shows it', async () => {
    const pending = deferred<TraceAnalysis>();
    current.fake.api.listRuns.mockResolvedValue([run('r1', 4)]);
    current.fake.api.runAnalysis.mockReturnValue(pending.promise);
    render(<TracesPanel ready />);
    expect(await screen.findByText('Analysing…')).toBeTruthy();
    expect(within(screen.getByTestId('run-detail')).queryByTestId('analysis')).toBeNull();
    await waitFor(() => expect(current.fake.api.runAnalysis).toHaveBeenCalledWith('r1'));
    expect(screen.getByText('Analysing…')).toBeTruthy();
    await act(async () => pending.resolve(analysisOf(4)));
    const detail = screen.getByTestId('run-detail');
    expect((await within(detail).findByTestId('analysis-events')).textContent).toBe('4');
    expect(within(detail).getByTestId('analysis-hit-rate').textContent).toBe('50.0%');
    expect(screen.queryByText('Analysing…')).toBeNull();
  });

  it('error: an analysis that fails for a run still stored shows the message', async () => {
    current.fake.api.listRuns.mockResolvedValue([run('r1', 4)]);
    current.fake.api.runAnalysis.mockRejectedValue(
      new DeltascopeError('storage/failed', 'Reading the trace store failed: disk error.'),
    );
    render(<TracesPanel ready />);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Reading the trace store failed: disk error.');
    expect(screen.queryByText('Analysing…')).toBeNull();
  });

  it('error: a list that cannot be read shows the message', async () => {
    current.fake.api.listRuns.mockRejectedValue(
      new DeltascopeError('storage/failed', 'Could not open the trace store in IndexedDB.'),
    );
    render(<TracesPanel ready />);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not open the trace store in IndexedDB.',
    );
  });

  it('result: an import is selected and reported with its skipped lines', async () => {
    current.fake.api.listRuns.mockResolvedValue([run('r1', 4)]);
    current.fake.api.runAnalysis.mockResolvedValue(analysisOf(4));
    current.fake.api.importJsonl.mockImplementation(async () => {
      current.fake.api.listRuns.mockResolvedValue([
        run('imp', 3, { label: 'x.jsonl', source: 'import' }),
        run('r1', 4),
      ]);
      return { runId: 'imp', label: 'x.jsonl', imported: 3, skipped: 1, skippedLines: [2] };
    });
    render(<TracesPanel ready />);
    await within(await screen.findByTestId('run-detail')).findByTestId('analysis');
    const file = new File(['{}'], 'x.jsonl');
    await act(async () =>
      fireEvent.change(screen.getByTestId('import-input'), { target: { files: [file] } }),
    );
    expect(screen.getByTestId('import-notice').textContent).toBe(
      'Imported 3 events from x.jsonl; skipped 1 malformed line (line 2).',
    );
    await waitFor(() => expect(screen.getByTestId('run-detail').getAttribute('data-run-id')).toBe('imp'));
    expect(screen.getByRole('button', { pressed: true }).textContent).toContain('x.jsonl');
  });

  it('unsubscribes from the worker feed on unmount', async () => {
    const { unmount } = render(<TracesPanel ready />);
    await screen.findByText(/No runs stored yet/);
    expect(current.fake.api.subscribe).toHaveBeenCalledTimes(1);
    unmount();
    await waitFor(() => expect(current.fake.unsubscribed).toBe(1));
  });
});
