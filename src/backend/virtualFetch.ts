import { env } from '@huggingface/transformers';
import { boundDownloadOptions, download, type DownloadTarget } from './download.ts';
import { notFound, type ModelFiles } from './modelFiles.ts';

/**
 * transformers.js fetches every model file through `env.fetch`. Models that are not on a hub (the
 * demo folder, picked files, folders, custom files) are mounted under a virtual host and served from
 * their `ModelFiles` (which retry by themselves when they are HTTP); everything else (hub repos and
 * mirrors) goes to the original fetch through `download`: retries, stall timeout, whole bodies, and
 * errors naming the file and the model registered for the URL (`watchRemote`). Each mount has a fresh
 * name, so neither transformers.js's memoised metadata nor any cache can serve one model's file for
 * another, and a mount is removed when its model is disposed (or its load fails).
 */
export const VIRTUAL_HOST = 'https://models.deltascope.invalid/';

const mounts = new Map<string, ModelFiles>();
let mountCounter = 0;
let installed = false;
/** The signal of the load in progress (loads run one at a time): every fetch of that load carries it. */
let activeSignal: AbortSignal | undefined;

export interface Mount {
  /** The model id to hand transformers.js (with `remoteHost = VIRTUAL_HOST`). */
  id: string;
  unmount(): void;
}

export function mountModelFiles(files: ModelFiles, hint: string): Mount {
  installVirtualFetch();
  const id = `m${++mountCounter}-${hint}`;
  mounts.set(id, files);
  return { id, unmount: () => void mounts.delete(id) };
}

/** How many mounts are live (tests check that disposed models forget theirs). */
export function mountCount(): number {
  return mounts.size;
}

/** URL prefix → the label of the model served under it (for download errors and retry progress). */
const remotes = new Map<string, string>();

/**
 * Names the model under `root` (a hub repo's `<host>/<repo>/resolve/<revision>/`) in transformers.js's
 * downloads until the returned function is called.
 */
export function watchRemote(root: string, label: string): () => void {
  installVirtualFetch();
  remotes.set(root, label);
  return () => {
    if (remotes.get(root) === label) remotes.delete(root);
  };
}

/** The file and model a remote URL stands for: a registered root, else the hub layout, else the URL. */
export function remoteTarget(url: string): DownloadTarget {
  const clean = url.split('?')[0]!;
  for (const [root, model] of remotes) {
    if (clean.startsWith(root)) return { file: decodeURIComponent(clean.slice(root.length)), model, url };
  }
  const hub = /^(https?:\/\/[^/]+\/)(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(clean);
  if (hub) {
    const revision = decodeURIComponent(hub[3]!);
    return { file: decodeURIComponent(hub[4]!), model: `hub model ${hub[2]}@${revision}`, url };
  }
  const file = clean.slice(clean.lastIndexOf('/') + 1);
  return { file: decodeURIComponent(file), model: clean.slice(0, clean.lastIndexOf('/') + 1), url };
}

/** Ties every fetch to `signal` until the returned function is called. */
export function bindFetchSignal(signal: AbortSignal | undefined): () => void {
  installVirtualFetch();
  activeSignal = signal;
  return () => {
    if (activeSignal === signal) activeSignal = undefined;
  };
}

function withActiveSignal(init: RequestInit | undefined): RequestInit | undefined {
  if (activeSignal === undefined) return init;
  const signal = init?.signal ? AbortSignal.any([init.signal, activeSignal]) : activeSignal;
  return { ...init, signal };
}

function signalOf(init: RequestInit | undefined): { signal?: AbortSignal } {
  return init?.signal ? { signal: init.signal } : {};
}

function installVirtualFetch(): void {
  if (installed) return;
  installed = true;
  const original = env.fetch;
  env.fetch = async (input: string | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input.href;
    init = withActiveSignal(init);
    if (!url.startsWith(VIRTUAL_HOST)) {
      if (!/^https?:/i.test(url)) return original(input, init);
      const opts = boundDownloadOptions();
      const signal = init?.signal ?? opts.signal;
      return download((u, i) => original(u, i), remoteTarget(url), init ?? {}, {
        ...opts,
        ...(signal ? { signal } : {}),
      });
    }
    const rest = url.slice(VIRTUAL_HOST.length);
    const slash = rest.indexOf('/');
    const files = mounts.get(rest.slice(0, slash));
    const path = decodeURIComponent(rest.slice(slash + 1).split('?')[0]!);
    if (files === undefined) return notFound(path);
    const range = new Headers(init?.headers).get('Range');
    if (range !== null) {
      // transformers.js probes file sizes with `Range: bytes=0-0`; answer from a HEAD, not the body.
      const head = await files.fetch(path, { method: 'HEAD', ...signalOf(init) });
      if (!head.ok) return head;
      const size = head.headers.get('Content-Length') ?? '*';
      return new Response(new Uint8Array(1), {
        status: 206,
        headers: { 'Content-Range': `bytes 0-0/${size}`, 'Content-Length': '1' },
      });
    }
    return files.fetch(path, { method: init?.method === 'HEAD' ? 'HEAD' : 'GET', ...signalOf(init) });
  };
}
