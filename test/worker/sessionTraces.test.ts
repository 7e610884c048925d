// The worker session with its IndexedDB trace store (fake-indexeddb): a load that fails or is
// cancelled leaves no empty run in Traces; a successful one keeps its run.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/backend/index.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import type { PairOpener } from '../../src/worker/pairHost.ts';
import { APP, REQ, fakeLoader } from './sessionFixtures.ts';

describe('WorkbenchSession traces across loads', () => {
  it('drops the empty run of a failed load and keeps the run of a successful one', async () => {
    let fail = true;
    const loader: PairOpener = async (_pair, opts) => {
      if (fail)
        throw new ModelLoadError(
          'model-load/missing-file',
          'hub model org/base-model@main: missing tokenizer.json.',
        );
      return fakeLoader()(_pair, opts);
    };
    const session = new WorkbenchSession(loader, APP);
    await session.init(APP);
    await expect(session.load(REQ, () => {})).rejects.toThrow(/missing tokenizer.json/);
    await expect.poll(async () => (await session.listRuns()).length).toBe(0);
    fail = false;
    await session.load(REQ, () => {});
    await session.compare('a prompt', 3);
    const runs = await session.listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.eventCount).toBe(2);
  });
});
