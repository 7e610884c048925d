// @vitest-environment jsdom
// The storage notice: persistent storage asked once; a full disk named with the events held and
// dropped; the button deletes the oldest half of the older runs (never the current one), then saves.
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunRecord } from '../../src/store/traceDb.ts';
import { StorageNotice } from '../../src/ui/StorageNotice.tsx';
import type { TraceStatus } from '../../src/worker/workbenchApi.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const status = (over: Partial<TraceStatus> = {}): TraceStatus => ({
  pending: 0,
  written: 10,
  dropped: 0,
  flushes: 1,
  lastError: null,
  currentRunId: 'now',
  ...over,
});
const FULL =
  'Saving trace events failed: browser storage is full (QuotaExceededError). Delete old runs in the Traces panel or free disk space; unsaved events are kept and retried.';
const run = (id: string, startedAt: number) => ({ id, startedAt }) as RunRecord;

function stubStorage(persisted: boolean, grant: boolean) {
  const storage = { persisted: vi.fn(async () => persisted), persist: vi.fn(async () => grant) };
  Object.defineProperty(navigator, 'storage', { value: storage, configurable: true });
  return storage;
}

afterEach(() => {
  Reflect.deleteProperty(navigator, 'storage');
});

describe('StorageNotice', () => {
  it('asks for persistent storage once and says whether it was granted', async () => {
    const storage = stubStorage(false, true);
    current.fake.api.traceStatus.mockResolvedValue(status());
    render(<StorageNotice ready />);
    expect((await screen.findByTestId('storage-persisted')).textContent).toContain('is persistent');
    expect(storage.persist).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId('storage-full')).toBeNull();
  });

  it('a full disk: the events held and dropped; the button deletes the oldest older runs, then saves', async () => {
    stubStorage(false, false);
    current.fake.api.traceStatus.mockResolvedValue(status({ lastError: FULL, pending: 1234, dropped: 5 }));
    current.fake.api.listRuns.mockResolvedValue([
      run('now', 50),
      run('r3', 30),
      run('r1', 10),
      run('r4', 40),
      run('r2', 20),
    ]);
    current.fake.api.deleteRun.mockResolvedValue(100);
    render(<StorageNotice ready />);
    expect((await screen.findByTestId('storage-persisted')).textContent).toContain('not persistent');
    const alert = await screen.findByTestId('storage-full');
    expect(alert.textContent).toContain('1,234 trace events are held in memory');
    expect(alert.textContent).toContain('5 of the oldest were dropped');
    current.fake.api.traceStatus.mockResolvedValue(status());
    await act(async () =>
      fireEvent.click(screen.getByRole('button', { name: 'Delete the oldest runs and save' })),
    );
    expect(current.fake.api.deleteRun.mock.calls.map((c) => (c as unknown[])[0])).toEqual(['r1', 'r2']);
    expect(current.fake.api.flushTraces).toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByTestId('storage-full')).toBeNull());
    expect(screen.getByTestId('storage-freed').textContent).toBe(
      'Deleted 2 old runs (200 events). Held events saved.',
    );
  });
});
