import type { BackendInstrumentation, RollingLogprob, TokenDist } from '../core/index.ts';

export type ViewId = 'base' | 'ft';

export interface NextTokenOptions {
  /** How many tokens to keep (default 256, sway's `top_k`). */
  topK?: number;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) decodes greedily. */
  temperature?: number;
  topP?: number;
  /** Seeds sampling when temperature > 0; greedy decoding ignores it. */
  seed?: number;
}

/** One view of the model pair: the contract's scoring ops plus generation. */
export interface ScoringView {
  readonly id: string;
  nextTokenDist(prompt: string, opts?: NextTokenOptions): Promise<TokenDist>;
  nextTokenDistBatch(prompts: readonly string[], opts?: NextTokenOptions): Promise<TokenDist[]>;
  /** Sum of the completion tokens' log-probabilities (nats); the prompt is not scored. */
  logprobOf(prompt: string, completion: string): Promise<number>;
  logprobOfBatch(pairs: readonly (readonly [prompt: string, completion: string])[]): Promise<number[]>;
  rollingLogprob(text: string): Promise<RollingLogprob>;
  rollingLogprobBatch(texts: readonly string[]): Promise<RollingLogprob[]>;
  /** Never cached, never traced (as sway). */
  generate(prompt: string, opts: GenerateOptions): Promise<string>;
  /** The tokenizer's view of a text, for display (token strings, ids). */
  tokenize(text: string): Promise<{ ids: number[]; tokens: string[] }>;
  /**
   * About `tokens` tokens of content-free filler from the tokenizer's own pad / unk / EOS token
   * (sway's tokenizer-derived stuffing), ending in a blank line; null when the runtime has no
   * tokenizer to derive it from. Optional: a view without it gets the English filler.
   */
  padStuffing?(tokens: number): Promise<string | null>;
  /** Display strings for token ids. */
  tokenStrings(ids: readonly number[]): Promise<string[]>;
}

export type DeviceKind = 'webgpu' | 'wasm' | 'cpu' | 'fake';

/** Which model of a pair a file belongs to. */
export type ModelRole = 'base' | 'ft' | 'adapter';

/** A model file read at load (an ONNX graph, its external data, an adapter file) and its SHA-256. */
export interface ModelFileHash {
  role: ModelRole;
  /** The path inside its repo or folder, e.g. `onnx/model.onnx` or `adapter_model.safetensors`. */
  path: string;
  bytes: number;
  /** Lowercase hex, over the exact bytes read. */
  sha256: string;
}

/** One model as the user named it: a hub id with its revision, else the folder's or URL's label. */
export interface ModelIdentity {
  id: string;
  /** The hub revision asked for; null for folders, URLs and picked files. */
  revision: string | null;
  /**
   * The commit the hub resolved that revision to (its `X-Repo-Commit` header), where a download of
   * this load saw one; absent otherwise (folders, files served from a cache).
   */
  commit?: string;
}

/** The models a pair was opened from, for a report's provenance. */
export interface PairModels {
  base: ModelIdentity;
  /** The fine-tuned model of two full models; null for base + adapter. */
  ft: ModelIdentity | null;
  /** The PEFT adapter of base + adapter (`name`: its repo's or folder's last segment); else null. */
  adapter: (ModelIdentity & { name: string }) | null;
}

export interface BackendInfo {
  /** What was loaded, e.g. `demo:deltascope-demo` or `hub:org/base@main`. With dtype and device, the cache identity. */
  pairId: string;
  baseModel: string;
  ftModel: string;
  device: DeviceKind;
  /** The GPU adapter's description (WebGPU), or a short note for other devices. */
  deviceDetail: string;
  dtype: string;
  vocabSize: number;
  maxBatchSize: number;
  /** The model's context window in tokens (from its config); null or absent when unknown. */
  contextTokens?: number | null;
  /** The models as opened (ids, revisions); absent for the fake. */
  models?: PairModels;
  /** Every ONNX file, external-data file and adapter file read at load, with its SHA-256. */
  files?: ModelFileHash[];
}

/** A base/ft pair behind one instrumentation (cache + stats + trace). */
export interface DifferentialBackend {
  readonly base: ScoringView;
  readonly ft: ScoringView;
  readonly instrumentation: BackendInstrumentation;
  readonly info: BackendInfo;
  view(id: ViewId): ScoringView;
  dispose(): Promise<void>;
}
