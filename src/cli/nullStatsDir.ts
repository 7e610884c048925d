import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NullStatsCache } from '../probes/types.ts';

/**
 * Where the CLI keeps null statistics, sway's resolution order with our names first:
 * `$DELTASCOPE_NULL_CACHE_DIR`, then sway's `$SWAY_NULL_CACHE_DIR` (both used verbatim, so a folder
 * of `<key>.json` files can be shipped beside a suite), then `$XDG_CACHE_HOME/deltascope/null-stats`,
 * then `~/.cache/deltascope/null-stats`. `DELTASCOPE_DISABLE_NULL_CACHE=1` (or sway's
 * `SWAY_DISABLE_NULL_CACHE=1`) turns the cache off: null_adapter always calibrates.
 */
export function nullStatsDir(env: Readonly<Record<string, string | undefined>>): string | null {
  if (env.DELTASCOPE_DISABLE_NULL_CACHE === '1' || env.SWAY_DISABLE_NULL_CACHE === '1') return null;
  const override = env.DELTASCOPE_NULL_CACHE_DIR || env.SWAY_NULL_CACHE_DIR;
  if (override) return override.startsWith('~/') ? join(homedir(), override.slice(2)) : override;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'deltascope', 'null-stats');
  return join(env.HOME || homedir(), '.cache', 'deltascope', 'null-stats');
}

/**
 * A folder of `<key>.json` files. Unreadable or malformed files read as a miss; a write goes to a
 * temporary file renamed into place (a crash never leaves half an entry), and a failing write is
 * dropped: the cache saves time, it is never needed for a correct result.
 */
export class DirNullStatsCache implements NullStatsCache {
  constructor(readonly where: string) {}

  get(key: string): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(readFileSync(join(this.where, `${key}.json`), 'utf8')) as unknown);
    } catch {
      return Promise.resolve(null);
    }
  }

  put(key: string, value: unknown): Promise<void> {
    try {
      mkdirSync(this.where, { recursive: true });
      const path = join(this.where, `${key}.json`);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
      renameSync(tmp, path);
    } catch {
      // Not kept: the next run calibrates again.
    }
    return Promise.resolve();
  }
}

/** The CLI's cache for this environment, or undefined when it is turned off. */
export function cliNullStatsCache(
  env: Readonly<Record<string, string | undefined>>,
): NullStatsCache | undefined {
  const dir = nullStatsDir(env);
  return dir === null ? undefined : new DirNullStatsCache(dir);
}
