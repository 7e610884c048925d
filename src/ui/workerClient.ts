import * as Comlink from 'comlink';
import { installErrorTransfer } from '../worker/errorTransfer.ts';
import type { WorkbenchApi } from '../worker/workbenchApi.ts';

// Errors from the worker arrive as `DeltascopeError`s with their `code` (the UI branches on it).
installErrorTransfer();

export type WorkbenchClient = Comlink.Remote<WorkbenchApi>;

let client: WorkbenchClient | null = null;
let worker: Worker | null = null;

/** The one worker of the page, created on first use. */
export function workbench(): WorkbenchClient {
  if (client === null) {
    worker = new Worker(new URL('../worker/workbench.worker.ts', import.meta.url), {
      type: 'module',
      name: 'deltascope-workbench',
    });
    client = Comlink.wrap<WorkbenchApi>(worker);
    void client.init(new URL(import.meta.env.BASE_URL, self.location.origin).href);
  }
  return client;
}

/**
 * Replaces the worker with a fresh one (after a lost WebGPU device: ORT keeps its device for the
 * worker's life). Buffered trace events are committed first; the next `workbench()` call starts the
 * new worker.
 */
export async function restartWorkbench(): Promise<void> {
  const old = { client, worker };
  // Detached at once: a second restart (or any call) meanwhile gets the new worker, never this one.
  client = null;
  worker = null;
  if (old.client !== null) {
    const flushed = old.client.flushTraces().catch(() => {});
    await Promise.race([flushed, new Promise((r) => setTimeout(r, 2000))]);
  }
  old.worker?.terminate();
}

export { Comlink };
