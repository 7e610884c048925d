import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IdbSuiteRuns, onSuiteRunsChanged, suiteRunLabel } from '../../src/store/suiteRunDb.ts';
import { toJsonReport } from '../../src/suite/reports/json.ts';
import { fixtureResult } from '../suite/reportFixture.ts';

describe('the stored suite runs (IndexedDB)', () => {
  it('keeps each run with its JSON report, lists them newest first and reads them back as reports', async () => {
    let t = 1000;
    const store = new IdbSuiteRuns('suite-runs-test-1', () => (t += 1000));
    const a = fixtureResult();
    const b = { ...fixtureResult(), adapterId: 'org/ft-2' };
    const first = await store.add(a);
    const second = await store.add(b, { label: 'my label', source: 'import' });
    expect(first.label).toBe(suiteRunLabel(a));
    expect(first.label).toBe('org/ft on org/base');
    // Local folders show their last two parts.
    const local = { ...a, adapterId: '../public/models/demo/ft', baseModelId: '/abs/models/demo/base' };
    expect(suiteRunLabel(local)).toBe('demo/ft on demo/base');
    const list = await store.list();
    expect(list.map((r) => r.id)).toEqual([second.id, first.id]);
    expect(list[0]).toMatchObject({
      label: 'my label',
      source: 'import',
      adapterId: 'org/ft-2',
      probeCount: 5,
    });
    expect(list[0]).not.toHaveProperty('report');
    // What comes back is what the JSON report says.
    expect(toJsonReport(await store.get(first.id))).toBe(toJsonReport(a));
    await store.delete(first.id);
    expect((await store.list()).map((r) => r.id)).toEqual([second.id]);
    await expect(store.get(first.id)).rejects.toThrow(/is not stored any more/);
    store.close();
  });

  it('save never throws (a suite must not fail because it could not be kept), and says whether it stored', async () => {
    const store = new IdbSuiteRuns('suite-runs-test-2');
    expect(await store.save(fixtureResult())).toBe(true);
    expect(await store.list()).toHaveLength(1);
    store.close();
    // A newer version of the database (another build's tab) cannot be opened by this one.
    await new Promise((r) => setTimeout(r, 10));
    (await openDB('suite-runs-test-2', 9)).close();
    const old = new IdbSuiteRuns('suite-runs-test-2');
    expect(await old.save(fixtureResult())).toBe(false);
    await expect(old.list()).rejects.toMatchObject({ code: 'storage/failed' });
    await expect(old.list()).rejects.toThrow(
      /Could not list the stored suite runs in this browser's IndexedDB/,
    );
    old.close();
  });

  it('announces every stored and deleted run to listeners of the same database', async () => {
    const store = new IdbSuiteRuns('suite-runs-test-3');
    const heard: string[] = [];
    const off = onSuiteRunsChanged(() => heard.push('changed'), 'suite-runs-test-3');
    const offOther = onSuiteRunsChanged(() => heard.push('other db'), 'another-db');
    const run = await store.add(fixtureResult());
    await store.delete(run.id);
    await new Promise((r) => setTimeout(r, 50));
    off();
    offOther();
    expect(heard).toEqual(['changed', 'changed']);
    store.close();
  });
});
