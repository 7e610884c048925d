// Every suite the workbench finishes is kept for "Compare suite runs": the worker session on the
// fake pair, with IndexedDB from fake-indexeddb, runs a suite twice; both runs are stored with their
// JSON reports, and comparing them reads the same reports back.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IdbSuiteRuns } from '../../src/store/suiteRunDb.ts';
import { buildCompareMatrix } from '../../src/suite/reports/compare.ts';
import { toJsonReport } from '../../src/suite/reports/json.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import { APP, REQ, fakeSuiteSpec } from '../worker/sessionFixtures.ts';

const SPEC = fakeSuiteSpec(
  16,
  `  - name: shift
    kind: delta_kl
    prompts: ["saved run prompt one", "saved run prompt two"]
`,
);

async function storedRuns(store: IdbSuiteRuns, n: number) {
  // The session stores a finished run without waiting for the write.
  for (let i = 0; i < 100; i++) {
    const list = await store.list();
    if (list.length >= n) return list;
    await new Promise((r) => setTimeout(r, 20));
  }
  return store.list();
}

describe('suite runs kept for comparing', () => {
  it('each finished suite is stored with its report; two runs of one suite compare with no change', async () => {
    const store = new IdbSuiteRuns();
    const before = (await store.list()).length;
    const session = new WorkbenchSession(undefined, APP);
    await session.init(APP);
    await session.load(REQ, () => {});
    const first = await session.runSuite(SPEC, () => {});
    const second = await session.runSuite(SPEC, () => {});
    const list = await storedRuns(store, before + 2);
    expect(list).toHaveLength(before + 2);
    const [newest, older] = list;
    expect(newest!.source).toBe('live');
    expect(newest!.probeCount).toBe(1);
    const [a, b] = await Promise.all([store.get(older!.id), store.get(newest!.id)]);
    expect(toJsonReport(a)).toBe(toJsonReport(first));
    expect(toJsonReport(b)).toBe(toJsonReport(second));
    const m = buildCompareMatrix([
      { label: 'A', result: a },
      { label: 'B', result: b },
    ]);
    expect(m.rows.map((r) => r.name)).toEqual(['shift']);
    expect(m.rows[0]!.changed).toBe(false);
    expect(m.regressions).toEqual([]);
    store.close();
  });
});
