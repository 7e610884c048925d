// The frame queue that spreads chart redraws: at most BUDGET_MS of jobs per animation frame.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

let frames: (() => void)[] = [];
let now = 0;

beforeEach(() => {
  frames = [];
  now = 0;
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  vi.resetModules();
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const tick = () => frames.shift()!();

describe('scheduleFrameJob', () => {
  it('runs slow jobs one per frame, in order, and fast ones together', async () => {
    const { scheduleFrameJob, BUDGET_MS } = await import('../../src/ui/frameQueue.ts');
    const ran: string[] = [];
    const slow = (name: string) => () => {
      ran.push(name);
      now += BUDGET_MS + 1;
    };
    scheduleFrameJob(slow('hit rate'));
    scheduleFrameJob(slow('batch size'));
    scheduleFrameJob(slow('latency'));
    expect(frames).toHaveLength(1);
    tick();
    expect(ran).toEqual(['hit rate']);
    tick();
    tick();
    expect(ran).toEqual(['hit rate', 'batch size', 'latency']);
    expect(frames).toHaveLength(0);

    for (const n of ['a', 'b', 'c']) scheduleFrameJob(() => ran.push(n));
    tick();
    expect(ran.slice(3)).toEqual(['a', 'b', 'c']);
  });

  it('unqueues a job that has not run yet', async () => {
    const { scheduleFrameJob } = await import('../../src/ui/frameQueue.ts');
    const ran: string[] = [];
    scheduleFrameJob(() => ran.push('kept'));
    const cancel = scheduleFrameJob(() => ran.push('dropped'));
    cancel();
    tick();
    expect(ran).toEqual(['kept']);
    // The only job taken back: the frame that was already requested finds nothing to do.
    scheduleFrameJob(() => ran.push('never'))();
    expect(() => tick()).not.toThrow();
    expect(ran).toEqual(['kept']);
  });
});
