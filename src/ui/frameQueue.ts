/**
 * Spreads UI redraws over animation frames: each frame runs queued jobs for at most `BUDGET_MS`
 * (always at least one), and leaves the rest to the next frame. A feed update that touches every
 * chart then costs a few short frames instead of one long main-thread task, which matters on a busy
 * 2-core machine where the OS can stretch any task several times over.
 */
export const BUDGET_MS = 2;

const queue: (() => void)[] = [];
let frame = 0;

function runFrame(): void {
  frame = 0;
  const t0 = performance.now();
  // The queue can be empty here: a chart that unmounted took its job back.
  while (queue.length > 0) {
    queue.shift()!();
    if (performance.now() - t0 >= BUDGET_MS) break;
  }
  if (queue.length > 0) frame = requestAnimationFrame(runFrame);
}

/** Queues `job` for a coming animation frame; the returned function unqueues it if not yet run. */
export function scheduleFrameJob(job: () => void): () => void {
  queue.push(job);
  if (frame === 0) frame = requestAnimationFrame(runFrame);
  return () => {
    const i = queue.indexOf(job);
    if (i >= 0) queue.splice(i, 1);
  };
}
