import * as Comlink from 'comlink';
import type { WorkbenchApi } from '../worker/workbenchApi.ts';

export type WorkbenchClient = Comlink.Remote<WorkbenchApi>;

let client: WorkbenchClient | null = null;

/** The one worker of the page, created on first use. */
export function workbench(): WorkbenchClient {
  if (client === null) {
    const worker = new Worker(new URL('../worker/workbench.worker.ts', import.meta.url), {
      type: 'module',
      name: 'deltascope-workbench',
    });
    client = Comlink.wrap<WorkbenchApi>(worker);
    void client.init(new URL(import.meta.env.BASE_URL, self.location.origin).href);
  }
  return client;
}

export { Comlink };
