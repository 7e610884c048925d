/**
 * Views as rows: runtime LoRA's base, ft and scaled views differ only in `lora_scale`, a per-row
 * input, so forward passes that several of them ask for at the same time go out as ONE batch with a
 * scale per row. A suite's probes look base and ft up together (`Promise.all`), so their rows for
 * the same prompts share a session run instead of taking two.
 *
 * `ViewRowMerger` collects the requests made before the event loop's next turn, groups them by how
 * they want their logits, runs each group through one runner whose `extraFeeds` reads the group's
 * per-row scales, and hands every request its own rows back. One group runs at a time; requests
 * made meanwhile form the next one. A group is capped at `maxRows` rows (a request is never split).
 */
import type { LogitsRunner, RunnerMemoryStats } from './logitsRunner.ts';
import { yieldToEventLoop } from './yieldToEventLoop.ts';

type Want = 'last' | 'all';

interface Request {
  scale: number;
  rows: readonly (readonly number[])[];
  want: Want;
  /** Streamed (`forwardEach`) or whole rows (`forward`). */
  consume: ((row: number, position: number, logits: Float32Array) => void) | null;
  resolve(rows: Float32Array[] | undefined): void;
  reject(e: unknown): void;
}

export class ViewRowMerger {
  private pending: Request[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  /** The running group's scale per row (read by the runner's `extraFeeds`). */
  private rowScales = new Float32Array(0);
  /** Session calls made and rows they carried, for tests and benchmarks. */
  readonly stats = { groups: 0, requests: 0, rows: 0 };
  private groupRunner: LogitsRunner | null = null;

  /** @param maxRows the most rows one group carries */
  constructor(private readonly maxRows: number) {}

  /**
   * The runner groups run on (over the shared model), whose `extraFeeds(batch, firstRow)` feeds
   * `scales(batch, firstRow)` as the scale input. Set once, before the first request.
   */
  set runner(r: LogitsRunner) {
    this.groupRunner = r;
  }

  get runner(): LogitsRunner {
    if (this.groupRunner === null) throw new Error('ViewRowMerger: no runner attached');
    return this.groupRunner;
  }

  /** The running group's scales for rows `[firstRow, firstRow + batch)`. */
  scales(batch: number, firstRow: number): Float32Array {
    return this.rowScales.slice(firstRow, firstRow + batch);
  }

  forward(scale: number, rows: readonly (readonly number[])[], want: Want): Promise<Float32Array[]> {
    return new Promise<Float32Array[] | undefined>((resolve, reject) =>
      this.submit({ scale, rows, want, consume: null, resolve, reject }),
    ).then((r) => r!);
  }

  forwardEach(
    scale: number,
    rows: readonly (readonly number[])[],
    want: Want,
    consume: (row: number, position: number, logits: Float32Array) => void,
  ): Promise<void> {
    return new Promise<Float32Array[] | undefined>((resolve, reject) =>
      this.submit({ scale, rows, want, consume, resolve, reject }),
    ).then(() => undefined);
  }

  private submit(req: Request): void {
    if (req.rows.length === 0) return req.resolve([]);
    this.pending.push(req);
    if (this.scheduled) return;
    this.scheduled = true;
    // After the previous group, and one event-loop turn later: every view asked by then joins.
    this.chain = this.chain.then(async () => {
      await yieldToEventLoop();
      this.scheduled = false;
      const taken = this.pending;
      this.pending = [];
      for (const group of this.groups(taken)) await this.run(group);
    });
  }

  /** Requests grouped by mode and `want`, in arrival order, each group at most `maxRows` rows. */
  private groups(requests: readonly Request[]): Request[][] {
    const byKind = new Map<string, Request[][]>();
    for (const r of requests) {
      const kind = `${r.consume === null ? 'forward' : 'each'}:${r.want}`;
      const list = byKind.get(kind) ?? [];
      const last = list.at(-1);
      const rows = last?.reduce((n, q) => n + q.rows.length, 0) ?? Infinity;
      if (last === undefined || rows + r.rows.length > this.maxRows) list.push([r]);
      else last.push(r);
      byKind.set(kind, list);
    }
    return [...byKind.values()].flat();
  }

  private async run(group: Request[]): Promise<void> {
    const rows: (readonly number[])[] = [];
    const owner: number[] = [];
    const offsets: number[] = [];
    group.forEach((r, i) => {
      offsets.push(rows.length);
      for (const row of r.rows) {
        rows.push(row);
        owner.push(i);
      }
    });
    this.rowScales = Float32Array.from(owner, (i) => group[i]!.scale);
    this.stats.groups += 1;
    this.stats.requests += group.length;
    this.stats.rows += rows.length;
    const first = group[0]!;
    try {
      if (first.consume === null) {
        const out = await this.runner.forward(rows, first.want);
        group.forEach((r, i) => r.resolve(out.slice(offsets[i]!, offsets[i]! + r.rows.length)));
      } else {
        await this.runner.forwardEach!(rows, first.want, (row, position, logits) => {
          const i = owner[row]!;
          group[i]!.consume!(row - offsets[i]!, position, logits);
        });
        for (const r of group) r.resolve(undefined);
      }
    } catch (e) {
      for (const r of group) r.reject(e);
    }
  }
}

/**
 * A view's runner whose batches go through the merger at the view's scale; everything else
 * (tokenizer, generation, memory figures, device loss, dispose) is the view's own runner's.
 */
export class MergedViewRunner implements LogitsRunner {
  constructor(
    private readonly own: LogitsRunner,
    private readonly merger: ViewRowMerger,
    private readonly scale: number,
  ) {}

  get vocabSize(): number {
    return this.own.vocabSize;
  }
  get contextTokens(): number | null {
    return this.own.contextTokens ?? null;
  }
  get eosTokenIds(): readonly number[] {
    return this.own.eosTokenIds;
  }
  get stuffingToken(): string | null {
    return this.own.stuffingToken;
  }
  encode(text: string, addSpecialTokens: boolean): number[] {
    return this.own.encode(text, addSpecialTokens);
  }
  decode(ids: readonly number[], skipSpecialTokens: boolean): string {
    return this.own.decode(ids, skipSpecialTokens);
  }
  tokenStrings(ids: readonly number[]): string[] {
    return this.own.tokenStrings(ids);
  }
  forward(rows: readonly (readonly number[])[], want: Want): Promise<Float32Array[]> {
    return this.merger.forward(this.scale, rows, want);
  }
  forwardEach(
    rows: readonly (readonly number[])[],
    want: Want,
    consume: (row: number, position: number, logits: Float32Array) => void,
  ): Promise<void> {
    return this.merger.forwardEach(this.scale, rows, want, consume);
  }
  generateGreedy(ids: readonly number[], maxNewTokens: number): Promise<number[]> {
    return this.own.generateGreedy(ids, maxNewTokens);
  }
  /** The group runner's: every batch of every merged view runs there. */
  memoryStats(): RunnerMemoryStats {
    return this.merger.runner.memoryStats!();
  }
  dispose(): Promise<void> {
    return this.own.dispose();
  }
}
