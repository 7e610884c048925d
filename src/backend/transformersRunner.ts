import { Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { DeviceLostError } from './errors.ts';
import type { LogitsRunner } from './logitsRunner.ts';
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
   * Left padding lines every row's last token up at the final position (so `num_logits_to_keep = 1`
   * works), but is only position-correct when the export takes `position_ids`; otherwise pad right
   * and read each row at its own last index.
   */
  readonly leftPad: boolean;
  private readonly keepsLogits: boolean;
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
    this.leftPad = inputNames.includes('position_ids');
    this.keepsLogits = inputNames.includes('num_logits_to_keep');
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
    const seq = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const rowsPerRun = this.rowsPerRun(seq, want);
    if (rows.length <= rowsPerRun) return this.forwardOnce(rows, want);
    const out: Float32Array[] = [];
    for (let i = 0; i < rows.length; i += rowsPerRun) {
      out.push(...(await this.forwardOnce(rows.slice(i, i + rowsPerRun), want)));
    }
    return out;
  }

  /** How many rows of `seqLen` tokens one run may take within the logits budget. */
  rowsPerRun(seqLen: number, want: 'last' | 'all'): number {
    const kept = want === 'last' && this.leftPad && this.keepsLogits ? 1 : seqLen;
    return Math.max(
      1,
      Math.floor(this.logitsBudgetBytes / Math.max(1, kept * Math.max(1, this.vocabSize) * 4)),
    );
  }

  private async forwardOnce(
    rows: readonly (readonly number[])[],
    want: 'last' | 'all',
  ): Promise<Float32Array[]> {
    await yieldToEventLoop();
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
    const lastOnly = want === 'last' && this.leftPad && this.keepsLogits;
    // Only the last position's logits: batch × seq × vocab would exceed WebGPU buffer limits on big vocabularies.
    if (lastOnly) feeds.num_logits_to_keep = new Tensor('int64', BigInt64Array.from([1n]), []);

    const outputs = (await (this.model as unknown as (f: Record<string, Tensor>) => Promise<unknown>)(
      feeds,
    )) as Record<string, unknown>;
    try {
      const logits = outputs.logits as Tensor;
      const [, keptSeq, vocab] = logits.dims as [number, number, number];
      // fp16 exports return float16 logits; transformers.js converts them (and is a no-op for fp32).
      const data = logits.to('float32').data as Float32Array;
      return rows.map((row, r) => {
        const rowBase = r * keptSeq * vocab;
        if (want === 'last') {
          const at = lastOnly || this.leftPad ? keptSeq - 1 : offsets[r]! + row.length - 1;
          return data.slice(rowBase + at * vocab, rowBase + (at + 1) * vocab);
        }
        const start = rowBase + offsets[r]! * vocab;
        return data.slice(start, start + row.length * vocab);
      });
    } finally {
      await disposeOutputs(outputs);
    }
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
  const pending: unknown[] = [];
  for (const value of Object.values(outputs)) {
    const v = value as { dispose?: () => unknown } | null;
    if (v !== null && typeof v === 'object' && typeof v.dispose === 'function') pending.push(v.dispose());
  }
  await Promise.all(pending);
}
