import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IdbNullStatsCache } from '../../src/store/nullStatsDb.ts';

describe('the workbench null-stats cache (IndexedDB)', () => {
  it('keeps entries across instances (a reload), and clears them', async () => {
    const a = new IdbNullStatsCache('null-stats-test-1');
    expect(await a.get('k')).toBeNull();
    await a.put('k', { format: 'f', byRank: { 'rank_1.00': { delta_kl: { mean: 1, std: 0.5, n: 3 } } } });
    a.close();
    const b = new IdbNullStatsCache('null-stats-test-1');
    expect(await b.get('k')).toEqual({
      format: 'f',
      byRank: { 'rank_1.00': { delta_kl: { mean: 1, std: 0.5, n: 3 } } },
    });
    expect(await b.clear()).toBe(1);
    expect(await b.get('k')).toBeNull();
    b.close();
  });

  it('a value IndexedDB cannot store is dropped, not thrown', async () => {
    const c = new IdbNullStatsCache('null-stats-test-2');
    await expect(c.put('k', { f: () => 1 })).resolves.toBeUndefined();
    expect(await c.get('k')).toBeNull();
    c.close();
  });
});
