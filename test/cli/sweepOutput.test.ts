// Shard reports are written beside their path and renamed over it (writeOutput), so a merge job
// polling for shard-*.json never reads a half-written file: whoever holds the old file keeps
// reading it whole (here a hard link to it), no temporary file is left, and its name does not
// match the shard pattern. A device such as /dev/null is written in place.
import { linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandReportArgs } from '../../src/cli/mergeCommand.ts';
import { writeOutput } from '../../src/cli/suiteCommand.ts';

const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeOutput', () => {
  it('replaces a report by rename: the old file stays whole for its readers, no temporary file is left', () => {
    writeFileSync(join(dir, 'shard-1.json'), '{"old": true}\n');
    linkSync(join(dir, 'shard-1.json'), join(dir, 'reader.json'));
    writeOutput('out/../shard-1.json', '{"new": true}\n', dir);
    expect(readFileSync(join(dir, 'shard-1.json'), 'utf8')).toBe('{"new": true}\n');
    expect(readFileSync(join(dir, 'reader.json'), 'utf8')).toBe('{"old": true}\n');
    writeOutput('nested/shard-2.json', '{}\n', dir);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['shard-2.json']);
    expect(readdirSync(dir).sort()).toEqual(['nested', 'reader.json', 'shard-1.json']);
    expect(expandReportArgs(['shard-*.json'], dir)).toEqual(['shard-1.json']);
  });

  it('writes a device in place', () => {
    expect(() => writeOutput('/dev/null', 'x', dir)).not.toThrow();
  });
});
