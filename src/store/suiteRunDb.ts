import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { DeltascopeError } from '../core/errors.ts';
import { fromJsonReport, toJsonReport } from '../suite/reports/json.ts';
import type { Band, SuiteResult } from '../suite/types.ts';

/** A finished suite run as listed: enough to pick it, without its report. */
export interface SuiteRunSummary {
  id: string;
  label: string;
  /** Where it came from: a suite run in this browser, or an imported JSON report. */
  source: 'live' | 'import';
  /** Epoch milliseconds when it was stored (the list's order). */
  savedAt: number;
  finishedAt: string;
  baseModelId: string;
  adapterId: string;
  overall: number;
  band: Band;
  probeCount: number;
}

/** The stored record: the summary and the run's JSON report, exactly as `deltascope run --json` writes it. */
export interface SuiteRunRecord extends SuiteRunSummary {
  report: string;
}

interface SuiteRunDbSchema extends DBSchema {
  runs: { key: string; value: SuiteRunRecord; indexes: { by_saved: number } };
}

export const SUITE_RUN_DB_NAME = 'deltascope-suite-runs';

/** The channel that says "the stored suite runs changed" (the worker stores, the page lists). */
const CHANNEL = 'deltascope-suite-runs';

function announceChange(name: string): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage(name);
  channel.close();
}

/**
 * Calls `listener` whenever a run is stored in or deleted from database `name` — from this context
 * or another (the worker stores a suite's run; the page lists them). Returns the unsubscribe.
 */
export function onSuiteRunsChanged(listener: () => void, name = SUITE_RUN_DB_NAME): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => {};
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (e: MessageEvent) => {
    if (e.data === name) listener();
  };
  return () => channel.close();
}

/** A model id as a label shows it: a local path keeps its last two parts; a hub id stays whole. */
function shortModelId(id: string): string {
  if (!/^(\.{1,2}[\\/]|\/|[A-Za-z]:[\\/])/.test(id)) return id;
  return id
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.' && part !== '..')
    .slice(-2)
    .join('/');
}

/** A short run label: the adapter (or the fine-tuned model) and the base it was run against. */
export function suiteRunLabel(r: SuiteResult): string {
  const ft = shortModelId(r.adapterId) || 'fine-tune';
  return r.baseModelId ? `${ft} on ${shortModelId(r.baseModelId)}` : ft;
}

/**
 * Finished suite runs, kept so that two of them can be compared (the Traces panel's "Compare suite
 * runs"). A database of its own, like the null-stats cache: the trace database's versions stay
 * untouched, and a trace run (one model load) may hold any number of suite runs. Each record keeps
 * the JSON report, so what is compared is what a downloaded report would say.
 */
export class IdbSuiteRuns {
  private db: Promise<IDBPDatabase<SuiteRunDbSchema>> | null = null;

  constructor(
    private readonly name = SUITE_RUN_DB_NAME,
    private readonly now: () => number = Date.now,
  ) {}

  private open(): Promise<IDBPDatabase<SuiteRunDbSchema>> {
    this.db ??= openDB<SuiteRunDbSchema>(this.name, 1, {
      upgrade(db) {
        const runs = db.createObjectStore('runs', { keyPath: 'id' });
        runs.createIndex('by_saved', 'savedAt');
      },
    });
    // A failed open is retried next time rather than remembered.
    this.db.catch(() => (this.db = null));
    return this.db;
  }

  private async guarded<T>(
    what: string,
    job: (db: IDBPDatabase<SuiteRunDbSchema>) => Promise<T>,
  ): Promise<T> {
    try {
      return await job(await this.open());
    } catch (e) {
      if (e instanceof DeltascopeError) throw e;
      throw new DeltascopeError(
        'storage/failed',
        `Could not ${what} in this browser's IndexedDB (${(e as Error).message ?? String(e)}). ` +
          'Private browsing or blocked site data turns storage off; allow site data and reload.',
        { cause: e },
      );
    }
  }

  /** Stores a finished run; returns its summary. */
  async add(
    result: SuiteResult,
    opts: { label?: string; source?: SuiteRunSummary['source'] } = {},
  ): Promise<SuiteRunSummary> {
    const savedAt = this.now();
    const rand = Math.floor(Math.random() * 36 ** 4)
      .toString(36)
      .padStart(4, '0');
    const record: SuiteRunRecord = {
      id: `suite-${Math.floor(savedAt).toString(36)}-${rand}`,
      label: opts.label ?? suiteRunLabel(result),
      source: opts.source ?? 'live',
      savedAt,
      finishedAt: result.finishedAt,
      baseModelId: result.baseModelId,
      adapterId: result.adapterId,
      overall: result.score.overall,
      band: result.score.band,
      probeCount: result.probes.length,
      report: toJsonReport(result),
    };
    await this.guarded('save the suite run', (db) => db.put('runs', record));
    announceChange(this.name);
    const { report: _report, ...summary } = record;
    return summary;
  }

  /**
   * Stores a finished run and never throws: a suite that ran must not fail because it could not be
   * kept for comparing later. Returns whether it was stored.
   */
  async save(result: SuiteResult): Promise<boolean> {
    try {
      await this.add(result);
      return true;
    } catch {
      return false;
    }
  }

  /** Every stored run, newest first, without the reports. */
  async list(): Promise<SuiteRunSummary[]> {
    const all = await this.guarded('list the stored suite runs', (db) =>
      db.getAllFromIndex('runs', 'by_saved'),
    );
    return all.reverse().map(({ report: _report, ...summary }) => summary);
  }

  /** A stored run's result, read back from its JSON report. */
  async get(id: string): Promise<SuiteResult> {
    const record = await this.guarded('read the suite run', (db) => db.get('runs', id));
    if (record === undefined) {
      throw new DeltascopeError(
        'storage/failed',
        `Suite run "${id}" is not stored any more (deleted?). Pick another run.`,
        {
          input: id,
        },
      );
    }
    return fromJsonReport(record.report, record.label);
  }

  async delete(id: string): Promise<void> {
    await this.guarded('delete the suite run', (db) => db.delete('runs', id));
    announceChange(this.name);
  }

  close(): void {
    void this.db?.then((db) => db.close()).catch(() => {});
    this.db = null;
  }
}
