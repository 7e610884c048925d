// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ModelLoadError } from '../../src/backend/errors.ts';
import { SETTINGS_KEY, defaultSettings, type Settings } from '../../src/store/settings.ts';
import { ModelPanel } from '../../src/ui/ModelPanel.tsx';
import type { PairInfo } from '../../src/worker/workbenchApi.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const INFO: PairInfo = {
  pairId: 'demo:deltascope-demo+adapter',
  baseModel: 'demo model base',
  ftModel: 'demo model base + demo adapter',
  device: 'wasm',
  deviceDetail: 'WASM',
  dtype: 'fp32',
  vocabSize: 512,
  maxBatchSize: 16,
  views: { scalable: true, nullCalibrated: true },
};

const stored = () => (JSON.parse(localStorage.getItem(SETTINGS_KEY)!) as Settings).model.pair;
const lastSource = () => current.fake.api.load.mock.lastCall![0].source;

function file(path: string): File {
  const f = new File(['x'], path.split('/').pop()!);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

describe('ModelPanel: base + adapter sources', () => {
  it('the demo base + adapter opens as one source, is remembered, and its views are listed', async () => {
    current.fake.api.load.mockResolvedValue(INFO);
    const onLoaded = vi.fn();
    const { rerender } = render(<ModelPanel info={null} onLoaded={onLoaded} onRestart={() => {}} />);
    await waitFor(() => expect(onLoaded).toHaveBeenCalled());
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Load demo base + adapter' })));
    expect(lastSource()).toEqual({ kind: 'demo', adapter: true });
    expect(stored()).toEqual({ kind: 'demo', adapter: true });
    rerender(<ModelPanel info={INFO} onLoaded={onLoaded} onRestart={() => {}} />);
    expect(screen.getByTestId('pair-views').textContent).toBe(
      'base · ft · scaled_<λ> · null_<seed> (runtime LoRA)',
    );
  });

  it('a remembered demo adapter is what the next visit opens', () => {
    const s = defaultSettings();
    s.model.pair = { kind: 'demo', adapter: true };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    expect(lastSource()).toEqual({ kind: 'demo', adapter: true });
  });

  it('hub base + adapter: each repo at its own revision, the shared host applies to both; remembered', async () => {
    current.fake.api.load.mockResolvedValue(INFO);
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    const open = screen.getByRole('button', { name: 'Open hub base + adapter' }) as HTMLButtonElement;
    await waitFor(() => expect(open.disabled).toBe(false));
    fireEvent.change(screen.getByLabelText('Base repo id'), { target: { value: 'org/base' } });
    fireEvent.change(screen.getByLabelText('Base repo revision'), { target: { value: 'v1' } });
    fireEvent.change(screen.getByLabelText('Adapter repo id'), { target: { value: ' org/lora ' } });
    fireEvent.change(screen.getByLabelText('Adapter repo revision'), { target: { value: 'r2' } });
    fireEvent.change(screen.getByLabelText('Host (optional mirror)'), {
      target: { value: 'http://mirror/' },
    });
    await act(async () => fireEvent.click(open));
    const base = { kind: 'hub', id: 'org/base', revision: 'v1', host: 'http://mirror/' };
    expect(lastSource()).toEqual({
      kind: 'pair',
      base,
      ft: {
        kind: 'adapter',
        base,
        adapter: { kind: 'hub', id: 'org/lora', revision: 'r2', host: 'http://mirror/' },
      },
    });
    expect(stored()).toEqual({
      kind: 'hub-adapter',
      base: 'org/base',
      baseRevision: 'v1',
      adapter: 'org/lora',
      adapterRevision: 'r2',
      host: 'http://mirror/',
    });
  });

  it('a remembered hub base + adapter reopens, and fills the form and the host', () => {
    const s = defaultSettings();
    s.model.pair = {
      kind: 'hub-adapter',
      base: 'a/b',
      baseRevision: 'main',
      adapter: 'a/lora',
      adapterRevision: 'v3',
      host: '',
    };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    const base = { kind: 'hub', id: 'a/b', revision: 'main' };
    expect(lastSource()).toEqual({
      kind: 'pair',
      base,
      ft: { kind: 'adapter', base, adapter: { kind: 'hub', id: 'a/lora', revision: 'v3' } },
    });
    expect((screen.getByLabelText('Adapter repo id') as HTMLInputElement).value).toBe('a/lora');
    expect((screen.getByLabelText('Adapter repo revision') as HTMLInputElement).value).toBe('v3');
  });

  it('picked folders: one set of base files on both sides plus the adapter folder; not remembered', async () => {
    current.fake.api.load.mockResolvedValue(INFO);
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    await waitFor(() => expect(current.fake.api.load).toHaveBeenCalledTimes(1));
    const open = screen.getByRole('button', { name: 'Open local base + adapter' }) as HTMLButtonElement;
    expect(open.disabled).toBe(true);
    const baseFiles = [file('mybase/config.json'), file('mybase/onnx/model.onnx')];
    const adapterFiles = [file('mylora/adapter_config.json'), file('mylora/adapter_model.safetensors')];
    fireEvent.change(screen.getByLabelText('Base model folder'), { target: { files: baseFiles } });
    fireEvent.change(screen.getByLabelText('Adapter folder'), { target: { files: adapterFiles } });
    await act(async () => fireEvent.click(open));
    const base = { kind: 'files', label: 'mybase', files: baseFiles };
    expect(lastSource()).toEqual({
      kind: 'pair',
      base,
      ft: { kind: 'adapter', base, adapter: { kind: 'files', label: 'mylora', files: adapterFiles } },
    });
    // Picked files cannot be reopened next visit: the remembered pair is still the demo's.
    expect(stored()).toEqual({ kind: 'demo' });
  });

  it('error: the backend’s message (naming the file or field) shows as an alert', async () => {
    current.fake.api.load.mockResolvedValueOnce(INFO).mockRejectedValueOnce(
      new ModelLoadError('model-load/missing-file', 'demo adapter is missing adapter_config.json.', {
        input: 'adapter_config.json',
      }),
    );
    render(<ModelPanel info={null} onLoaded={() => {}} onRestart={() => {}} />);
    await waitFor(() => expect(current.fake.api.load).toHaveBeenCalledTimes(1));
    // The first load must have finished: while it runs the button is disabled and a click does nothing.
    const button = screen.getByRole('button', { name: 'Load demo base + adapter' }) as HTMLButtonElement;
    await waitFor(() => expect(button.disabled).toBe(false));
    await act(async () => fireEvent.click(button));
    expect(current.fake.api.load).toHaveBeenCalledTimes(2);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'demo adapter is missing adapter_config.json.',
    );
    expect(stored()).toEqual({ kind: 'demo' });
  });
});
