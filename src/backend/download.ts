/**
 * Every model file deltascope downloads over HTTP goes through `download`: our own reads
 * (`httpModelFiles`: hub, mirror, static folder, the demo in the browser, adapter files) and
 * transformers.js's (`env.fetch`, see virtualFetch.ts). It retries what may pass (network errors,
 * 408, 429 honouring `Retry-After`, 5xx) with exponential backoff and full jitter (`core/retry.ts`),
 * never 401/403/404; aborts an attempt that sends no bytes for `stallTimeoutMs`; and hands on a body
 * that is whole or an error, never a short one: a body that breaks or ends before its
 * `Content-Length` is picked up where it stopped (`Range`; a server that answers 200 instead is read
 * again from the start, the bytes already passed on skipped), so the consumer's progress goes on.
 * A model file a report hashes is hashed as its bytes pass on (`DownloadOptions.hashes`).
 * Each failure it gives up on is a `ModelLoadError` naming the file, the model (repo and revision)
 * and the URL.
 */
import { CancelledError, DeltascopeError } from '../core/errors.ts';
import {
  AttemptTimeoutError,
  DEFAULT_RETRY_POLICY,
  HttpStatusError,
  RetryExhaustedError,
  formatDelay,
  httpRetryable,
  parseRetryAfter,
  resolveRetryPolicy,
  retry,
  systemClock,
  type RetryClock,
  type RetryNotice,
  type RetryPolicy,
} from '../core/retry.ts';
import { ModelLoadError } from './errors.ts';
import type { FileHashRecorder, HashSink } from './loadProvenance.ts';

export interface DownloadPolicy extends RetryPolicy {
  /** An attempt that receives no bytes (headers or body) for this long is aborted and retried. */
  stallTimeoutMs: number;
}

/**
 * Model files are big and hubs are busy: five attempts, 0.5 s → 1 → 2 → 4 s ceilings (full jitter,
 * 30 s cap), a stall after 30 s without a byte, and a generous 30 min per attempt (a body cut off by
 * it resumes where it stopped).
 */
export const DEFAULT_DOWNLOAD_POLICY: DownloadPolicy = {
  ...DEFAULT_RETRY_POLICY,
  attemptTimeoutMs: 30 * 60_000,
  stallTimeoutMs: 30_000,
};

/** The environment variables a Node process (the CLI) sets the policy with, by field. */
export const DOWNLOAD_POLICY_ENV: Record<keyof DownloadPolicy, string> = {
  maxAttempts: 'DELTASCOPE_DOWNLOAD_ATTEMPTS',
  baseDelayMs: 'DELTASCOPE_DOWNLOAD_BASE_DELAY_MS',
  factor: 'DELTASCOPE_DOWNLOAD_FACTOR',
  maxDelayMs: 'DELTASCOPE_DOWNLOAD_MAX_DELAY_MS',
  attemptTimeoutMs: 'DELTASCOPE_DOWNLOAD_ATTEMPT_TIMEOUT_MS',
  maxRetryAfterMs: 'DELTASCOPE_DOWNLOAD_MAX_RETRY_AFTER_MS',
  stallTimeoutMs: 'DELTASCOPE_DOWNLOAD_STALL_TIMEOUT_MS',
};

/** The policy fields `env` sets; a value that is not a number is an `input/invalid` error naming it. */
export function downloadPolicyFromEnv(
  env: Readonly<Record<string, string | undefined>> | undefined,
): Partial<DownloadPolicy> {
  const out: Partial<DownloadPolicy> = {};
  if (env === undefined) return out;
  for (const [field, name] of Object.entries(DOWNLOAD_POLICY_ENV) as [keyof DownloadPolicy, string][]) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      throw new DeltascopeError('input/invalid', `${name}=${raw} is not a number ≥ 0.`, { input: name });
    }
    out[field] = value;
  }
  return out;
}

/** Every field set and checked (stall timeout included). */
export function resolveDownloadPolicy(overrides: Partial<DownloadPolicy> = {}): DownloadPolicy {
  const base = resolveRetryPolicy(overrides, DEFAULT_DOWNLOAD_POLICY);
  const stall = overrides.stallTimeoutMs ?? DEFAULT_DOWNLOAD_POLICY.stallTimeoutMs;
  if (!(stall >= 0)) {
    throw new DeltascopeError('input/invalid', `Retry policy: stallTimeoutMs must be ≥ 0, got ${stall}.`, {
      input: 'stallTimeoutMs',
    });
  }
  return { ...base, stallTimeoutMs: stall };
}

/** A retry about to happen, as the load progress reports it. */
export interface DownloadRetry {
  /** The file inside the model folder (`config.json`, `onnx/model.onnx`). */
  file: string;
  /** The model's label: `hub model org/name@revision`, `folder …`. */
  model: string;
  /** The attempt that starts after the delay (2 for the first retry). */
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  /** Why the last attempt failed: "the server answered 503 Service Unavailable". */
  reason: string;
  /** Bytes of the file already passed on (kept across the retry) and its size (0: unknown). */
  received: number;
  total: number;
}

/** "retrying config.json in 2 s (attempt 2 of 5)". */
export function describeRetry(
  r: Pick<DownloadRetry, 'file' | 'delayMs' | 'attempt' | 'maxAttempts'>,
): string {
  return `retrying ${r.file} in ${formatDelay(r.delayMs)} (attempt ${r.attempt} of ${r.maxAttempts})`;
}

export interface DownloadOptions {
  policy?: Partial<DownloadPolicy>;
  /** Cancels at once (a wait, a request or a body in flight) with a `CancelledError`. */
  signal?: AbortSignal;
  cancelledMessage?: string;
  onRetry?: (r: DownloadRetry) => void;
  clock?: RetryClock;
  random?: () => number;
  /**
   * Where the load in progress records file hashes: a whole GET body of a file a report hashes
   * (`isProvenanceFile`) of a watched model is hashed as it passes on, resumed parts included.
   */
  hashes?: FileHashRecorder;
}

/** What is being downloaded, for messages. */
export interface DownloadTarget {
  file: string;
  model: string;
  url: string;
}

export type FetchFn = (url: string, init?: RequestInit) => Promise<Response>;

/** No bytes arrived for the stall timeout. */
export class StallError extends Error {
  override name = 'StallError';
  constructor(readonly timeoutMs: number) {
    super(`no bytes for ${formatDelay(timeoutMs)}`);
  }
}

/** The body ended (or broke) before its `Content-Length`. */
export class TruncatedBodyError extends Error {
  override name = 'TruncatedBodyError';
  constructor(
    readonly received: number,
    readonly expected: number,
    readonly why?: unknown,
  ) {
    super(
      `the body ended after ${received} of ${expected} bytes` +
        (why !== undefined ? `: ${describeFailure(why)}` : ''),
    );
  }
}

let bound: DownloadOptions | undefined;

/**
 * Sets the options every download takes until the returned function is called (a load binds its
 * signal, policy and progress here: loads run one at a time, and transformers.js's `env.fetch` has
 * no other way in).
 */
export function bindDownloads(opts: DownloadOptions): () => void {
  const mine = opts;
  bound = mine;
  return () => {
    if (bound === mine) bound = undefined;
  };
}

/** The options bound by the load in progress, if any. */
export function boundDownloadOptions(): DownloadOptions {
  return bound ?? {};
}

const HF_HOSTS = new Set(['huggingface.co', 'hf.co']);

/**
 * The hub token for `url`, as transformers.js sends it: `HF_TOKEN` (or `HF_ACCESS_TOKEN`) from the
 * environment, in Node only, to huggingface.co / hf.co only (never to a mirror or another host).
 */
export function hubTokenFor(url: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env === undefined || typeof (globalThis as { window?: unknown }).window !== 'undefined')
    return undefined;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  if (!HF_HOSTS.has(host)) return undefined;
  return env.HF_TOKEN || env.HF_ACCESS_TOKEN || undefined;
}

/** Why an attempt failed, in words for a message. */
export function describeFailure(e: unknown): string {
  if (e instanceof RetryExhaustedError) return describeFailure(e.cause);
  if (e instanceof HttpStatusError || e instanceof StallError || e instanceof TruncatedBodyError) {
    return e.message;
  }
  if (e instanceof AttemptTimeoutError) return `no complete answer within ${formatDelay(e.timeoutMs)}`;
  if (e instanceof Error) {
    const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
    const detail =
      typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
    const what = e.message === 'terminated' ? 'the connection broke' : `network error: ${e.message}`;
    return detail ? `${what} (${detail})` : what;
  }
  return String(e);
}

const isJsonFile = (file: string) => file.endsWith('.json');

/**
 * `fetchFn(target.url, init)` with retries; see the module comment. 404 (and other statuses that are
 * neither success nor retryable, 401/403 aside) come back as they are, for the caller to name the
 * missing file. 401/403 are a `model-load/access-denied` error at once; an HTML page where a `.json`
 * file was asked for is `model-load/invalid-file`; a retryable failure that does not pass is
 * `model-load/network`.
 */
export async function download(
  fetchFn: FetchFn,
  target: DownloadTarget,
  init: RequestInit = {},
  opts: DownloadOptions = {},
): Promise<Response> {
  const policy = resolveDownloadPolicy(opts.policy);
  const clock = opts.clock ?? systemClock;
  const session: Session = { fetchFn, target, init, opts, policy, clock, attempt: 0 };
  try {
    const { res, attempt } = await retry(
      (a) => requestOnce(session, a.attempt, a.signal, init, (r) => r),
      retryOptions(session, 0, 0),
    );
    // The hub names the commit a revision resolved to; the report records it with the model.
    const commit = res.response.headers.get('X-Repo-Commit');
    if (commit !== null && res.ok) opts.hashes?.noteCommit(target.model, commit, target.url);
    const method = (init.method ?? 'GET').toUpperCase();
    const ranged = new Headers(init.headers).has('Range');
    if (method === 'HEAD' || !res.ok || res.body === null || ranged) return res.response;
    session.attempt = attempt;
    const sink = opts.hashes?.sink(target.model, target.file);
    return new Response(resilientBody(session, res, sink), {
      status: res.response.status,
      statusText: res.response.statusText,
      headers: res.response.headers,
    });
  } catch (e) {
    throw downloadError(e, session);
  }
}

interface Session {
  fetchFn: FetchFn;
  target: DownloadTarget;
  init: RequestInit;
  opts: DownloadOptions;
  policy: DownloadPolicy;
  clock: RetryClock;
  /** The attempt the body now being read came from. */
  attempt: number;
}

/** A response that passed the status checks, with the controller that can abort its body. */
interface Opened {
  response: Response;
  ok: boolean;
  body: ReadableStream<Uint8Array> | null;
  abort: AbortController;
  /** When this attempt must be over (attempt timeout). */
  deadline: number;
}

function retryOptions(s: Session, received: number, total: number) {
  const { opts, target } = s;
  return {
    policy: s.policy,
    retryable: httpRetryable,
    clock: s.clock,
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    ...(opts.random !== undefined ? { random: opts.random } : {}),
    cancelledMessage: opts.cancelledMessage ?? 'Loading cancelled.',
    onRetry: (n: RetryNotice) =>
      opts.onRetry?.({
        file: target.file,
        model: target.model,
        attempt: n.attempt,
        maxAttempts: n.maxAttempts,
        delayMs: n.delayMs,
        reason: describeFailure(n.error),
        received,
        total,
      }),
  };
}

/**
 * One request: headers within the stall timeout, the status checked. `accept` may reject a
 * successful response that does not fit (a resume whose range is not the one asked for).
 */
async function requestOnce<T>(
  s: Session,
  attempt: number,
  attemptSignal: AbortSignal,
  init: RequestInit,
  accept: (r: Opened) => T,
): Promise<{ res: T; attempt: number }> {
  const abort = new AbortController();
  const signals = [attemptSignal, abort.signal, ...(s.opts.signal ? [s.opts.signal] : [])];
  const headers = new Headers(init.headers);
  const token = hubTokenFor(s.target.url);
  if (token !== undefined && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${token}`);
  const deadline = s.policy.attemptTimeoutMs > 0 ? s.clock.now() + s.policy.attemptTimeoutMs : Infinity;
  let response: Response;
  try {
    response = await withStall(
      s.fetchFn(s.target.url, { ...init, headers, signal: AbortSignal.any(signals) }),
      s,
      abort,
    );
  } catch (e) {
    abort.abort(e);
    throw e;
  }
  const { status } = response;
  if (status === 401 || status === 403) {
    void response.body?.cancel().catch(() => {});
    throw accessDenied(s.target, status, headers.has('Authorization'));
  }
  if (!response.ok) {
    if (httpRetryable(new HttpStatusError(status, '')) !== false) {
      void response.body?.cancel().catch(() => {});
      const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), s.clock.now());
      throw new HttpStatusError(status, response.statusText, retryAfterMs);
    }
    return { res: accept({ response, ok: false, body: response.body, abort, deadline }), attempt };
  }
  if (isJsonFile(s.target.file) && /text\/html/i.test(response.headers.get('Content-Type') ?? '')) {
    void response.body?.cancel().catch(() => {});
    throw htmlInsteadOfJson(s.target);
  }
  return { res: accept({ response, ok: true, body: response.body, abort, deadline }), attempt };
}

/** `p`, unless the stall timeout passes first: then the attempt is aborted with a `StallError`. */
async function withStall<T>(p: Promise<T>, s: Session, abort: AbortController, limitMs?: number): Promise<T> {
  const ms = Math.min(s.policy.stallTimeoutMs || Infinity, limitMs ?? Infinity);
  if (!Number.isFinite(ms)) return p;
  const timer = new AbortController();
  const isDeadline = limitMs !== undefined && limitMs < (s.policy.stallTimeoutMs || Infinity);
  try {
    return await Promise.race([
      p,
      s.clock.sleep(Math.max(0, ms), timer.signal).then(() => {
        const e = isDeadline ? new AttemptTimeoutError(s.policy.attemptTimeoutMs) : new StallError(ms);
        abort.abort(e);
        throw e;
      }),
    ]);
  } finally {
    timer.abort();
  }
}

/** The declared length of an uncompressed body (a decoded body's length differs from its header's). */
function declaredLength(r: Response): number | undefined {
  const enc = r.headers.get('Content-Encoding');
  if (enc && enc.toLowerCase() !== 'identity') return undefined;
  const len = r.headers.get('Content-Length');
  if (len === null || !/^\d+$/.test(len.trim())) return undefined;
  return Number(len);
}

/** `bytes 100-199/1000` → start 100, size 1000. */
function contentRange(r: Response): { start: number; size: number | undefined } | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(r.headers.get('Content-Range')?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), size: m[2] === '*' ? undefined : Number(m[2]) };
}

/**
 * The body as a stream that is whole or errors: a stall, a broken connection or an early end is
 * retried from the byte it stopped at (`Range: bytes=N-`; a 200 answer is read from the start with
 * the first N bytes skipped).
 */
function resilientBody(s: Session, first: Opened, sink?: HashSink): ReadableStream<Uint8Array> {
  const expected = declaredLength(first.response);
  let current = first;
  let reader = first.body!.getReader();
  let received = 0;
  let skip = 0;
  const release = () => {
    sink?.abandon();
    current.abort.abort(new CancelledError('download finished'));
    reader.cancel().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let failure: unknown;
        try {
          const left = current.deadline - s.clock.now();
          const r = await withStall(
            reader.read(),
            s,
            current.abort,
            Number.isFinite(left) ? left : undefined,
          );
          if (!r.done) {
            let chunk = r.value;
            if (skip > 0) {
              const n = Math.min(skip, chunk.byteLength);
              chunk = chunk.subarray(n);
              skip -= n;
              if (chunk.byteLength === 0) continue;
            }
            received += chunk.byteLength;
            sink?.update(chunk);
            controller.enqueue(chunk);
            return;
          }
          if (expected === undefined || received >= expected) {
            sink?.finish();
            controller.close();
            return;
          }
          failure = new TruncatedBodyError(received, expected);
        } catch (e) {
          failure = current.abort.signal.reason instanceof Error ? current.abort.signal.reason : e;
          if (
            expected !== undefined &&
            !(failure instanceof StallError || failure instanceof AttemptTimeoutError)
          ) {
            failure = new TruncatedBodyError(received, expected, failure);
          }
        }
        reader.cancel().catch(() => {});
        try {
          const next = await reopen(s, failure, received, expected);
          current = next.opened;
          skip = next.skip;
          reader = current.body!.getReader();
        } catch (e) {
          sink?.abandon();
          controller.error(downloadError(e, s));
          return;
        }
      }
    },
    cancel() {
      release();
    },
  });
}

/** Asks for the rest of the file after `failure`, going on with the attempt count and backoff. */
async function reopen(
  s: Session,
  failure: unknown,
  received: number,
  expected: number | undefined,
): Promise<{ opened: Opened; skip: number }> {
  const init: RequestInit = { ...s.init, method: 'GET' };
  if (received > 0) {
    const headers = new Headers(s.init.headers);
    headers.set('Range', `bytes=${received}-`);
    init.headers = headers;
  }
  const { res, attempt } = await retry(
    (a) =>
      requestOnce(s, a.attempt, a.signal, init, (o) => {
        const r = o.response;
        if (!o.ok || o.body === null) {
          throw new HttpStatusError(r.status, r.statusText);
        }
        if (r.status === 206) {
          const range = contentRange(r);
          if (
            range === undefined ||
            range.start !== received ||
            (expected !== undefined && range.size !== expected)
          ) {
            o.abort.abort();
            throw changedOnServer(s.target, `the server resumed at ${r.headers.get('Content-Range')}`);
          }
          return { opened: o, skip: 0 };
        }
        const length = declaredLength(r);
        if (expected !== undefined && length !== undefined && length !== expected) {
          o.abort.abort();
          throw changedOnServer(s.target, `${length} bytes now, ${expected} before`);
        }
        return { opened: o, skip: received };
      }),
    { ...retryOptions(s, received, expected ?? 0), after: { attempt: s.attempt, error: failure } },
  );
  s.attempt = attempt;
  return res;
}

function where(t: DownloadTarget): string {
  return `${t.model}: ${t.file}`;
}

function accessDenied(t: DownloadTarget, status: number, sentToken: boolean): ModelLoadError {
  const tokenHelp = sentToken
    ? 'The token in HF_TOKEN was sent and refused: check it has read access to this repo, and that you accepted its terms on the hub.'
    : 'If it is gated, accept its terms on the hub; then give a token with read access: set HF_TOKEN in the environment of the CLI ' +
      '(deltascope and transformers.js send it to huggingface.co only, never to a mirror). The workbench sends no token: ' +
      'download the repo and open its folder, or serve it from a mirror you control.';
  return new ModelLoadError(
    'model-load/access-denied',
    `${where(t)}: the server answered ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'} (${t.url}). ` +
      `The repo may be gated or private (the hub also answers 401 for a repo that does not exist). ${tokenHelp}`,
    { input: t.file },
  );
}

function htmlInsteadOfJson(t: DownloadTarget): ModelLoadError {
  return new ModelLoadError(
    'model-load/invalid-file',
    `${where(t)}: the server sent an HTML page where the JSON file was expected (${t.url}): a login wall, an ` +
      "error page or a proxy answered instead of the file. Check that the host serves the hub's layout " +
      '(<host>/<repo>/resolve/<revision>/<file>) and that the repo and revision exist.',
    { input: t.file },
  );
}

function changedOnServer(t: DownloadTarget, what: string): ModelLoadError {
  return new ModelLoadError(
    'model-load/network',
    `${where(t)}: the download broke off and the file changed on the server meanwhile (${what}; ${t.url}). Load again.`,
    { input: t.file },
  );
}

/** What `download` throws: project errors as they are, every other failure named by file and model. */
function downloadError(e: unknown, s: Session): unknown {
  if (e instanceof DeltascopeError) return e;
  const t = s.target;
  if (e instanceof RetryExhaustedError) {
    const why = describeFailure(e.cause);
    if (e.reason === 'retry-after') {
      return new ModelLoadError(
        'model-load/network',
        `${where(t)}: ${why} and asked to retry after ${formatDelay(e.retryAfterMs ?? 0)}, longer than deltascope ` +
          `waits (${formatDelay(s.policy.maxRetryAfterMs)}); try again later (${t.url}).`,
        { input: t.file, cause: e.cause },
      );
    }
    return new ModelLoadError(
      'model-load/network',
      `${where(t)}: the download failed after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}; the last: ${why} (${t.url}). ` +
        'The server or the network is failing: try again later, or use a mirror' +
        ` (${DOWNLOAD_POLICY_ENV.maxAttempts} sets the attempts in the CLI).`,
      { input: t.file, cause: e.cause },
    );
  }
  return new ModelLoadError(
    'model-load/network',
    `${where(t)}: the download failed: ${describeFailure(e)} (${t.url}).`,
    { input: t.file, cause: e },
  );
}
