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
  ) {
    const config = model.config as unknown as { vocab_size?: number; eos_token_id?: number | number[] };
    this.vocabSize = config.vocab_size ?? 0;
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

  async forward(rows: readonly (readonly number[])[], want: 'last' | 'all'): Promise<Float32Array[]> {
    this.checkDevice();
    const held = { retained: 0 };
    const out: Float32Array[] = [];
    for (const run of this.planRuns(rows, want)) {
      if (run.chunk === null) {
        out.push(...(await this.forwardOnce(rows.slice(run.start, run.end), want, held)));
      } else {
        out.push(await this.forwardChunked(rows[run.start]!, want, run.chunk, held));
      }
    }
    return out;
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

  private async forwardOnce(
    rows: readonly (readonly number[])[],
    want: 'last' | 'all',
    held: { retained: number },
  ): Promise<Float32Array[]> {
    await yieldToEventLoop();
    this.checkDevice();
    const batch = rows.length;
    const seq = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const ids = new BigInt64Array(batch * seq);
    const mask = new BigInt64Array(batch * seq);
    // Padded slots get position 1, as transformers.js's own `create_position_ids` does.
    const pos = new BigInt64Array(batch * seq).fill(1n);
    const offsets: number[] = [];
    rows.forEach((row, r) => {
      const off = this.leftPad ? seq - row.length : 0;
      offsets.push(off);
      const base = r * seq;
      for (let t = 0; t < seq; t++) ids[base + t] = BigInt(this.padId);
      row.forEach((tok, t) => {
        ids[base + off + t] = BigInt(tok);
        mask[base + off + t] = 1n;
        pos[base + off + t] = BigInt(t);
      });
    });
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', ids, [batch, seq]),
      attention_mask: new Tensor('int64', mask, [batch, seq]),
      position_ids: new Tensor('int64', pos, [batch, seq]),
    };
    const lastOnly = want === 'last' && this.keepsLogits && (this.leftPad || batch === 1);
    // Only the last position's logits: batch × seq × vocab would exceed WebGPU buffer limits on big vocabularies.
    if (lastOnly) feeds.num_logits_to_keep = new Tensor('int64', BigInt64Array.from([1n]), []);

    const outputs = await this.run(feeds);
    try {
      const logits = outputs.logits as OutTensor;
      const [, keptSeq, vocab] = logits.dims as [number, number, number];
      const spans = rows.map((row, r) => {
        const rowBase = r * keptSeq * vocab;
        if (want === 'last') {
          const at = lastOnly || this.leftPad ? keptSeq - 1 : offsets[r]! + row.length - 1;
          return { start: rowBase + at * vocab, length: vocab };
        }
        return { start: rowBase + offsets[r]! * vocab, length: row.length * vocab };
      });
      const data = logits.data as LogitsData;
      // fp16 exports return float16 logits: converted per row, straight into the rows handed out.
      const { rows: out, copiedBytes } = readRows(
        data,
        spans,
        logits.type === 'float16' && data instanceof Uint16Array,
      );
      const rawBytes = tensorBytes(logits);
      this.noteHeld(held.retained + rawBytes + copiedBytes);
      // Views keep the session's buffer alive with the rows; copies let it go now.
      held.retained += copiedBytes > 0 || out.length === 0 ? copiedBytes : rawBytes;
      return out;
    } finally {
      await disposeOutputs(outputs);
    }
  }

  /**
   * One row whose logits exceed the budget, run `chunk` positions at a time: each run feeds the
   * previous run's `present.*` back as `past_key_values.*`, with the attention mask over past +
   * current tokens and the position ids continuing, so every chunk sees the whole prefix and its
   * logits are those of the unsliced run. Only one chunk's logits exist at a time; 'all' copies them
   * into the row as they come. A cache fed in is disposed as soon as its successor exists (on WebGPU
   * the cache is GPU-resident and leaks otherwise).
   */
  private async forwardChunked(
    row: readonly number[],
    want: 'last' | 'all',
    chunk: number,
    held: { retained: number },
  ): Promise<Float32Array> {
    const n = row.length;
    const vocab = this.vocabSize;
    const out = want === 'all' ? new Float32Array(n * vocab) : null;
    let last: Float32Array | null = null;
    let past: Record<string, Tensor> | null = null;
    this.memory.chunkedRows += 1;
    try {
      for (let s = 0; s < n; s += chunk) {
        await yieldToEventLoop();
        this.checkDevice();
        const e = Math.min(n, s + chunk);
        const len = e - s;
        const feeds: Record<string, unknown> = {
          input_ids: new Tensor(
            'int64',
            BigInt64Array.from(row.slice(s, e), (x) => BigInt(x)),
            [1, len],
          ),
          attention_mask: new Tensor('int64', new BigInt64Array(e).fill(1n), [1, e]),
          position_ids: new Tensor(
            'int64',
            BigInt64Array.from({ length: len }, (_, t) => BigInt(s + t)),
            [1, len],
          ),
        };
        // 'last' needs one position of the final chunk only; 'all' keeps every position (the default).
        if (want === 'last' && this.keepsLogits) {
          feeds.num_logits_to_keep = new Tensor('int64', BigInt64Array.from([1n]), []);
        }
        if (past !== null) feeds.past_key_values = past;
        const outputs = await this.run(feeds);
        const fedPast: Record<string, Tensor> | null = past;
        past = takePresents(outputs);
        if (fedPast !== null) await disposeAll(Object.values(fedPast));
        try {
          const logits = outputs.logits as OutTensor;
          const [, keptSeq] = logits.dims as [number, number, number];
          const data = logits.data as LogitsData;
          const fp16Bits = logits.type === 'float16' && data instanceof Uint16Array;
          const rawBytes = tensorBytes(logits);
          if (out !== null) {
            copyLogitsInto(out, s * vocab, data, 0, len * vocab, fp16Bits);
            this.noteHeld(held.retained + out.byteLength + rawBytes);
          } else if (e === n) {
            last = copyLogits(data, (keptSeq - 1) * vocab, keptSeq * vocab, fp16Bits);
            this.noteHeld(held.retained + rawBytes + last.byteLength);
          } else {
            this.noteHeld(held.retained + rawBytes);
          }
        } finally {
          await disposeOutputs(outputs);
        }
      }
    } finally {
      if (past !== null) await disposeAll(Object.values(past));
    }
    const result = out ?? last!;
    held.retained += result.byteLength;
    return result;
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
    } as unknown as Parameters<PreTrainedModel['generate']>[0])) as unknown as OutTensor;
    const all = Array.from(out.data as ArrayLike<bigint>, (x) => Number(x));
    return all.slice(n);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.model.dispose();
  }
}

/** One session run's share of a batch: rows `[start, end)` whole, or one row in chunks of positions. */
export interface RunPlan {
  start: number;
  end: number;
  /** Positions per run for a row whose logits alone exceed the budget; null for whole rows. */
  chunk: number | null;
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
