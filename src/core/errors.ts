/**
 * deltascope's one error family. Every error a user can act on is a `DeltascopeError` with a stable
 * `code` (what kind of problem; the UI and the CLI decide by it, never by class name or message
 * text), a user-facing `message` (names the input, the problem and the fix) and the `input` it is
 * about (a file, a spec field, a model). It survives the worker boundary as a plain `ErrorValue`
 * (see `toErrorValue` / `fromErrorValue`), so the page gets the same code the worker threw.
 */
export const ERROR_CODES = [
  /** Work the user cancelled (a load, a batch, a suite): not a failure. */
  'cancelled',
  /** A model folder or repo lacks a file the load needs (`input` names the file). */
  'model-load/missing-file',
  /** A model file exists but is malformed (bad JSON, not a causal LM, unreadable ONNX). */
  'model-load/invalid-file',
  /** The two models cannot be compared (different tokenizers or vocabularies). */
  'model-load/mismatch',
  /** A model source that cannot be opened as given (bad hub id, missing folder, unsupported kind). */
  'model-load/bad-source',
  /** A setting the load cannot honour (unknown dtype, fp16 without shader-f16). */
  'model-load/unsupported',
  /** The runtime failed to open the model (transformers.js / onnxruntime). */
  'model-load/failed',
  /**
   * A model file could not be downloaded: the server kept failing (5xx, 429), the connection broke or
   * stalled, after every retry (`input` names the file; the message the repo, revision and URL).
   */
  'model-load/network',
  /** The server refused a model file (401/403): a gated or private repo, or a refused token. */
  'model-load/access-denied',
  /** The WebGPU device is gone: nothing more runs on this pair; restart the engine. */
  'device/lost',
  /** A suite spec that cannot run (`details` carries every issue with line:column). */
  'spec/invalid',
  /** Bad input to an op (e.g. a completion that adds no tokens). */
  'input/invalid',
  /** An input file could not be read (spec, dlm_source, trace, report). */
  'input/unreadable',
  /** The command line was wrong (CLI). */
  'usage',
  /** The workbench is not in a state to do this (no pair loaded, a batch already running). */
  'state/not-ready',
  /** A backend broke its contract (a bug in a backend). */
  'backend/contract',
  /** A probe cannot compute a meaningful value from its inputs (sway's `ProbeError`). */
  'probe/failed',
  /** Trace storage (IndexedDB) failed: quota, blocked upgrade, unavailable. */
  'storage/failed',
  /** Anything unexpected: a bug. */
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The form an error takes across a worker boundary or in a JSON file: structured-cloneable. */
export interface ErrorValue {
  code: ErrorCode;
  message: string;
  /** The input the error is about: a file, a spec field path, a model label. */
  input?: string;
  /** Structured data for the UI (e.g. a spec's issues); must be structured-cloneable. */
  details?: unknown;
}

export interface ErrorOptions {
  input?: string | undefined;
  details?: unknown;
  cause?: unknown;
}

export class DeltascopeError extends Error {
  override name = 'DeltascopeError';
  readonly input: string | undefined;
  readonly details: unknown;
  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: ErrorOptions = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.input = opts.input;
    this.details = opts.details;
  }

  toValue(): ErrorValue {
    return {
      code: this.code,
      message: this.message,
      ...(this.input !== undefined ? { input: this.input } : {}),
      ...(this.details !== undefined ? { details: this.details } : {}),
    };
  }
}

const isCode = (c: unknown): c is ErrorCode => (ERROR_CODES as readonly unknown[]).includes(c);

/** Any thrown value as an `ErrorValue`; what is not a `DeltascopeError` is `internal`. */
export function toErrorValue(e: unknown): ErrorValue {
  if (e instanceof DeltascopeError) return e.toValue();
  if (e instanceof Error) return { code: 'internal', message: e.message || e.name };
  return { code: 'internal', message: String(e) };
}

/** Rebuilds the error on the other side of a boundary; unknown codes become `internal`. */
export function fromErrorValue(v: ErrorValue): DeltascopeError {
  const code = isCode(v.code) ? v.code : 'internal';
  return new DeltascopeError(code, String(v.message), { input: v.input, details: v.details });
}

/** The error's code: `DeltascopeError`s carry one, anything else is `internal`. */
export function errorCode(e: unknown): ErrorCode {
  return e instanceof DeltascopeError ? e.code : 'internal';
}

/** The message to show for any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A named error class with a fixed code: `instanceof` works for code that owns the error, and the
 * code is what crosses boundaries. Each family below is one line.
 */
export function errorClass<C extends ErrorCode>(name: string, code: C) {
  return class extends DeltascopeError {
    override name = name;
    declare readonly code: C;
    constructor(message: string, opts?: ErrorOptions) {
      super(code, message, opts);
    }
  };
}

/**
 * A backend broke its contract (e.g. a batch compute returned the wrong number of values). The
 * message names the op and view, says what was expected, and that the fault lies in the backend.
 */
export const BackendError = errorClass('BackendError', 'backend/contract');
export type BackendError = InstanceType<typeof BackendError>;

/** A probe cannot compute a meaningful value from its inputs (sway's `ProbeError`). */
export const ProbeError = errorClass('ProbeError', 'probe/failed');
export type ProbeError = InstanceType<typeof ProbeError>;

/** Work the user cancelled (a model load, a batch). Not a failure: the UI says so and moves on. */
export const CancelledError = errorClass('CancelledError', 'cancelled');
export type CancelledError = InstanceType<typeof CancelledError>;

/** The workbench cannot do this now (no pair loaded yet, a batch already running). */
export const StateError = errorClass('StateError', 'state/not-ready');
export type StateError = InstanceType<typeof StateError>;

/** Throws `CancelledError(message)` when `signal` has been aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted) throw new CancelledError(message);
}
