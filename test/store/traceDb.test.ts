import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/core/index.ts';
import { CHUNK_EVENTS } from '../../src/store/traceChunk.ts';
import { foldIntoRun, newRunRecord, openTraceDb } from '../../src/store/traceDb.ts';
import { deleteRun, jsonlChunks, listRuns, readRunPages } from '../../src/store/traceStore.ts';

function ev(run: string, i: number): TraceEvent {
  return {
    ts: 1000 + i,
    probe: 'p',
    view_id: 'base',
    prompt_hash: `${run}-${i}`,
    top_k: 5,
    op: 'next_token_dist',
    wall_ms: 1,
    hit: i % 2 === 0,
    run_id: run,
  } as TraceEvent;
}

/** Writes a database the way version 1 did: one record per event in `events`. */
async function seedVersion1(name: string, runs: Record<string, number>): Promise<void> {
  const v1 = await openDB(name, 1, {
    upgrade(db) {
      const r = db.createObjectStore('runs', { keyPath: 'id' });
      r.createIndex('by_started', 'startedAt');
      const e = db.createObjectStore('events', { autoIncrement: true });
      e.createIndex('by_run', 'run');
      e.createIndex('by_run_seq', ['run', 'seq'], { unique: true });
    },
  });
  const tx = v1.transaction(['runs', 'events'], 'readwrite');
  // Runs interleaved, as two sessions' flushes would leave them.
  const longest = Math.max(...Object.values(runs));
  for (let i = 0; i < longest; i++) {
    for (const [run, n] of Object.entries(runs)) {
      if (i < n) void tx.objectStore('events').add({ run, seq: i, event: ev(run, i) });
    }
  }
  for (const [run, n] of Object.entries(runs)) {
    const record = newRunRecord({ id: run, label: run }, 1);
    foldIntoRun(
      record,
      Array.from({ length: n }, (_, i) => ev(run, i)),
      2,
    );
    void tx.objectStore('runs').put(record);
  }
  await tx.done;
  v1.close();
}

describe('trace database versions', () => {
  it('opening a version 1 database moves its per-event records into chunks, in order', async () => {
    const name = 'v1-migrate';
    await seedVersion1(name, { a: CHUNK_EVENTS + 2, b: 3 });
    const db = await openTraceDb(name);
    expect(db.version).toBe(2);
    expect(await db.count('events')).toBe(0);
    expect((await db.getAll('chunks')).map((c) => [c.run, c.seq, c.count])).toEqual([
      ['a', 0, CHUNK_EVENTS],
      ['a', CHUNK_EVENTS, 2],
      ['b', 0, 3],
    ]);
    expect((await listRuns(db)).map((r) => [r.id, r.eventCount])).toEqual(
      expect.arrayContaining([
        ['a', CHUNK_EVENTS + 2],
        ['b', 3],
      ]),
    );
    const hashes: string[] = [];
    for await (const page of readRunPages(db, 'a', 100)) hashes.push(...page.map((e) => e.prompt_hash));
    expect(hashes).toEqual(Array.from({ length: CHUNK_EVENTS + 2 }, (_, i) => `a-${i}`));
    let text = '';
    for await (const c of jsonlChunks(db, 'b')) text += c;
    expect(text.split('\n')[0]).toBe(
      '{"ts": 1000.0, "probe": "p", "view_id": "base", "prompt_hash": "b-0", "top_k": 5, "op": "next_token_dist", "wall_ms": 1.0, "hit": true, "run_id": "b"}',
    );
    expect(await deleteRun(db, 'a')).toBe(CHUNK_EVENTS + 2);
    expect(await db.count('chunks')).toBe(1);
    db.close();
  });

  it('a new database starts at version 2 with empty stores', async () => {
    const db = await openTraceDb('fresh');
    expect(db.version).toBe(2);
    expect([...db.objectStoreNames].sort()).toEqual(['chunks', 'events', 'runs']);
    db.close();
  });
});
