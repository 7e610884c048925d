/**
 * What produced a report: the models (ids, revisions, the SHA-256 of every model file read), dtype,
 * device, adapter, deltascope's version, the spec and its hash, the seed and the date. Kept in the
 * JSON report under `provenance` (snake_case, like the rest of it) so the HTML report, `compare` and
 * `merge` can say what each run was. Reports from before it existed have none.
 */
import type { BackendInfo } from '../backend/types.ts';
import { sha256Hex } from '../core/sha256.ts';

/** One model file that was read, and its SHA-256 (lowercase hex) over the exact bytes read. */
export interface ProvenanceFile {
  /** Which model it belongs to. */
  role: 'base' | 'ft' | 'adapter';
  /** The path inside its repo or folder, e.g. `onnx/model.onnx` or `adapter_model.safetensors`. */
  path: string;
  bytes: number;
  sha256: string;
}

/** One model as it was opened. */
export interface ProvenanceModel {
  /** Hub id, folder label or URL, as the user named it. */
  id: string;
  /** The revision asked for (hub), else null. */
  revision: string | null;
  /** The commit the hub resolved the revision to (`X-Repo-Commit`), where the load downloaded from it. */
  commit?: string;
}

export interface Provenance {
  deltascope_version: string;
  /** The loaded pair's identity (`BackendInfo.pairId`, e.g. `demo:deltascope-demo`); null where unknown. */
  pair_id?: string | null;
  /** When the report was made (ISO 8601). */
  created_at: string;
  base: ProvenanceModel;
  /** The fine-tuned model for a pair of two full models, else null. */
  ft: ProvenanceModel | null;
  /** The adapter for base + adapter, else null. */
  adapter: (ProvenanceModel & { name: string }) | null;
  dtype: string | null;
  /** `webgpu`, `wasm` or `cpu` — where the numbers were computed. */
  device: string | null;
  /** The ONNX and adapter files read, each with its hash. Empty where they were not hashed. */
  files: ProvenanceFile[];
  spec_path: string;
  /** SHA-256 of the spec's text as read, or null where the spec was built in code. */
  spec_sha256: string | null;
  seed: number;
}

const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function modelFromJson(v: unknown): ProvenanceModel | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = rec(v);
  return {
    id: str(r.id),
    revision: strOrNull(r.revision),
    ...(typeof r.commit === 'string' ? { commit: r.commit } : {}),
  };
}

function fileFromJson(v: unknown): ProvenanceFile | null {
  const r = rec(v);
  const role = r.role;
  if (role !== 'base' && role !== 'ft' && role !== 'adapter') return null;
  if (typeof r.path !== 'string' || typeof r.sha256 !== 'string') return null;
  return {
    role,
    path: r.path,
    bytes: typeof r.bytes === 'number' && Number.isFinite(r.bytes) ? r.bytes : 0,
    sha256: r.sha256,
  };
}

/** Reads `provenance` back from a JSON report; undefined where there is none (older reports, sway's). */
export function provenanceFromJson(value: unknown): Provenance | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = rec(value);
  const adapter = modelFromJson(r.adapter);
  return {
    deltascope_version: str(r.deltascope_version),
    pair_id: strOrNull(r.pair_id),
    created_at: str(r.created_at),
    base: modelFromJson(r.base) ?? { id: '', revision: null },
    ft: modelFromJson(r.ft),
    adapter: adapter === null ? null : { ...adapter, name: str(rec(r.adapter).name) },
    dtype: strOrNull(r.dtype),
    device: strOrNull(r.device),
    files: Array.isArray(r.files)
      ? r.files.map(fileFromJson).filter((f): f is ProvenanceFile => f !== null)
      : [],
    spec_path: str(r.spec_path),
    spec_sha256: strOrNull(r.spec_sha256),
    seed: typeof r.seed === 'number' && Number.isFinite(r.seed) ? r.seed : 0,
  };
}

/** What `buildProvenance` reads: the pair's info, the spec as given, the seed, the time, the version. */
export interface ProvenanceInput {
  info: BackendInfo;
  /** The spec's path as the user gave it (`workbench` for the Suite panel's editor). */
  specPath: string;
  /** The spec's text as read (hashed); null where the spec was built in code. */
  specText: string | null;
  seed: number;
  /** Epoch milliseconds. */
  createdAt: number;
  version: string;
}

/** A model label as the report's id when the backend did not say more (the fake, older backends). */
const labelOnly = (label: string): ProvenanceModel => ({ id: label, revision: null });

/**
 * The provenance of a run on `info`'s pair: the one function the CLI and the workbench go through
 * (via `runSuite`). The models and file hashes come from the load (`BackendInfo.models`, `.files`).
 */
export function buildProvenance(input: ProvenanceInput): Provenance {
  const { info } = input;
  const models = info.models;
  return {
    deltascope_version: input.version,
    pair_id: info.pairId || null,
    created_at: new Date(input.createdAt).toISOString(),
    base: models?.base ?? labelOnly(info.baseModel),
    ft: models !== undefined ? models.ft : labelOnly(info.ftModel),
    adapter: models?.adapter ?? null,
    dtype: info.dtype || null,
    device: info.device || null,
    files: (info.files ?? []).map((f) => ({ role: f.role, path: f.path, bytes: f.bytes, sha256: f.sha256 })),
    spec_path: input.specPath,
    spec_sha256: input.specText === null ? null : sha256Hex(input.specText),
    seed: input.seed,
  };
}
