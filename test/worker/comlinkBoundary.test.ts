// The worker session behind a real Comlink channel (a MessageChannel, as between page and worker):
// results arrive as structured clones, errors arrive as DeltascopeErrors with their code, input and
// details, and the unsubscribe functions the session returns work from the other side.
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, DeltascopeError, type ErrorCode } from '../../src/core/index.ts';
import type { PairOpener } from '../../src/worker/pairHost.ts';
import { installErrorTransfer } from '../../src/worker/errorTransfer.ts';
import type { FeedUpdate, WorkbenchApi } from '../../src/worker/workbenchApi.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import { APP, REQ } from './sessionFixtures.ts';

installErrorTransfer();

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function connect(open?: PairOpener): Comlink.Remote<WorkbenchApi> {
  const channel = new MessageChannel();
  channels.push(channel);
  Comlink.expose(new WorkbenchSession(open, APP), channel.port1);
  return Comlink.wrap<WorkbenchApi>(channel.port2);
}

async function rejection(p: Promise<unknown>): Promise<DeltascopeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeltascopeError);
    return e as DeltascopeError;
  }
  throw new Error('expected the call to reject');
}

describe('WorkbenchSession across a Comlink channel', () => {
  it('loads the fake pair and returns cloned results', async () => {
    const remote = connect();
    const progress: string[] = [];
    const info = await remote.load(
      REQ,
      Comlink.proxy((p) => progress.push(p.phase)),
    );
    expect(info).toMatchObject({ device: 'fake', maxBatchSize: 4 });
    await expect.poll(() => progress.at(-1)).toBe('ready');
    const cmp = await remote.compare('The keeper of the lighthouse', 5);
    expect(cmp.base).toHaveLength(5);
    expect(cmp.base[0]).toEqual({
      id: expect.any(Number),
      token: expect.any(String),
      logprob: expect.any(Number),
    });
    expect(cmp.divergence.js).toBeGreaterThan(0);
    expect(cmp.baseMass).toBeGreaterThan(0);
    const gen = await remote.generate('Once', 3);
    expect(gen.prompt).toBe('Once');
  });

  it('errors keep their code, message and input across the boundary', async () => {
    const remote = connect();
    const noPair = await rejection(remote.compare('x', 5));
    expect(noPair.code satisfies ErrorCode).toBe('state/not-ready');
    expect(noPair.message).toMatch(/No model pair is loaded yet/);

    const badHub = await rejection(
      remote.load(
        {
          ...REQ,
          source: { kind: 'pair', base: { kind: 'hub', id: 'not a repo!' }, ft: { kind: 'hub', id: 'a/b' } },
        },
        Comlink.proxy(() => {}),
      ),
    );
    expect(badHub.code).toBe('model-load/bad-source');
    expect(badHub.input).toBe('not a repo!');

    await remote.load(
      REQ,
      Comlink.proxy(() => {}),
    );
    const spec = await rejection(
      remote.runSuite(
        'version: 1\nsuite: [',
        Comlink.proxy(() => {}),
      ),
    );
    expect(spec.code).toBe('spec/invalid');
    expect(Array.isArray(spec.details)).toBe(true);
    expect((spec.details as { line: number }[])[0]!.line).toBeGreaterThan(0);
  });

  it('a cancelled load rejects with a `cancelled` error', async () => {
    // An opener that only stops when its signal aborts, as a long download does.
    const hanging: PairOpener = (_source, opts) =>
      new Promise((_resolve, reject) =>
        opts.signal?.addEventListener('abort', () => reject(new CancelledError('Loading cancelled.'))),
      );
    const remote = connect(hanging);
    const loading = remote.load(
      REQ,
      Comlink.proxy(() => {}),
    );
    await new Promise((r) => setTimeout(r, 20));
    await remote.cancelLoad();
    const err = await rejection(loading);
    expect(err.code).toBe('cancelled');
    expect(err.message).toBe('Loading cancelled.');
  });

  it('subscribe returns an unsubscribe that stops the updates', async () => {
    const remote = connect();
    await remote.load(
      REQ,
      Comlink.proxy(() => {}),
    );
    const updates: FeedUpdate[] = [];
    const unsubscribe = await remote.subscribe(Comlink.proxy((u: FeedUpdate) => void updates.push(u)));
    await expect.poll(() => updates.length).toBe(1);
    await remote.compare('first prompt', 3);
    await expect.poll(() => updates.some((u) => u.events.length > 0), { timeout: 3000 }).toBe(true);
    await unsubscribe();
    const seen = updates.length;
    await remote.compare('second prompt', 3);
    await new Promise((r) => setTimeout(r, 400));
    expect(updates.length).toBe(seen);
  });
});
