// @vitest-environment jsdom
// The Model panel while a download retries (the line says which file, when, which attempt and why),
// and after a load fails: a network failure offers to try again, a denied repo says what to do.
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { DeltascopeError } from '../../src/core/errors.ts';
import { ModelPanel } from '../../src/ui/ModelPanel.tsx';
import type { LoadProgressMessage, PairInfo } from '../../src/worker/workbenchApi.ts';
import { deferred } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const INFO = {
  pairId: 'demo:deltascope-demo',
  baseModel: 'b',
  ftModel: 'f',
  device: 'wasm',
  deviceDetail: 'WASM',
  dtype: 'fp32',
  vocabSize: 512,
  maxBatchSize: 16,
  views: { scalable: false, nullCalibrated: false },
} satisfies PairInfo;

describe('ModelPanel and download retries', () => {
  it('shows the retry under the bar and clears it with the next progress', async () => {
    const pending = deferred<PairInfo>();
    let onProgress: ((p: LoadProgressMessage) => void) | undefined;
    current.fake.api.load.mockImplementation((_req, cb) => {
      onProgress = cb;
      return pending.promise;
    });
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    const retry = {
      file: 'config.json',
      model: 'hub model org/base@main',
      attempt: 2,
      maxAttempts: 5,
      delayMs: 2000,
      reason: 'the server answered 503 Service Unavailable',
      received: 0,
      total: 0,
    };
    act(() =>
      onProgress!({ phase: 'downloading', view: 'base', file: 'config.json', loaded: 0, total: 0, retry }),
    );
    expect(screen.getByTestId('load-retry').textContent).toBe(
      'retrying config.json in 2 s (attempt 2 of 5): the server answered 503 Service Unavailable',
    );
    act(() =>
      onProgress!({ phase: 'downloading', view: 'base', file: 'config.json', loaded: 10, total: 10 }),
    );
    expect(screen.queryByTestId('load-retry')).toBeNull();
    await act(async () => pending.resolve(INFO));
  });

  it('a network failure offers Try again, which loads the same source again', async () => {
    current.fake.api.load.mockRejectedValueOnce(
      new DeltascopeError(
        'model-load/network',
        'hub model org/base@main: config.json: gave up after 5 attempts',
      ),
    );
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    const again = await screen.findByTestId('load-try-again');
    expect(screen.getByRole('alert').textContent).toContain('gave up after 5 attempts');
    current.fake.api.load.mockResolvedValueOnce(INFO);
    await act(async () => fireEvent.click(again));
    await waitFor(() => expect(current.fake.api.load).toHaveBeenCalledTimes(2));
    expect(current.fake.api.load.mock.calls[1]![0]).toEqual(current.fake.api.load.mock.calls[0]![0]);
    await waitFor(() => expect(screen.queryByTestId('load-try-again')).toBeNull());
  });

  it('a denied repo explains that the page sends no token; other errors get neither', async () => {
    current.fake.api.load.mockRejectedValueOnce(
      new DeltascopeError('model-load/access-denied', 'hub model org/gated@main: 401: gated or private'),
    );
    const { unmount } = render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    expect((await screen.findByTestId('access-denied-hint')).textContent).toContain(
      'cannot send a Hugging Face token',
    );
    expect(screen.queryByTestId('load-try-again')).toBeNull();
    unmount();
    current.fake.api.load.mockRejectedValueOnce(
      new DeltascopeError('model-load/missing-file', 'x is missing'),
    );
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    await screen.findByRole('alert');
    expect(screen.queryByTestId('load-try-again')).toBeNull();
    expect(screen.queryByTestId('access-denied-hint')).toBeNull();
  });
});
