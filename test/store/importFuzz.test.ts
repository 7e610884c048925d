// The JSONL importer on any input: it imports what is valid, or refuses with the project's typed
// error, and never leaves a half-written run behind.
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltascopeError } from '../../src/core/errors.ts';
import { openTraceDb } from '../../src/store/traceDb.ts';
import { importJsonl } from '../../src/store/traceImport.ts';
import { listRuns } from '../../src/store/traceStore.ts';

const EVENT = {
  ts: 1.5,
  probe: 'p',
  view_id: 'base',
  prompt_hash: 'ab',
  top_k: 4,
  op: 'next_token_dist',
  wall_ms: 2,
  hit: false,
};

/** Lines that are sometimes events, sometimes near-misses, sometimes junk. */
const line = fc.oneof(
  fc.constant(JSON.stringify(EVENT)),
  fc
    .record({ ts: fc.oneof(fc.double(), fc.string()), op: fc.string(), hit: fc.anything() })
    .map((o) => JSON.stringify({ ...EVENT, ...o })),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  // One line each: a line break inside would make two.
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
);

describe('JSONL import on any input', () => {
  it('imports or throws a typed error; a refused file leaves no run', async () => {
    const db = await openTraceDb('import-fuzz');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 12 }),
        fc.constantFrom('\n', '\r\n'),
        async (lines, eol) => {
          const runId = `fuzz-${n++}`;
          const file = new File([lines.join(eol)], 'fuzz.jsonl');
          try {
            const r = await importJsonl(db, file, { runId });
            expect(r.imported).toBeGreaterThan(0);
            expect(r.imported + r.skipped).toBeLessThanOrEqual(lines.length);
          } catch (e) {
            expect(e).toBeInstanceOf(DeltascopeError);
            expect((await listRuns(db)).map((run) => run.id)).not.toContain(runId);
          }
        },
      ),
      { numRuns: 150 },
    );
    db.close();
  });
});
