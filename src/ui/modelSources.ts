import type { RememberedPair } from '../store/settings.ts';
import type { ModelLocation, ModelSource } from '../worker/workbenchApi.ts';

const hubLocation = (id: string, revision: string, host: string): ModelLocation => ({
  kind: 'hub',
  id,
  revision: revision || 'main',
  ...(host ? { host } : {}),
});

/**
 * The remembered pair as `openPair`'s source. A hub pair's two sides share revision and host; a hub
 * base + adapter has a revision per repo and one host; the adapter's base is the pair's base.
 */
export function sourceOf(pair: RememberedPair): ModelSource {
  switch (pair.kind) {
    case 'demo':
      return pair.adapter === true ? { kind: 'demo', adapter: true } : { kind: 'demo' };
    case 'hub':
      return {
        kind: 'pair',
        base: hubLocation(pair.base, pair.revision, pair.host),
        ft: hubLocation(pair.ft, pair.revision, pair.host),
      };
    case 'hub-adapter': {
      const base = hubLocation(pair.base, pair.baseRevision, pair.host);
      return {
        kind: 'pair',
        base,
        ft: { kind: 'adapter', base, adapter: hubLocation(pair.adapter, pair.adapterRevision, pair.host) },
      };
    }
  }
}

/** Picked folders as a base + adapter source (one set of base files serves both sides). */
export function pickedAdapterSource(baseFiles: File[], adapterFiles: File[]): ModelSource {
  const base: ModelLocation = { kind: 'files', label: folderName(baseFiles), files: baseFiles };
  return {
    kind: 'pair',
    base,
    ft: {
      kind: 'adapter',
      base,
      adapter: { kind: 'files', label: folderName(adapterFiles), files: adapterFiles },
    },
  };
}

/** The folder a folder picker's files came from (their `webkitRelativePath`'s first part). */
export function folderName(files: File[]): string {
  const first = files[0] as (File & { webkitRelativePath?: string }) | undefined;
  return first?.webkitRelativePath?.split('/')[0] || first?.name || 'folder';
}
