import { httpModelFiles, pickedModelFiles } from './modelFiles.ts';
import type { PairRef } from './transformersBackend.ts';

export const DEMO_PAIR_PATH = 'models/deltascope-demo';
export const DEFAULT_HUB_HOST = 'https://huggingface.co/';

/** The bundled demo pair, served as static files under `appBaseUrl` (the app's own origin). */
export function demoPair(appBaseUrl: string): PairRef {
  const root = new URL(`${DEMO_PAIR_PATH}/`, appBaseUrl).href;
  return {
    pairId: 'demo:deltascope-demo',
    base: { files: httpModelFiles('demo model base', `${root}base/`) },
    ft: { files: httpModelFiles('demo model ft', `${root}ft/`) },
  };
}

export interface HubPairSpec {
  base: string;
  ft: string;
  revision?: string;
  /** A hub mirror or a local server in the hub's URL layout (`/<repo>/resolve/<revision>/<file>`). */
  host?: string;
}

const REPO_ID = /^[\w.-]+(\/[\w.-]+)?$/;

export function hubPair(spec: HubPairSpec): PairRef {
  const host = (spec.host ?? DEFAULT_HUB_HOST).replace(/\/*$/, '/');
  const revision = spec.revision?.trim() || 'main';
  const ref = (id: string) => {
    const clean = id.trim();
    if (!REPO_ID.test(clean)) {
      throw new Error(`"${id}" is not a hub model id; expected "org/name" (letters, digits, '-', '_', '.').`);
    }
    return {
      files: httpModelFiles(
        `hub model ${clean}@${revision}`,
        `${host}${clean}/resolve/${encodeURIComponent(revision)}/`,
      ),
      hub: { id: clean, revision, host },
    };
  };
  return {
    pairId: `hub:${host}|${spec.base.trim()}|${spec.ft.trim()}@${revision}`,
    base: ref(spec.base),
    ft: ref(spec.ft),
  };
}

/** Two static model folders by URL (e.g. another same-origin path). */
export function urlPair(baseUrl: string, ftUrl: string): PairRef {
  return {
    pairId: `url:${baseUrl}|${ftUrl}`,
    base: { files: httpModelFiles(`folder ${baseUrl}`, baseUrl) },
    ft: { files: httpModelFiles(`folder ${ftUrl}`, ftUrl) },
  };
}

/** Folders the user picked; the identity includes names and sizes so a re-pick of other files is a new pair. */
export function pickedPair(
  base: { label: string; files: ReadonlyMap<string, Blob> },
  ft: { label: string; files: ReadonlyMap<string, Blob> },
): PairRef {
  const sig = (m: ReadonlyMap<string, Blob>) =>
    [...m.entries()]
      .map(([k, b]) => `${k}:${b.size}`)
      .sort()
      .join(',');
  return {
    pairId: `files:${base.label}[${sig(base.files)}]|${ft.label}[${sig(ft.files)}]`,
    base: { files: pickedModelFiles(`picked folder ${base.label}`, base.files) },
    ft: { files: pickedModelFiles(`picked folder ${ft.label}`, ft.files) },
  };
}
