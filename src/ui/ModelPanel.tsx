import { useCallback, useEffect, useRef, useState } from 'react';
import { describeRetry } from '../backend/download.ts';
import { errorCode, errorMessage } from '../core/errors.ts';
import { DEVICES, DTYPES, type DeviceSetting, type Dtype, type RememberedPair } from '../store/settings.ts';
import type { LoadProgressMessage, LoadRequest, ModelSource, PairInfo } from '../worker/workbenchApi.ts';
import { AdapterSourceForms } from './AdapterSourceForms.tsx';
import { breakerFields } from './breakerConfig.ts';
import { etaText } from './eta.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { fmtBytes } from './format.ts';
import { folderName, sourceOf } from './modelSources.ts';
import { useEscape } from './useEscape.ts';
import { getSettings, updateSettings } from './useSettings.ts';
import { useStaleGuard } from './useStaleGuard.ts';
import { useDeviceLoss } from './useWorkerListener.ts';
import { Comlink, workbench } from './workerClient.ts';

/** ?device=wasm|webgpu|auto overrides the remembered device (handy for sharing and for tests). */
function deviceFromUrl(): DeviceSetting | null {
  const param = new URLSearchParams(location.search).get('device');
  return (DEVICES as readonly (string | null)[]).includes(param) ? (param as DeviceSetting) : null;
}

interface Props {
  info: PairInfo | null;
  onLoaded(info: PairInfo | null): void;
  /** Starts a fresh worker: the panels remount and load the remembered pair again. */
  onRestart(): void;
}

interface ProgressState extends LoadProgressMessage {
  startedAt: number;
  /** When this update arrived; ETA is computed from it, not from a clock read during render. */
  at: number;
}

export function ModelPanel({ info, onLoaded, onRestart }: Props) {
  // Read once per mount: the remembered pair is what this mount opens first.
  const [remembered] = useState(() => getSettings().model);
  const hub = remembered.pair.kind === 'hub' ? remembered.pair : null;
  const hubHost = remembered.pair.kind === 'demo' ? '' : remembered.pair.host;
  const [device, setDevice] = useState<DeviceSetting>(() => deviceFromUrl() ?? remembered.device);
  const [dtype, setDtype] = useState<Dtype>(remembered.dtype);
  const [hubBase, setHubBase] = useState(hub?.base ?? '');
  const [hubFt, setHubFt] = useState(hub?.ft ?? '');
  const [revision, setRevision] = useState(hub?.revision ?? 'main');
  const [host, setHost] = useState(hubHost);
  const [baseFiles, setBaseFiles] = useState<File[]>([]);
  const [ftFiles, setFtFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<ProgressState | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The failed load's error code: a network failure offers to try again, a denied repo says why. */
  const [failedCode, setFailedCode] = useState<string | null>(null);
  const lastLoad = useRef<{ source: ModelSource; remember: RememberedPair | null } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deviceLost, setDeviceLost] = useState<string | null>(null);
  const [restarting, setRestarting] = useState(false);
  useDeviceLoss(setDeviceLost);
  const started = useRef(false);
  const newTicket = useStaleGuard();

  /** Loads `source`; `remember` is what to reopen next visit (null: picked folders, not reopenable). */
  const load = useCallback(
    async (source: ModelSource, remember: RememberedPair | null) => {
      lastLoad.current = { source, remember };
      setError(null);
      setFailedCode(null);
      setNotice(null);
      const ticket = newTicket();
      const startedAt = performance.now();
      setProgress({ phase: 'validating', loaded: 0, total: 0, startedAt, at: startedAt });
      onLoaded(null);
      const req: LoadRequest = { source, device, dtype, ...breakerFields() };
      try {
        const result = await workbench().load(
          req,
          Comlink.proxy((p: LoadProgressMessage) => {
            if (ticket.current) setProgress({ ...p, startedAt, at: performance.now() });
          }),
        );
        if (!ticket.current) return;
        if (remember !== null) updateSettings('model', { pair: remember, device, dtype });
        onLoaded(result);
      } catch (e) {
        // A newer load superseded this one (and cancelled it in the worker): it reports for itself.
        if (!ticket.current) return;
        const code = errorCode(e);
        if (code === 'cancelled') {
          setNotice(`${errorMessage(e)} No pair is loaded: load the demo pair or open your own.`);
        } else if (code === 'device/lost') {
          setDeviceLost(errorMessage(e));
        } else {
          setError(errorMessage(e));
          setFailedCode(code);
        }
      } finally {
        if (ticket.end()) setProgress(null);
      }
    },
    [device, dtype, onLoaded, newTicket],
  );

  useEffect(() => {
    // On first open, load what was used last time (the demo pair by default).
    if (started.current) return;
    started.current = true;
    void load(sourceOf(remembered.pair), remembered.pair);
  }, [load, remembered.pair]);

  useEscape(progress !== null, () => void workbench().cancelLoad());
  const fraction = progress && progress.total > 0 ? Math.min(1, progress.loaded / progress.total) : null;

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
          {(info.views.scalable || info.views.nullCalibrated) && (
            <>
              <dt>views</dt>
              <dd data-testid="pair-views">
                base · ft
                {info.views.scalable ? ' · scaled_<λ>' : ''}
                {info.views.nullCalibrated ? ' · null_<seed>' : ''} (runtime LoRA)
              </dd>
            </>
          )}
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
            {etaText(fraction, progress.startedAt, progress.at)}
          </span>
          {progress.retry !== undefined && (
            <span className="retry" data-testid="load-retry">
              {describeRetry(progress.retry)}: {progress.retry.reason}
            </span>
          )}
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
                  // The fresh worker loads the remembered pair with this device.
                  updateSettings('model', { device: d });
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
      <ErrorAlert message={error} />
      {error !== null && failedCode === 'model-load/network' && (
        <button
          type="button"
          data-testid="load-try-again"
          onClick={() => {
            const last = lastLoad.current;
            if (last !== null) void load(last.source, last.remember);
          }}
        >
          Try again
        </button>
      )}
      {error !== null && failedCode === 'model-load/access-denied' && (
        <p className="notice" data-testid="access-denied-hint">
          The page cannot send a Hugging Face token. Download the repository with an account that has access
          and open its folders here (Open another pair → local folders), or serve it from a mirror you
          control.
        </p>
      )}
      <details className="model-forms">
        <summary>Open another pair</summary>
        <div className="row">
          <label>
            Device
            <select value={device} onChange={(e) => setDevice(e.target.value as DeviceSetting)}>
              <option value="auto">auto (WebGPU, else WASM)</option>
              <option value="webgpu">WebGPU</option>
              <option value="wasm">WASM</option>
            </select>
          </label>
          <label>
            dtype
            <select value={dtype} onChange={(e) => setDtype(e.target.value as Dtype)}>
              {DTYPES.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </label>
          <label>
            Host (optional mirror)
            <input
              value={host}
              onChange={(e) => setHost(e.target.value)}
              placeholder="https://huggingface.co/"
            />
          </label>
          <button
            type="button"
            onClick={() => void load({ kind: 'demo' }, { kind: 'demo' })}
            disabled={progress !== null}
          >
            Load demo pair
          </button>
        </div>
        <form
          className="hub-form"
          onSubmit={(e) => {
            e.preventDefault();
            const pair: RememberedPair = { kind: 'hub', base: hubBase, ft: hubFt, revision, host };
            void load(sourceOf(pair), pair);
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
          <button type="submit" disabled={progress !== null}>
            Open hub pair
          </button>
        </form>
        <form
          className="files-form"
          onSubmit={(e) => {
            e.preventDefault();
            void load(
              {
                kind: 'pair',
                base: { kind: 'files', label: folderName(baseFiles), files: baseFiles },
                ft: { kind: 'files', label: folderName(ftFiles), files: ftFiles },
              },
              null,
            );
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
        <AdapterSourceForms
          busy={progress !== null}
          host={host}
          remembered={remembered.pair}
          onLoad={(source, remember) => void load(source, remember)}
        />
      </details>
    </section>
  );
}
