import { useCallback, useEffect, useRef, useState } from 'react';
import type { BackendInfo, DevicePreference } from '../backend/index.ts';
import type { LoadProgressMessage, LoadRequest, SourceSpec } from '../worker/workbenchApi.ts';
import { Comlink, workbench } from './workerClient.ts';
import { fmtBytes, fmtDuration } from './format.ts';
import { useEscape } from './useEscape.ts';

const STORAGE_KEY = 'deltascope.lastModelChoice';

type Remembered = { source: Exclude<SourceSpec, { kind: 'files' }>; device: DevicePreference; dtype: string };

function readRemembered(): Remembered {
  const fallback: Remembered = { source: { kind: 'demo' }, device: 'auto', dtype: 'fp32' };
  let choice = fallback;
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (raw !== null) choice = { ...fallback, ...(JSON.parse(raw) as Partial<Remembered>) };
  } catch {
    choice = fallback;
  }
  // ?device=wasm|webgpu|auto overrides the remembered device (handy for sharing and for tests).
  const param = new URLSearchParams(location.search).get('device');
  if (param === 'wasm' || param === 'webgpu' || param === 'auto') choice = { ...choice, device: param };
  return choice;
}

interface Props {
  info: BackendInfo | null;
  onLoaded(info: BackendInfo | null): void;
  /** Starts a fresh worker: the panels remount and load the remembered pair again. */
  onRestart(): void;
}

/** Makes `device` the remembered choice, so the fresh worker after a restart loads with it. */
function rememberDevice(device: DevicePreference): void {
  const { source, dtype } = readRemembered();
  localStorage.setItem(STORAGE_KEY, JSON.stringify({ source, device, dtype } satisfies Remembered));
}

interface ProgressState extends LoadProgressMessage {
  startedAt: number;
  /** When this update arrived; ETA is computed from it, not from a clock read during render. */
  at: number;
}

export function ModelPanel({ info, onLoaded, onRestart }: Props) {
  const [remembered] = useState(readRemembered);
  const [device, setDevice] = useState<DevicePreference>(remembered.device);
  const [dtype, setDtype] = useState(remembered.dtype);
  const [hubBase, setHubBase] = useState(remembered.source.kind === 'hub' ? remembered.source.base : '');
  const [hubFt, setHubFt] = useState(remembered.source.kind === 'hub' ? remembered.source.ft : '');
  const [revision, setRevision] = useState(
    remembered.source.kind === 'hub' ? (remembered.source.revision ?? 'main') : 'main',
  );
  const [host, setHost] = useState(remembered.source.kind === 'hub' ? (remembered.source.host ?? '') : '');
  const [baseFiles, setBaseFiles] = useState<File[]>([]);
  const [ftFiles, setFtFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<ProgressState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deviceLost, setDeviceLost] = useState<string | null>(null);
  const [restarting, setRestarting] = useState(false);

  useEffect(() => {
    let live = true;
    void workbench().watchDevice(
      Comlink.proxy((message: string) => {
        if (live) setDeviceLost(message);
      }),
    );
    return () => {
      live = false;
    };
  }, []);
  const started = useRef(false);

  // Progress callbacks travel on their own message channel and can land after the load's result.
  const loadToken = useRef(0);
  const load = useCallback(
    async (source: SourceSpec) => {
      setError(null);
      setNotice(null);
      const token = ++loadToken.current;
      const startedAt = performance.now();
      setProgress({ phase: 'validating', loaded: 0, total: 0, startedAt, at: startedAt });
      onLoaded(null);
      const req: LoadRequest = { source, device, dtype };
      try {
        const result = await workbench().load(
          req,
          Comlink.proxy((p: LoadProgressMessage) => {
            if (loadToken.current === token) setProgress({ ...p, startedAt, at: performance.now() });
          }),
        );
        if (loadToken.current !== token) return;
        if (source.kind !== 'files') {
          localStorage.setItem(STORAGE_KEY, JSON.stringify({ source, device, dtype } satisfies Remembered));
        }
        onLoaded(result);
      } catch (e) {
        // A newer load superseded this one (and cancelled it in the worker): it reports for itself.
        if (loadToken.current !== token) return;
        if (e instanceof Error && e.name === 'CancelledError') {
          setNotice(`${e.message} No pair is loaded: load the demo pair or open your own.`);
        } else {
          setError(e instanceof Error ? e.message : String(e));
        }
      } finally {
        if (loadToken.current === token) {
          loadToken.current++;
          setProgress(null);
        }
      }
    },
    [device, dtype, onLoaded],
  );

  useEffect(() => {
    // On first open, load what was used last time (the demo pair by default).
    if (started.current) return;
    started.current = true;
    void load(remembered.source);
  }, [load, remembered.source]);

  useEscape(progress !== null, () => void workbench().cancelLoad());
  const fraction = progress && progress.total > 0 ? Math.min(1, progress.loaded / progress.total) : null;
  const elapsed = progress ? (progress.at - progress.startedAt) / 1000 : 0;
  const eta = fraction !== null && fraction > 0.02 ? (elapsed / fraction) * (1 - fraction) : null;

  return (
    <section aria-labelledby="model-heading" className="panel model-panel">
      <div className="panel-title">
        <h2 id="model-heading">Model</h2>
        <span
          className={`badge ${info?.device ?? 'none'}`}
          data-testid="device-badge"
          title={info?.deviceDetail}
        >
          {info === null
            ? progress
              ? 'loading…'
              : 'no model'
            : info.device === 'webgpu'
              ? deviceLost !== null
                ? 'WebGPU · device lost'
                : `WebGPU · ${info.deviceDetail}`
              : info.device === 'wasm'
                ? 'WASM'
                : info.device.toUpperCase()}
        </span>
      </div>
      {info !== null && (
        <dl className="model-info" data-testid="model-info">
          <dt>base</dt>
          <dd>{info.baseModel}</dd>
          <dt>ft</dt>
          <dd>{info.ftModel}</dd>
          <dt>dtype</dt>
          <dd>
            {info.dtype} · vocab {info.vocabSize.toLocaleString()} · batch ≤ {info.maxBatchSize}
          </dd>
        </dl>
      )}
      {progress !== null && (
        <div className="progress" role="status" aria-live="polite">
          <progress
            aria-label="Model loading progress"
            max={1}
            {...(fraction !== null ? { value: fraction } : {})}
          />
          <span>
            {progress.phase}
            {progress.file ? ` ${progress.view}/${progress.file}` : ''}
            {progress.total > 0 ? ` · ${fmtBytes(progress.loaded)} of ${fmtBytes(progress.total)}` : ''}
            {eta !== null ? ` · about ${fmtDuration(eta)} left` : ''}
          </span>
          <button type="button" title="Esc" onClick={() => void workbench().cancelLoad()}>
            Cancel load
          </button>
        </div>
      )}
      {deviceLost !== null && (
        <div className="error device-lost" role="alert" data-testid="device-lost">
          <p>{deviceLost}</p>
          <div className="row">
            {(['webgpu', 'wasm'] as const).map((d) => (
              <button
                key={d}
                type="button"
                disabled={restarting}
                onClick={() => {
                  setRestarting(true);
                  rememberDevice(d);
                  onRestart();
                }}
              >
                Restart on {d === 'webgpu' ? 'WebGPU' : 'WASM'}
              </button>
            ))}
          </div>
        </div>
      )}
      {notice !== null && (
        <p className="notice" role="status" data-testid="load-notice">
          {notice}
        </p>
      )}
      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <details className="model-forms">
        <summary>Open another pair</summary>
        <div className="row">
          <label>
            Device
            <select value={device} onChange={(e) => setDevice(e.target.value as DevicePreference)}>
              <option value="auto">auto (WebGPU, else WASM)</option>
              <option value="webgpu">WebGPU</option>
              <option value="wasm">WASM</option>
            </select>
          </label>
          <label>
            dtype
            <select value={dtype} onChange={(e) => setDtype(e.target.value)}>
              {['fp32', 'fp16', 'q8', 'q4', 'q4f16'].map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => void load({ kind: 'demo' })} disabled={progress !== null}>
            Load demo pair
          </button>
        </div>
        <form
          className="hub-form"
          onSubmit={(e) => {
            e.preventDefault();
            void load({ kind: 'hub', base: hubBase, ft: hubFt, revision, ...(host ? { host } : {}) });
          }}
        >
          <h3>Hub pair</h3>
          <label>
            Base model id
            <input
              value={hubBase}
              onChange={(e) => setHubBase(e.target.value)}
              placeholder="org/base-model"
              required
            />
          </label>
          <label>
            Fine-tuned model id
            <input
              value={hubFt}
              onChange={(e) => setHubFt(e.target.value)}
              placeholder="org/fine-tuned-model"
              required
            />
          </label>
          <label>
            Revision
            <input value={revision} onChange={(e) => setRevision(e.target.value)} />
          </label>
          <label>
            Host (optional mirror)
            <input
              value={host}
              onChange={(e) => setHost(e.target.value)}
              placeholder="https://huggingface.co/"
            />
          </label>
          <button type="submit" disabled={progress !== null}>
            Open hub pair
          </button>
        </form>
        <form
          className="files-form"
          onSubmit={(e) => {
            e.preventDefault();
            void load({
              kind: 'files',
              base: { label: folderName(baseFiles), files: baseFiles },
              ft: { label: folderName(ftFiles), files: ftFiles },
            });
          }}
        >
          <h3>Local folders</h3>
          <label>
            Base folder
            <input
              type="file"
              multiple
              {...({ webkitdirectory: '' } as Record<string, string>)}
              onChange={(e) => setBaseFiles(Array.from(e.target.files ?? []))}
            />
          </label>
          <label>
            Fine-tuned folder
            <input
              type="file"
              multiple
              {...({ webkitdirectory: '' } as Record<string, string>)}
              onChange={(e) => setFtFiles(Array.from(e.target.files ?? []))}
            />
          </label>
          <button
            type="submit"
            disabled={progress !== null || baseFiles.length === 0 || ftFiles.length === 0}
          >
            Open local pair
          </button>
        </form>
      </details>
    </section>
  );
}

function folderName(files: File[]): string {
  const first = files[0] as (File & { webkitRelativePath?: string }) | undefined;
  return first?.webkitRelativePath?.split('/')[0] || first?.name || 'folder';
}
