/**
 * What a load records for a report's provenance: the models as named (`pairModels`) and the
 * SHA-256 of every model file it reads: the ONNX graphs, their
 * external data (`.onnx_data`, `.onnx_data_<n>`) and the adapter's files. Files are hashed as their
 * bytes stream past (a tee on the body: `hashedBody`, `hashingModelFiles`, and `download` for what
 * transformers.js fetches), never read twice and never held whole for the hash. What a load never
 * streams — in Node, files onnxruntime-node opens by path; a hub file served from a cache — is hashed
 * where it lies afterwards (`hashFilesAtRest`).
 */
import { isNodeWithoutDom } from './device.ts';
import { Sha256 } from '../core/sha256.ts';
import type { ModelFiles } from './modelFiles.ts';
import { hubRoot, type ModelRef } from './modelSource.ts';
import type { ModelFileHash, ModelIdentity, ModelRole, PairModels } from './types.ts';

export interface Hasher {
  update(chunk: Uint8Array): unknown;
  digestHex(): string;
}

interface NodeHash {
  update(chunk: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

/**
 * A SHA-256 hasher: node:crypto's where the runtime has it (several times faster than any
 * JavaScript one), else deltascope's own (`core/sha256.ts`; browsers have no streaming digest).
 */
export function newSha256(): Hasher {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = proc?.getBuiltinModule?.('node:crypto') as
    { createHash?: (algorithm: string) => NodeHash } | undefined;
  if (crypto?.createHash === undefined) return new Sha256();
  const h = crypto.createHash('sha256');
  return { update: (chunk) => h.update(chunk), digestHex: () => h.digest('hex') };
}

const PROVENANCE_FILE =
  /(?:^|\/)(?:[^/]+\.onnx(?:_data(?:_\d+)?)?|adapter_model\.safetensors|adapter_config\.json)$/;

/** `/onnx/model.onnx` and `./onnx/model.onnx` → `onnx/model.onnx`. */
export function normalizeModelPath(path: string): string {
  return path.replace(/^(?:\.?\/)+/, '');
}

/** Whether a report hashes this file: an ONNX graph, its external data, or an adapter file. */
export function isProvenanceFile(path: string): boolean {
  return PROVENANCE_FILE.test(normalizeModelPath(path));
}

/** Where the bytes of one file go as they pass; `finish` records the hash, `abandon` forgets it. */
export interface HashSink {
  update(chunk: Uint8Array): void;
  finish(): void;
  abandon(): void;
}

const ROLE_ORDER: Record<ModelRole, number> = { base: 0, ft: 1, adapter: 2 };

/**
 * The hashes of one load. Models are known by their `ModelFiles` label (a download names its model
 * by it too); `watch` says which role each plays. A file is hashed once: while one reader hashes
 * it, another reader of the same file (an HTTP folder's `download` under a hashing wrapper) gets
 * no sink.
 */
export class FileHashRecorder {
  private readonly roles = new Map<string, ModelRole[]>();
  private readonly done = new Map<string, ModelFileHash>();
  private readonly inFlight = new Set<string>();
  /** Model label → the commit its hub revision resolved to (a download's `X-Repo-Commit`). */
  private readonly commits = new Map<string, string>();

  constructor(private readonly hasher: () => Hasher = newSha256) {}

  /**
   * A download of the model labelled `label`, from `url`, was answered from `commit`. Only a file of
   * the revision the model was opened at counts (transformers.js also probes files at `main`); the
   * first one seen stays.
   */
  noteCommit(label: string, commit: string, url: string): void {
    if (!/^[0-9a-f]{40,64}$/i.test(commit) || this.commits.has(label)) return;
    const revision = HUB_LABEL.exec(label)?.[2];
    if (revision !== undefined) {
      const path = decodeURIComponent(new URL(url, 'http://x/').pathname);
      if (!path.includes(`/resolve/${revision}/`)) return;
    }
    this.commits.set(label, commit);
  }

  /** The commit a download of the model labelled `label` named, if any. */
  commitOf(label: string): string | undefined {
    return this.commits.get(label);
  }

  /** Files of the model labelled `label` are recorded under `role`. */
  watch(label: string, role: ModelRole): void {
    const roles = this.roles.get(label) ?? [];
    if (!roles.includes(role)) roles.push(role);
    this.roles.set(label, roles);
  }

  has(role: ModelRole, path: string): boolean {
    return this.done.has(`${role}\0${normalizeModelPath(path)}`);
  }

  record(role: ModelRole, path: string, bytes: number, sha256: string): void {
    const p = normalizeModelPath(path);
    this.done.set(`${role}\0${p}`, { role, path: p, bytes, sha256 });
  }

  /**
   * A sink for `path` of the model labelled `label` as it is read, or undefined: not a file a
   * report hashes, not a watched model, already hashed, or being hashed by another reader.
   */
  sink(label: string, path: string): HashSink | undefined {
    const p = normalizeModelPath(path);
    if (!isProvenanceFile(p)) return undefined;
    const roles = (this.roles.get(label) ?? []).filter((r) => !this.has(r, p));
    const key = `${label}\0${p}`;
    if (roles.length === 0 || this.inFlight.has(key)) return undefined;
    this.inFlight.add(key);
    const h = this.hasher();
    let bytes = 0;
    let open = true;
    return {
      update: (chunk) => {
        if (!open) return;
        h.update(chunk);
        bytes += chunk.byteLength;
      },
      finish: () => {
        if (!open) return;
        open = false;
        this.inFlight.delete(key);
        const sha256 = h.digestHex();
        for (const r of roles) this.record(r, p, bytes, sha256);
      },
      abandon: () => {
        if (!open) return;
        open = false;
        this.inFlight.delete(key);
      },
    };
  }

  /** Every file hashed, base's first, then ft's, then the adapter's, each by path. */
  files(): ModelFileHash[] {
    return [...this.done.values()].sort(
      (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
  }

  /** A new hasher (for a file hashed where it lies). */
  newHasher(): Hasher {
    return this.hasher();
  }
}

/**
 * `body` passing its chunks through `sink` as the consumer reads them: `finish` at its end,
 * `abandon` if it breaks or is cancelled. No chunk is copied.
 */
export function hashedStream(body: ReadableStream<Uint8Array>, sink: HashSink): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        sink.abandon();
        controller.error(e);
        return;
      }
      if (r.done) {
        sink.finish();
        controller.close();
        return;
      }
      sink.update(r.value);
      controller.enqueue(r.value);
    },
    cancel(reason) {
      sink.abandon();
      return reader.cancel(reason);
    },
  });
}

/** `res` with its body hashed into `sink` as it is read (as it is when there is nothing to hash). */
export function hashedBody(res: Response, sink: HashSink | undefined): Response {
  if (sink === undefined) return res;
  if (res.body === null || !res.ok) {
    sink.abandon();
    return res;
  }
  return new Response(hashedStream(res.body, sink), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

/** `files` with every GET of a file a report hashes teed into `hashes` (under `files.label`). */
export function hashingModelFiles(files: ModelFiles, hashes: FileHashRecorder): ModelFiles {
  return {
    label: files.label,
    async fetch(path, init) {
      const sink = init?.method === 'HEAD' ? undefined : hashes.sink(files.label, path);
      try {
        return hashedBody(await files.fetch(path, init), sink);
      } catch (e) {
        sink?.abandon();
        throw e;
      }
    },
  };
}

/** Reads `body` to its end through a fresh hasher: its size and SHA-256. */
export async function hashWholeStream(
  body: ReadableStream<Uint8Array>,
  hasher: Hasher = newSha256(),
): Promise<{ bytes: number; sha256: string }> {
  const reader = body.getReader();
  let bytes = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    hasher.update(r.value);
    bytes += r.value.byteLength;
  }
  return { bytes, sha256: hasher.digestHex() };
}

/** Where transformers.js keeps what it downloaded: its file-system cache (Node), Cache Storage's key. */
export interface RuntimeCaches {
  cacheDir: string | null;
  cacheKey: string;
}

/**
 * Hashes the files of `read` (what transformers.js read for the model `ref`, in the role `role`) that
 * no stream hashed, where they lie: in Node a folder's file by its path, a hub file in the
 * file-system cache; in the browser a hub file in Cache Storage. A file found nowhere stays unhashed.
 */
export async function hashFilesAtRest(
  ref: ModelRef,
  role: ModelRole,
  read: readonly string[],
  hashes: FileHashRecorder,
  caches: RuntimeCaches,
): Promise<void> {
  for (const raw of read) {
    const path = normalizeModelPath(raw);
    if (!isProvenanceFile(path) || hashes.has(role, path)) continue;
    const got = await hashAtRest(ref, path, hashes, caches).catch(() => null);
    if (got !== null) hashes.record(role, path, got.bytes, got.sha256);
  }
}

async function hashAtRest(
  ref: ModelRef,
  path: string,
  hashes: FileHashRecorder,
  runtime: RuntimeCaches,
): Promise<{ bytes: number; sha256: string } | null> {
  if (isNodeWithoutDom()) {
    const { hashFileOnDisk } = await import('./nodeModelFiles.ts');
    if (ref.localDir !== undefined) return hashFileOnDisk(ref.localDir, path);
    if (ref.hub !== undefined && runtime.cacheDir !== null) {
      // transformers.js's FileCache key: <id>/<file> at main, <id>/<revision>/<file> otherwise.
      const { id, revision } = ref.hub;
      const parts = revision === 'main' ? [id, path] : [id, revision, path];
      return hashFileOnDisk(runtime.cacheDir, ...parts);
    }
    return null;
  }
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (ref.hub === undefined || storage === undefined) return null;
  const res = await (await storage.open(runtime.cacheKey)).match(`${hubRoot(ref.hub)}${path}`);
  if (res?.body == null) return null;
  return hashWholeStream(res.body, hashes.newHasher());
}

const HUB_LABEL = /^hub model (.+)@([^@]+)$/;

/** A model as the user named it: a hub repo's id and revision, else its folder's or URL's label. */
export function modelIdentity(files: ModelFiles, hub?: { id: string; revision: string }): ModelIdentity {
  if (hub !== undefined) return { id: hub.id, revision: hub.revision };
  const m = HUB_LABEL.exec(files.label);
  if (m) return { id: m[1]!, revision: m[2]! };
  return { id: files.label, revision: null };
}

/** An adapter's short name: the last segment of its repo id or folder path (`org/lora` → `lora`). */
export function adapterName(id: string): string {
  const path = id.replace(/^(?:picked )?folder /, '').replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1) || id;
}

/** `identity` with the commit the load's downloads named for `files`, where they named one. */
function withCommit(identity: ModelIdentity, files: ModelFiles, hashes?: FileHashRecorder): ModelIdentity {
  const commit = hashes?.commitOf(files.label);
  return commit !== undefined ? { ...identity, commit } : identity;
}

/** The models of a pair of two full models (with the commits the load saw, given its recorder). */
export function fullPairModels(base: ModelRef, ft: ModelRef, hashes?: FileHashRecorder): PairModels {
  return {
    base: withCommit(modelIdentity(base.files, base.hub), base.files, hashes),
    ft: withCommit(modelIdentity(ft.files, ft.hub), ft.files, hashes),
    adapter: null,
  };
}

/** The models of a base + adapter (with the commits the load saw, given its recorder). */
export function adapterPairModels(
  base: ModelRef,
  adapter: ModelFiles,
  hashes?: FileHashRecorder,
): PairModels {
  const a = withCommit(modelIdentity(adapter), adapter, hashes);
  return {
    base: withCommit(modelIdentity(base.files, base.hub), base.files, hashes),
    ft: null,
    adapter: { ...a, name: adapterName(a.id) },
  };
}
