import { useState } from 'react';
import type { RememberedPair } from '../store/settings.ts';
import type { ModelSource } from '../worker/workbenchApi.ts';
import { pickedAdapterSource, sourceOf } from './modelSources.ts';

interface Props {
  /** A load is in progress: nothing new may start. */
  busy: boolean;
  /** The mirror host of the Model panel (empty: the hub itself); it applies to both repos. */
  host: string;
  /** The pair remembered from last time, to fill the hub fields with. */
  remembered: RememberedPair;
  /** Loads `source`; `remember` is what to reopen next visit (null: picked folders). */
  onLoad(source: ModelSource, remember: RememberedPair | null): void;
}

/**
 * "Base + adapter" sources (runtime LoRA): the demo base with its shipped PEFT adapter, a hub base
 * repo plus a hub adapter repo (each at its own revision), or a picked base folder plus a picked
 * adapter folder. One loaded base serves base, ft, the scaled views and the null adapters.
 */
export function AdapterSourceForms({ busy, host, remembered, onLoad }: Props) {
  const hub = remembered.kind === 'hub-adapter' ? remembered : null;
  const [base, setBase] = useState(hub?.base ?? '');
  const [baseRevision, setBaseRevision] = useState(hub?.baseRevision ?? 'main');
  const [adapter, setAdapter] = useState(hub?.adapter ?? '');
  const [adapterRevision, setAdapterRevision] = useState(hub?.adapterRevision ?? 'main');
  const [baseFiles, setBaseFiles] = useState<File[]>([]);
  const [adapterFiles, setAdapterFiles] = useState<File[]>([]);

  return (
    <fieldset className="adapter-forms" data-testid="adapter-forms">
      <legend>Base + adapter (PEFT LoRA, applied at run time)</legend>
      <p className="hint">
        One base model serves base, ft (λ = 1), the adapter scaled by λ and null adapters; the adapter folder
        holds <code>adapter_config.json</code> and <code>adapter_model.safetensors</code>.
      </p>
      <div className="row">
        <button
          type="button"
          disabled={busy}
          onClick={() => onLoad({ kind: 'demo', adapter: true }, { kind: 'demo', adapter: true })}
        >
          Load demo base + adapter
        </button>
      </div>
      <form
        className="hub-form"
        onSubmit={(e) => {
          e.preventDefault();
          const pair: RememberedPair = {
            kind: 'hub-adapter',
            base: base.trim(),
            baseRevision,
            adapter: adapter.trim(),
            adapterRevision,
            host,
          };
          onLoad(sourceOf(pair), pair);
        }}
      >
        <h3>Hub base + adapter</h3>
        <label>
          Base repo id
          <input
            value={base}
            onChange={(e) => setBase(e.target.value)}
            placeholder="org/base-model"
            required
          />
        </label>
        <label>
          Base repo revision
          <input value={baseRevision} onChange={(e) => setBaseRevision(e.target.value)} />
        </label>
        <label>
          Adapter repo id
          <input
            value={adapter}
            onChange={(e) => setAdapter(e.target.value)}
            placeholder="org/lora-adapter"
            required
          />
        </label>
        <label>
          Adapter repo revision
          <input value={adapterRevision} onChange={(e) => setAdapterRevision(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Open hub base + adapter
        </button>
      </form>
      <form
        className="files-form"
        onSubmit={(e) => {
          e.preventDefault();
          onLoad(pickedAdapterSource(baseFiles, adapterFiles), null);
        }}
      >
        <h3>Local base + adapter folders</h3>
        <label>
          Base model folder
          <input
            type="file"
            multiple
            {...({ webkitdirectory: '' } as Record<string, string>)}
            onChange={(e) => setBaseFiles(Array.from(e.target.files ?? []))}
          />
        </label>
        <label>
          Adapter folder
          <input
            type="file"
            multiple
            {...({ webkitdirectory: '' } as Record<string, string>)}
            onChange={(e) => setAdapterFiles(Array.from(e.target.files ?? []))}
          />
        </label>
        <button type="submit" disabled={busy || baseFiles.length === 0 || adapterFiles.length === 0}>
          Open local base + adapter
        </button>
      </form>
    </fieldset>
  );
}
