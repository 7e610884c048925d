import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { NullStatsCache } from '../probes/types.ts';

const DB_NAME = 'deltascope-null-stats';
const STORE = 'entries';

interface NullStatsDbSchema extends DBSchema {
  entries: { key: string; value: { key: string; value: unknown; savedAt: number } };
}

/**
 * The workbench's null-stats cache: one IndexedDB database of its own (the trace database's
 * versions stay untouched), an entry per calibration key. Any storage failure (private mode, quota,
 * a blocked upgrade) reads as a miss and a write that does not happen: the cache only saves time.
 */
export class IdbNullStatsCache implements NullStatsCache {
  readonly where = 'this browser (IndexedDB)';
  private db: Promise<IDBPDatabase<NullStatsDbSchema>> | null = null;

  constructor(private readonly name = DB_NAME) {}

  private open(): Promise<IDBPDatabase<NullStatsDbSchema>> {
    this.db ??= openDB<NullStatsDbSchema>(this.name, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: 'key' });
      },
    });
    // A failed open is retried next time rather than remembered.
    this.db.catch(() => (this.db = null));
    return this.db;
  }

  async get(key: string): Promise<unknown> {
    try {
      return (await (await this.open()).get(STORE, key))?.value ?? null;
    } catch {
      return null;
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    try {
      await (await this.open()).put(STORE, { key, value, savedAt: Date.now() });
    } catch {
      // Not kept: the next run calibrates again.
    }
  }

  /** Removes every entry (the Traces panel's "clear" and tests); returns how many were removed. */
  async clear(): Promise<number> {
    const db = await this.open();
    const n = await db.count(STORE);
    await db.clear(STORE);
    return n;
  }

  close(): void {
    void this.db?.then((db) => db.close()).catch(() => {});
    this.db = null;
  }
}
