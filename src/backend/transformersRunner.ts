import { Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { DeviceLostError } from './errors.ts';
import { copyLogits, copyLogitsInto, readRows, tensorBytes, type LogitsData } from './logitsReadout.ts';
import type { LogitsRunner, RunnerMemoryStats } from './logitsRunner.ts';
import { yieldToEventLoop } from './yieldToEventLoop.ts';

/** 256 MiB of logits per run: well inside WebGPU's usual 1 GiB max buffer, with room for activations. */
export const DEFAULT_LOGITS_BUDGET = 256 * 1024 * 1024;

/** The parts of a transformers.js tensor this runner reads (its `.d.ts` types data loosely). */
interface OutTensor {
  dims: number[];
  type: string;
  data: ArrayLike<number> | ArrayLike<bigint>;
  location?: string;
  dispose?: () => void;
}

/**
 * Runs a transformers.js causal LM on rows of token ids. Every batch is padded by hand with the
 * attention mask and position ids built here, so the three scoring ops share one forward path.
 */
export class TransformersRunner implements LogitsRunner {
  readonly vocabSize: number;
  readonly eosTokenIds: readonly number[];
  private readonly padId: number;
  /**
   * Left padding lines every row's last token up at the final position, which only pays when the
   * export takes `num_logits_to_keep` (one position's logits per row instead of all), and is only
   * position-correct when it takes `position_ids`. Otherwise pad right and read each row at its own
   * last index: right padding is exact under any attention kernel (a real token never attends to a
   * later pad slot), while `GroupQueryAttention` (ORT GenAI builder exports) assumes every row starts
   * at index 0 and gives shorter left-padded rows wrong results.
   */
  readonly leftPad: boolean;
  /** The model's context window (`max_position_embeddings`), null when its config does not say. */
  readonly contextTokens: number | null;
  private readonly keepsLogits: boolean;
  /** The export takes a KV cache (`past_key_values.*`), so a long row can run in chunks of positions. */
  private readonly hasCache: boolean;
  private memory: RunnerMemoryStats;
  /** Set once the WebGPU device is lost: every later run fails fast with this message. */
  private lostMessage: string | null = null;
  private disposed = false;

  constructor(
    private readonly model: PreTrainedModel,
    private readonly tokenizer: PreTrainedTokenizer,
    /**
     * Most bytes of fp32 logits one session run may return. A batch whose logits would exceed it is
     * run in slices: batch × sequence × a 150k vocabulary easily passes WebGPU's 1 GiB buffer limit.
     */
    private readonly logitsBudgetBytes = DEFAULT_LOGITS_BUDGET,
    private readonly options: TransformersRunnerOptions = {},
  ) {
    const config = model.config as unknown as {
      vocab_size?: number;
      eos_token_id?: number | number[];
      max_position_embeddings?: number;
      n_positions?: number;
    };
    this.vocabSize = config.vocab_size ?? 0;
    this.contextTokens = config.max_position_embeddings ?? config.n_positions ?? null;
    const eos = config.eos_token_id ?? tokenizer.eos_token_id;
    this.eosTokenIds = (Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos]).map(
      Number,
    );
    this.padId = tokenizer.pad_token_id ?? this.eosTokenIds[0] ?? 0;
    const inputNames = sessionInputNames(model);
    this.keepsLogits = inputNames.includes('num_logits_to_keep');
    this.leftPad = this.keepsLogits && inputNames.includes('position_ids');
    this.hasCache = inputNames.some((n) => n.startsWith('past_'));
    this.memory = emptyMemoryStats(logitsBudgetBytes);
  }

  encode(text: string, addSpecialTokens: boolean): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
  }

  decode(ids: readonly number[], skipSpecialTokens: boolean): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  get stuffingToken(): string | null {
    const t = this.tokenizer as unknown as {
      pad_token?: string | null;
      unk_token?: string | null;
      eos_token?: string | null;
    };
    const token = t.pad_token || t.unk_token || t.eos_token || ' ';
    return token.trim() === '' ? ' ' : token;
  }

  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenizer.decode([id], { skip_special_tokens: false }));
  }

  /** Marks the device as lost: later runs throw a `DeviceLostError` instead of reaching ORT. */
  markDeviceLost(message: string): void {
    this.lostMessage = message;
  }

  private checkDevice(): void {
    if (this.lostMessage !== null) throw new DeviceLostError(this.lostMessage);
  }

  /**
   * One batch's logits per row, with no second full copy: fp32 rows are views into the session's
   * buffer when they cover most of it ('all'), small copies otherwise ('last', so the buffer is freed
   * with the run); fp16 is converted row by row; a row run in chunks is assembled from its chunks.
   */
  async forward(rows: readonly (readonly number[])[], want: 'last' | 'all'): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(rows.length);
    const vocab = this.vocabSize;
    /** A chunked row's logits, filled chunk by chunk ('all'). */
    let assembling: Float32Array | null = null;
    /** Bytes the rows handed out so far keep alive (a buffer they view, or their copies). */
    let retained = 0;
    await this.pipeline(rows, want, (run) => {
      const { data, fp16Bits, rawBytes } = run;
      if (run.step.kind === 'rows') {
        const { rows: read, copiedBytes } = readRows(data, run.deliveries, fp16Bits);
        run.deliveries.forEach((d, j) => (out[d.row] = read[j]!));
        this.noteHeld(retained + rawBytes + copiedBytes);
        // Views keep the session's buffer alive with the rows; copies let it go now.
        retained += copiedBytes > 0 || read.length === 0 ? copiedBytes : rawBytes;
        return;
      }
      const { row, to } = run.step;
      const len = rows[row]!.length;
      for (const d of run.deliveries) {
        if (want === 'last') {
          out[row] = copyLogits(data, d.start, d.start + d.length, fp16Bits);
          continue;
        }
        assembling ??= new Float32Array(len * vocab);
        copyLogitsInto(assembling, d.position * vocab, data, d.start, d.start + d.length, fp16Bits);
      }
      const kept = want === 'all' ? (assembling?.byteLength ?? 0) : (out[row]?.byteLength ?? 0);
      this.noteHeld(retained + rawBytes + kept);
      if (to === len) {
        if (want === 'all') out[row] = assembling ?? new Float32Array(0);
        assembling = null;
        retained += out[row]!.byteLength;
      }
    });
    return out;
  }

  /**
   * Runs one batch and hands each row's logits to `consume` as soon as the run that made them is read,
   * with the next run already started: on an asynchronous device (WebGPU) the caller's top-k and
   * log-softmax overlap the next session run instead of following it. `consume(row, position, logits)`
   * gets positions `[position, position + logits.length / vocab)` of row `row` ('last': the row's last
   * position alone; 'all': the whole row, or one chunk of a row run in chunks, in position order). The
   * array may be a view into the run's buffer: read it during the call, copy what you keep.
   */
  async forwardEach(
    rows: readonly (readonly number[])[],
    want: 'last' | 'all',
    consume: (row: number, position: number, logits: Float32Array) => void,
  ): Promise<void> {
    await this.pipeline(rows, want, (run) => {
      let copied = 0;
      for (const d of run.deliveries) {
        const logits =
          run.data instanceof Float32Array
            ? run.data.subarray(d.start, d.start + d.length)
            : copyLogits(run.data, d.start, d.start + d.length, run.fp16Bits);
        if (!(run.data instanceof Float32Array)) copied += logits.byteLength;
        consume(d.row, d.position, logits);
      }
      this.noteHeld(run.rawBytes + copied);
    });
  }

  /** Peak memory of this runner's runs so far (see `RunnerMemoryStats`). */
  memoryStats(): RunnerMemoryStats {
    return { ...this.memory, maxLogitsDims: [...this.memory.maxLogitsDims] };
  }

  /** Starts the peaks over (e.g. between a benchmark's warm-up and its measured part). */
  resetMemoryStats(): void {
    this.memory = emptyMemoryStats(this.logitsBudgetBytes);
  }

  /**
   * Splits a batch into session runs whose logits fit the budget: consecutive rows as long as the
   * padded run fits ("rows first"), and a row whose logits alone exceed the budget on its own, in
   * chunks of positions through the KV cache ("then positions").
   */
  planRuns(rows: readonly (readonly number[])[], want: 'last' | 'all'): RunPlan[] {
    const perPosition = Math.max(1, this.vocabSize) * 4;
    const budget = this.logitsBudgetBytes;
    const plans: RunPlan[] = [];
    let start = 0;
    let maxLen = 0;
    const flush = (end: number) => {
      if (end > start) plans.push({ start, end, chunk: null });
    };
    for (let i = 0; i < rows.length; i++) {
      const len = rows[i]!.length;
      if (this.hasCache && this.keptPositions(len, want, true) * perPosition > budget) {
        flush(i);
        plans.push({ start: i, end: i + 1, chunk: Math.max(1, Math.floor(budget / perPosition)) });
        start = i + 1;
        maxLen = 0;
        continue;
      }
      const padded = Math.max(maxLen, len);
      const count = i - start + 1;
      if (count > 1 && count * this.keptPositions(padded, want, false) * perPosition > budget) {
        flush(i);
        start = i;
        maxLen = len;
      } else {
        maxLen = padded;
      }
    }
    flush(rows.length);
    return plans;
  }

  /**
   * Logits positions one row of `len` tokens costs in a run: only the last with `num_logits_to_keep`
   * when every row's last token sits at the final position (left padding, or a row on its own).
   */
  private keptPositions(len: number, want: 'last' | 'all', alone: boolean): number {
    return want === 'last' && this.keepsLogits && (this.leftPad || alone) ? 1 : len;
  }

  /**
   * The session runs of one batch, in order, each handed to `onRun` once read: runs of whole rows, and
   * the chunks of a row too long for the budget. A chunk feeds the previous chunk's `present.*` back
   * as `past_key_values.*`, with the attention mask over past + current tokens and the position ids
   * continuing, so it sees the whole prefix and its logits are those of the unsliced run; the cache it
   * was fed is disposed as soon as its successor exists (on WebGPU the cache is GPU-resident and leaks
   * otherwise). The next run starts before `onRun` reads the current one; at most one run is in flight.
   */
  private async pipeline(
    rows: readonly (readonly number[])[],
    want: 'last' | 'all',
    onRun: (run: RunRead) => void,
  ): Promise<void> {
    this.checkDevice();
    const steps = this.steps(rows, want);
    /** The cache of the row being run in chunks. */
    let past: Record<string, Tensor> | null = null;
    let inflight: Promise<Record<string, unknown>> | null = null;
    // Submitted at once (not after a yield), so the run is under way while the caller post-processes.
    const start = (step: Step, cache: Record<string, Tensor> | null) => {
      this.checkDevice();
      return this.run(this.feedsOf(rows, step, want, cache));
    };
    try {
      await yieldToEventLoop();
      if (steps.length > 0) inflight = start(steps[0]!, null);
      for (let i = 0; i < steps.length; i++) {
        const outputs = await inflight!;
        inflight = null;
        const step = steps[i]!;
        try {
          const fed = past;
          past = step.kind === 'chunk' && step.to < rows[step.row]!.length ? takePresents(outputs) : null;
          if (fed !== null) await disposeAll(Object.values(fed));
          if (i + 1 < steps.length) {
            const next = start(steps[i + 1]!, past);
            // A failure surfaces where the run is awaited; until then it must not count as unhandled.
            next.catch(() => {});
            inflight = next;
          }
          onRun(this.readRun(outputs, rows, step, want));
        } finally {
          await disposeOutputs(outputs);
        }
        // ORT's WASM runs resolve through microtasks only: give queued tasks (a cancel) a turn per run.
        await yieldToEventLoop();
      }
    } finally {
      // A run started before an error: wait for it, then release everything it returned.
      if (inflight !== null) await inflight.then(disposeOutputs, () => {});
      if (past !== null) await disposeAll(Object.values(past));
    }
  }

  /** The runs of a batch: each plan's rows whole, or one row's chunks of positions. */
  private steps(rows: readonly (readonly number[])[], want: 'last' | 'all'): Step[] {
    const steps: Step[] = [];
    for (const plan of this.planRuns(rows, want)) {
      if (plan.chunk === null) {
        steps.push({ kind: 'rows', start: plan.start, end: plan.end });
        continue;
      }
      this.memory.chunkedRows += 1;
      const len = rows[plan.start]!.length;
      for (let from = 0; from < len; from += plan.chunk) {
        steps.push({ kind: 'chunk', row: plan.start, from, to: Math.min(len, from + plan.chunk) });
      }
    }
    return steps;
  }

  /**
   * The feeds of one run. Whole rows are padded by hand (left or right, see `leftPad`) with the
   * attention mask and position ids built here; a chunk is one unpadded row's positions `[from, to)`.
   */
  private feedsOf(
    rows: readonly (readonly number[])[],
    step: Step,
    want: 'last' | 'all',
    past: Record<string, Tensor> | null,
  ): Record<string, unknown> {
    if (step.kind === 'chunk') {
      const { from, to } = step;
      const len = to - from;
      const feeds: Record<string, unknown> = {
        input_ids: new Tensor(
          'int64',
          BigInt64Array.from(rows[step.row]!.slice(from, to), (x) => BigInt(x)),
          [1, len],
        ),
        attention_mask: new Tensor('int64', new BigInt64Array(to).fill(1n), [1, to]),
        position_ids: new Tensor(
          'int64',
          BigInt64Array.from({ length: len }, (_, t) => BigInt(from + t)),
          [1, len],
        ),
      };
      // 'last' needs one position of the final chunk only; 'all' keeps every position (the default).
      if (want === 'last' && this.keepsLogits) {
        feeds.num_logits_to_keep = new Tensor('int64', BigInt64Array.from([1n]), []);
      }
      if (past !== null) feeds.past_key_values = past;
      return { ...feeds, ...this.options.extraFeeds?.(1, step.row) };
    }
    const batchRows = rows.slice(step.start, step.end);
    const batch = batchRows.length;
    const seq = batchRows.reduce((m, r) => Math.max(m, r.length), 0);
    const ids = new BigInt64Array(batch * seq).fill(BigInt(this.padId));
    const mask = new BigInt64Array(batch * seq);
    // Padded slots get position 1, as transformers.js's own `create_position_ids` does.
    const pos = new BigInt64Array(batch * seq).fill(1n);
    batchRows.forEach((row, r) => {
      const base = r * seq + (this.leftPad ? seq - row.length : 0);
      row.forEach((tok, t) => {
        ids[base + t] = BigInt(tok);
        mask[base + t] = 1n;
        pos[base + t] = BigInt(t);
      });
    });
    const feeds: Record<string, unknown> = {
      input_ids: new Tensor('int64', ids, [batch, seq]),
      attention_mask: new Tensor('int64', mask, [batch, seq]),
      position_ids: new Tensor('int64', pos, [batch, seq]),
    };
    // Only the last position's logits: batch × seq × vocab would exceed WebGPU buffer limits on big vocabularies.
    if (this.lastOnly(want, batch)) {
      feeds.num_logits_to_keep = new Tensor('int64', BigInt64Array.from([1n]), []);
    }
    return { ...feeds, ...this.options.extraFeeds?.(batch, step.start) };
  }

  /** `num_logits_to_keep = 1` works when every row's last token sits at the final position. */
  private lastOnly(want: 'last' | 'all', batch: number): boolean {
    return want === 'last' && this.keepsLogits && (this.leftPad || batch === 1);
  }

  /** Where each row's wanted logits sit in one run's output buffer. */
  private readRun(
    outputs: Record<string, unknown>,
    rows: readonly (readonly number[])[],
    step: Step,
    want: 'last' | 'all',
  ): RunRead {
    const logits = outputs.logits as OutTensor;
    const [, keptSeq, vocab] = logits.dims as [number, number, number];
    const data = logits.data as LogitsData;
    // fp16 exports return float16 logits (raw bits in a Uint16Array where there is no Float16Array).
    const fp16Bits = logits.type === 'float16' && data instanceof Uint16Array;
    const rawBytes = tensorBytes(logits);
    const deliveries: Delivery[] = [];
    if (step.kind === 'chunk') {
      const len = rows[step.row]!.length;
      if (want === 'all') {
        deliveries.push({
          row: step.row,
          position: step.from,
          start: 0,
          length: (step.to - step.from) * vocab,
        });
      } else if (step.to === len) {
        deliveries.push({ row: step.row, position: len - 1, start: (keptSeq - 1) * vocab, length: vocab });
      }
      return { step, data, fp16Bits, rawBytes, deliveries };
    }
    const batch = step.end - step.start;
    const lastOnly = this.lastOnly(want, batch);
    for (let r = 0; r < batch; r++) {
      const row = rows[step.start + r]!;
      const off = this.leftPad ? keptSeq - row.length : 0;
      const rowBase = r * keptSeq * vocab;
      if (want === 'last') {
        const at = lastOnly || this.leftPad ? keptSeq - 1 : off + row.length - 1;
        deliveries.push({
          row: step.start + r,
          position: row.length - 1,
          start: rowBase + at * vocab,
          length: vocab,
        });
      } else {
        deliveries.push({
          row: step.start + r,
          position: 0,
          start: rowBase + off * vocab,
          length: row.length * vocab,
        });
      }
    }
    return { step, data, fp16Bits, rawBytes, deliveries };
  }

  /** One session run through transformers.js (which fills in an empty cache and picks the inputs). */
  private async run(feeds: Record<string, unknown>): Promise<Record<string, unknown>> {
    const outputs = (await (this.model as unknown as (f: Record<string, unknown>) => Promise<unknown>)(
      feeds,
    )) as Record<string, unknown>;
    this.noteRun(outputs);
    return outputs;
  }

  private noteRun(outputs: Record<string, unknown>): void {
    const m = this.memory;
    m.runs += 1;
    let total = 0;
    for (const value of Object.values(outputs)) {
      const t = value as OutTensor | null;
      if (t !== null && typeof t === 'object' && Array.isArray(t.dims) && typeof t.type === 'string') {
        total += tensorBytes(t);
      }
    }
    if (total > m.maxRunOutputBytes) m.maxRunOutputBytes = total;
    const logits = outputs.logits as OutTensor | undefined;
    if (logits !== undefined) {
      const bytes = tensorBytes(logits);
      if (bytes > m.maxLogitsBytes) {
        m.maxLogitsBytes = bytes;
        m.maxLogitsDims = [...logits.dims];
      }
    }
  }

  private noteHeld(bytes: number): void {
    if (bytes > this.memory.maxHeldLogitsBytes) this.memory.maxHeldLogitsBytes = bytes;
  }

  async generateGreedy(ids: readonly number[], maxNewTokens: number): Promise<number[]> {
    this.checkDevice();
    await yieldToEventLoop();
    const n = ids.length;
    const inputIds = new Tensor(
      'int64',
      BigInt64Array.from(ids, (x) => BigInt(x)),
      [1, n],
    );
    const attention = new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    const out = (await this.model.generate({
      input_ids: inputIds,
      attention_mask: attention,
      max_new_tokens: maxNewTokens,
      do_sample: false,
      ...this.options.extraFeeds?.(1, 0),
    } as unknown as Parameters<PreTrainedModel['generate']>[0])) as unknown as OutTensor;
    const all = Array.from(out.data as ArrayLike<bigint>, (x) => Number(x));
    return all.slice(n);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.options.sharedModel !== true) await this.model.dispose();
  }
}

/** How a runner shares its model with other views (runtime LoRA: one session, several runners). */
export interface TransformersRunnerOptions {
  /**
   * Inputs added to every session run and to `generate` (whose model must list them among its
   * `forward_params`), for the `batch` rows from `firstRow` of the batch given to `forward`: a LoRA
   * view's `lora_scale` (per row when views run as rows of one batch) and adapter tensors.
   */
  extraFeeds?: (batch: number, firstRow: number) => Record<string, unknown>;
  /** The model belongs to someone else (who disposes it): `dispose` only marks this runner disposed. */
  sharedModel?: boolean;
}

/** One session run's share of a batch: rows `[start, end)` whole, or one row in chunks of positions. */
export interface RunPlan {
  start: number;
  end: number;
  /** Positions per run for a row whose logits alone exceed the budget; null for whole rows. */
  chunk: number | null;
}

/** One session run of a batch: rows `[start, end)` whole, or positions `[from, to)` of one row. */
type Step =
  { kind: 'rows'; start: number; end: number } | { kind: 'chunk'; row: number; from: number; to: number };

/** One row's logits in a run's buffer: elements `[start, start + length)`, from row position `position`. */
interface Delivery {
  row: number;
  position: number;
  start: number;
  length: number;
}

/** A run's logits as read: the session's buffer and where each row's part of it sits. */
interface RunRead {
  step: Step;
  data: LogitsData;
  fp16Bits: boolean;
  rawBytes: number;
  deliveries: Delivery[];
}

function emptyMemoryStats(logitsBudgetBytes: number): RunnerMemoryStats {
  return {
    runs: 0,
    chunkedRows: 0,
    maxLogitsBytes: 0,
    maxLogitsDims: [],
    maxRunOutputBytes: 0,
    maxHeldLogitsBytes: 0,
    logitsBudgetBytes,
  };
}

/**
 * A run's `present.*` outputs under the names the next run takes them as (`past_key_values.*`; the
 * hybrid `present_<kind>` states as `past_<kind>`), as transformers.js's own `getPastKeyValues` does.
 * They are removed from `outputs`, so disposing the outputs leaves the cache alive.
 */
function takePresents(outputs: Record<string, unknown>): Record<string, Tensor> {
  const past: Record<string, Tensor> = {};
  for (const name of Object.keys(outputs)) {
    if (name.startsWith('present.'))
      past[`past_key_values.${name.slice('present.'.length)}`] = outputs[name] as Tensor;
    else if (name.startsWith('present_'))
      past[`past_${name.slice('present_'.length)}`] = outputs[name] as Tensor;
    else continue;
    delete outputs[name];
  }
  return past;
}

async function disposeAll(values: readonly unknown[]): Promise<void> {
  const pending: unknown[] = [];
  for (const value of values) {
    const v = value as { dispose?: () => unknown } | null;
    if (v !== null && typeof v === 'object' && typeof v.dispose === 'function') pending.push(v.dispose());
  }
  await Promise.all(pending);
}

function sessionInputNames(model: PreTrainedModel): string[] {
  const sessions =
    (model as unknown as { sessions?: Record<string, { inputNames?: string[] }> }).sessions ?? {};
  return sessions.model?.inputNames ?? sessions.decoder_model_merged?.inputNames ?? [];
}

/**
 * Frees every output tensor at once: GPU-resident tensors (the KV cache on WebGPU) leak otherwise,
 * and the logits were already copied out.
 */
async function disposeOutputs(outputs: Record<string, unknown>): Promise<void> {
  await disposeAll(Object.values(outputs));
}
