// Which shard `deltascope sweep` runs: --shard wins; else a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX (0-based) with --shard-count or DELTASCOPE_SHARD_COUNT (the option wins);
// else 1/1. Each refusal names what to set.
import { describe, expect, it } from 'vitest';
import { resolveShard } from '../../src/cli/sweepCommand.ts';

describe('resolveShard', () => {
  it('takes --shard over the job index, the job index (0-based) with the count, else 1/1', () => {
    const job = { JOB_COMPLETION_INDEX: '0', DELTASCOPE_SHARD_COUNT: '4' };
    expect(resolveShard({ shard: '3/5' }, job)).toEqual({ index: 3, count: 5 });
    expect(resolveShard({}, job)).toEqual({ index: 1, count: 4 });
    expect(resolveShard({}, { ...job, JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 4, count: 4 });
    expect(resolveShard({ shardCount: '6' }, job)).toEqual({ index: 1, count: 6 });
    expect(resolveShard({}, {})).toEqual({ index: 1, count: 1 });
    expect(resolveShard({}, { DELTASCOPE_SHARD_COUNT: '4' })).toEqual({ index: 1, count: 1 });
  });

  it('refuses a malformed --shard, a job index without a count or past it, and --shard-count alone', () => {
    expect(() => resolveShard({ shard: '0/2' }, {})).toThrow('--shard must be i/n with 1 ≤ i ≤ n');
    expect(() => resolveShard({}, { JOB_COMPLETION_INDEX: '1' })).toThrow(
      'pass --shard-count N or set DELTASCOPE_SHARD_COUNT',
    );
    expect(() => resolveShard({ shardCount: '2' }, { JOB_COMPLETION_INDEX: '2' })).toThrow(
      'JOB_COMPLETION_INDEX 2 is not below the shard count 2 (--shard-count)',
    );
    expect(() => resolveShard({}, { JOB_COMPLETION_INDEX: 'x', DELTASCOPE_SHARD_COUNT: '2' })).toThrow(
      'JOB_COMPLETION_INDEX must be a whole number ≥ 0',
    );
    expect(() => resolveShard({}, { JOB_COMPLETION_INDEX: '0', DELTASCOPE_SHARD_COUNT: '0' })).toThrow(
      'DELTASCOPE_SHARD_COUNT must be a whole number ≥ 1',
    );
    expect(() => resolveShard({ shardCount: '3' }, {})).toThrow(
      '--shard-count goes with JOB_COMPLETION_INDEX',
    );
  });
});
