import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirNullStatsCache, cliNullStatsCache, nullStatsDir } from '../../src/cli/nullStatsDir.ts';

const dir = mkdtempSync(join(tmpdir(), 'deltascope-null-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the CLI null-stats folder', () => {
  it('resolves ours, then sway’s variable, then XDG, then ~/.cache; either disable switch turns it off', () => {
    expect(nullStatsDir({ DELTASCOPE_NULL_CACHE_DIR: '/a', SWAY_NULL_CACHE_DIR: '/b' })).toBe('/a');
    expect(nullStatsDir({ SWAY_NULL_CACHE_DIR: '/b', XDG_CACHE_HOME: '/x' })).toBe('/b');
    expect(nullStatsDir({ SWAY_NULL_CACHE_DIR: '~/packed' })).toBe(join(homedir(), 'packed'));
    expect(nullStatsDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/deltascope/null-stats');
    expect(nullStatsDir({ HOME: '/home/u' })).toBe('/home/u/.cache/deltascope/null-stats');
    expect(nullStatsDir({ DELTASCOPE_NULL_CACHE_DIR: '/a', DELTASCOPE_DISABLE_NULL_CACHE: '1' })).toBeNull();
    expect(nullStatsDir({ SWAY_DISABLE_NULL_CACHE: '1' })).toBeNull();
    expect(cliNullStatsCache({ SWAY_DISABLE_NULL_CACHE: '1' })).toBeUndefined();
    expect(cliNullStatsCache({ DELTASCOPE_NULL_CACHE_DIR: '/a' })?.where).toBe('/a');
  });

  it('writes <key>.json atomically (no temporary file left), reads it back, and reads junk as a miss', async () => {
    const cache = new DirNullStatsCache(join(dir, 'nested', 'stats'));
    expect(await cache.get('k1')).toBeNull();
    await cache.put('k1', { format: 'x', values: [1, 2.5] });
    expect(await cache.get('k1')).toEqual({ format: 'x', values: [1, 2.5] });
    expect(readdirSync(cache.where)).toEqual(['k1.json']);
    writeFileSync(join(cache.where, 'k2.json'), '{"truncated": ');
    expect(await cache.get('k2')).toBeNull();
  });

  it('a folder it cannot write is not an error', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const cache = new DirNullStatsCache(join(file, 'stats'));
    await expect(cache.put('k', { a: 1 })).resolves.toBeUndefined();
    expect(await cache.get('k')).toBeNull();
  });
});
