// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { CancelledError, DeltascopeError } from '../../src/core/errors.ts';
import { SETTINGS_KEY, defaultSettings, type Settings } from '../../src/store/settings.ts';
import { ModelPanel } from '../../src/ui/ModelPanel.tsx';
import type { LoadProgressMessage, PairInfo } from '../../src/worker/workbenchApi.ts';
import { deferred } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const INFO: PairInfo = {
  pairId: 'demo:deltascope-demo',
  baseModel: 'deltascope-demo/base',
  ftModel: 'deltascope-demo/ft',
  device: 'wasm',
  deviceDetail: 'WASM',
  dtype: 'fp32',
  vocabSize: 512,
  maxBatchSize: 16,
  views: { scalable: false, nullCalibrated: false },
};

function storedSettings(): Settings {
  return JSON.parse(localStorage.getItem(SETTINGS_KEY)!) as Settings;
}

describe('ModelPanel', () => {
  it('loading: opens the demo pair on first open, with progress, bytes and a cancel', async () => {
    const pending = deferred<PairInfo>();
    let onProgress: ((p: LoadProgressMessage) => void) | undefined;
    current.fake.api.load.mockImplementation((_req, cb) => {
      onProgress = cb;
      return pending.promise;
    });
    const onLoaded = vi.fn();
    render(<ModelPanel info={null} onLoaded={onLoaded} onRestart={() => {}} />);
    expect(current.fake.api.load).toHaveBeenCalledWith(
      { source: { kind: 'demo' }, device: 'auto', dtype: 'fp32' },
      expect.any(Function),
    );
    expect(screen.getByTestId('device-badge').textContent).toBe('loading…');
    act(() =>
      onProgress!({ phase: 'downloading', view: 'base', file: 'onnx/model.onnx', loaded: 1024, total: 4096 }),
    );
    const status = screen.getByRole('status');
    expect(status.textContent).toContain('downloading base/onnx/model.onnx · 1.0 KB of 4.0 KB');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel load' }));
    expect(current.fake.api.cancelLoad).toHaveBeenCalled();
    await act(async () => pending.resolve(INFO));
    expect(onLoaded).toHaveBeenLastCalledWith(INFO);
    expect(screen.queryByRole('button', { name: 'Cancel load' })).toBeNull();
    // A late progress message from the finished load changes nothing.
    act(() => onProgress!({ phase: 'ready', loaded: 4096, total: 4096 }));
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('result: the loaded pair is described, and a hub pair opened is remembered for next time', async () => {
    current.fake.api.load.mockResolvedValue(INFO);
    const onLoaded = vi.fn();
    render(<ModelPanel info={INFO} onLoaded={onLoaded} onRestart={() => {}} />);
    await waitFor(() => expect(onLoaded).toHaveBeenLastCalledWith(INFO));
    expect(screen.getByTestId('device-badge').textContent).toBe('WASM');
    expect(screen.getByTestId('model-info').textContent).toContain('deltascope-demo/ft');
    fireEvent.change(screen.getByLabelText('Base model id'), { target: { value: 'org/base' } });
    fireEvent.change(screen.getByLabelText('Fine-tuned model id'), { target: { value: 'org/ft' } });
    fireEvent.change(screen.getByLabelText('Host (optional mirror)'), {
      target: { value: 'http://mirror/' },
    });
    fireEvent.change(screen.getByLabelText('dtype'), { target: { value: 'q8' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Open hub pair' })));
    const hub = (id: string) => ({ kind: 'hub', id, revision: 'main', host: 'http://mirror/' });
    expect(current.fake.api.load).toHaveBeenLastCalledWith(
      { source: { kind: 'pair', base: hub('org/base'), ft: hub('org/ft') }, device: 'auto', dtype: 'q8' },
      expect.any(Function),
    );
    expect(storedSettings().model).toEqual({
      pair: { kind: 'hub', base: 'org/base', ft: 'org/ft', revision: 'main', host: 'http://mirror/' },
      device: 'auto',
      dtype: 'q8',
    });
  });

  it('the remembered pair and device are what the first open loads', () => {
    const s = defaultSettings();
    s.model = {
      pair: { kind: 'hub', base: 'a/b', ft: 'a/c', revision: 'v1', host: '' },
      device: 'wasm',
      dtype: 'q4',
    };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    const hub = (id: string) => ({ kind: 'hub', id, revision: 'v1' });
    expect(current.fake.api.load).toHaveBeenCalledWith(
      { source: { kind: 'pair', base: hub('a/b'), ft: hub('a/c') }, device: 'wasm', dtype: 'q4' },
      expect.any(Function),
    );
  });

  it('cancelled: a cancelled load is a notice, not an error', async () => {
    current.fake.api.load.mockRejectedValue(new CancelledError('The load was cancelled.'));
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    const notice = await screen.findByTestId('load-notice');
    expect(notice.textContent).toBe(
      'The load was cancelled. No pair is loaded: load the demo pair or open your own.',
    );
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('device-badge').textContent).toBe('no model');
  });

  it('error: a failed load shows its message as an alert', async () => {
    current.fake.api.load.mockRejectedValue(
      new DeltascopeError('model-load/missing-file', 'org/ft has no tokenizer.json.', {
        input: 'tokenizer.json',
      }),
    );
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    expect((await screen.findByRole('alert')).textContent).toBe('org/ft has no tokenizer.json.');
    expect(screen.queryByTestId('load-notice')).toBeNull();
  });

  it('device lost: offers a restart on WebGPU or WASM, remembering the device chosen', async () => {
    const onRestart = vi.fn();
    render(<ModelPanel info={{ ...INFO, device: 'webgpu' }} onLoaded={() => {}} onRestart={onRestart} />);
    await waitFor(() => expect(current.fake.api.watchDevice).toHaveBeenCalled());
    act(() => current.fake.loseDevice('The WebGPU device was lost (destroyed).'));
    expect(screen.getByTestId('device-lost').textContent).toContain(
      'The WebGPU device was lost (destroyed).',
    );
    expect(screen.getByTestId('device-badge').textContent).toBe('WebGPU · device lost');
    fireEvent.click(screen.getByRole('button', { name: 'Restart on WASM' }));
    expect(onRestart).toHaveBeenCalledTimes(1);
    expect(storedSettings().model.device).toBe('wasm');
    expect((screen.getByRole('button', { name: 'Restart on WebGPU' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it('device lost during a load (code device/lost) shows the restart too', async () => {
    current.fake.api.load.mockRejectedValue(
      new DeltascopeError('device/lost', 'The WebGPU device was lost.'),
    );
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    expect((await screen.findByTestId('device-lost')).textContent).toContain('The WebGPU device was lost.');
  });
});
