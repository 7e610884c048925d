import type { DifferentialBackend } from '../backend/index.ts';
import { StateError } from '../core/index.ts';
import { batchHygiene } from '../suite/promptHygiene.ts';
import type { BatchProgress, BatchRunResult } from './workbenchApi.ts';

/**
 * The Live charts' 200-prompt batch: next-token distributions on both views, in chunks with progress,
 * cancellable after the chunk in flight (every event already traced is kept). Its prompts go through
 * hygiene first (`batchHygiene`).
 */
export class BatchService {
  private controller: AbortController | null = null;

  async run(
    b: DifferentialBackend,
    asked: readonly string[],
    topK: number,
    opts: { onProgress?: (p: BatchProgress) => void; stoppedBy: () => BatchRunResult['stoppedBy'] },
  ): Promise<BatchRunResult> {
    if (this.controller !== null) throw new StateError('A batch is already running; cancel it or wait.');
    // Before any forward pass: an empty prompt refuses the batch; fixed text is what runs.
    const { prompts, counts: hygiene } = batchHygiene(asked);
    const controller = new AbortController();
    this.controller = controller;
    const t0 = performance.now();
    // Two physical batches per chunk and view: big enough to batch well, small enough to cancel fast.
    const chunk = Math.max(1, 2 * b.info.maxBatchSize);
    let done = 0;
    try {
      while (done < prompts.length && !controller.signal.aborted) {
        const part = prompts.slice(done, done + chunk);
        await Promise.all([
          b.base.nextTokenDistBatch(part, { topK }),
          b.ft.nextTokenDistBatch(part, { topK }),
        ]);
        done += part.length;
        opts.onProgress?.({ done, total: prompts.length });
      }
    } finally {
      if (this.controller === controller) this.controller = null;
    }
    const cancelled = done < prompts.length;
    return {
      prompts: done,
      wallMs: performance.now() - t0,
      cancelled,
      ...(cancelled ? { stoppedBy: opts.stoppedBy() } : {}),
      hygiene,
    };
  }

  cancel(): void {
    this.controller?.abort();
  }
}
