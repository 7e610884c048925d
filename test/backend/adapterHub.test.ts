// A hub base + a hub PEFT adapter in Node: a loopback server in the hub's URL layout
// (`/<org>/<repo>/resolve/<revision>/<file>`) serves the demo base and the demo adapter, and openPair
// opens {base: hub, ft: {kind: adapter, base: hub, adapter: hub}} as the same model the local folders
// give; an adapter repo without adapter_model.safetensors is refused naming the file.
// (The server is test/helpers/hubServer.ts, shared with modelLoading and downloadFaults; this test
// adds a revision other than main and a repo that lacks one file.)
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ModelLoadError,
  openPair,
  type DifferentialBackend,
  type ModelLocation,
  type ModelSource,
} from '../../src/backend/index.ts';
import { ADAPTER_WEIGHTS_FILE } from '../../src/backend/adapterPair.ts';
import { startHubServer, type HubServer } from '../helpers/hubServer.ts';

const DEMO = resolve(import.meta.dirname, '../../public/models/deltascope-demo');
const REVISION = 'v1';
/** Repo id → folder served, and the files it lacks. */
const REPOS = {
  'acme/demo-base': { dir: join(DEMO, 'base') },
  'acme/demo-lora': { dir: join(DEMO, 'adapter') },
  'acme/demo-lora-bin': { dir: join(DEMO, 'adapter'), without: [ADAPTER_WEIGHTS_FILE] },
};
const PROMPTS = ['The keeper of the old lighthouse', 'It was a sunny day and', 'hello'];

let server: HubServer;
let host = '';

beforeAll(async () => {
  // Serves `/<org>/<repo>/resolve/<revision>/<file>` (HEAD and byte ranges too), revision v1 only.
  server = await startHubServer({ repos: REPOS, revisions: [REVISION] });
  host = server.host;
});

afterAll(() => server?.close());

const hub = (id: string): ModelLocation => ({ kind: 'hub', id, revision: REVISION, host });
const adapterPair = (base: ModelLocation, adapter: ModelLocation): ModelSource => ({
  kind: 'pair',
  base,
  ft: { kind: 'adapter', base, adapter },
});

/** Each prompt's next-token logprob of every token, by token id. */
async function fullLogprobs(pair: DifferentialBackend, view: 'base' | 'ft'): Promise<Float32Array[]> {
  const vocab = pair.info.vocabSize;
  const dists = await pair[view].nextTokenDistBatch(PROMPTS, { topK: vocab });
  return dists.map((d) => {
    const out = new Float32Array(vocab);
    d.tokenIds.forEach((id, i) => (out[id] = d.logprobs[i]!));
    return out;
  });
}

describe('base + adapter from the hub', () => {
  it('opens as the pair the local folders give: ft’s and base’s logprobs equal', async () => {
    const fromHub = await openPair(adapterPair(hub('acme/demo-base'), hub('acme/demo-lora')), {
      warmup: false,
    });
    const local = { kind: 'dir', path: join(DEMO, 'base') } as const;
    const fromDisk = await openPair(adapterPair(local, { kind: 'dir', path: join(DEMO, 'adapter') }), {
      warmup: false,
    });
    try {
      // Both repos were read from the server, at the revision asked for.
      const got = (repo: string, file: string) =>
        server.count({ method: 'GET', repo, file, revision: REVISION, range: undefined });
      expect(got('acme/demo-base', 'config.json')).toBeGreaterThan(0);
      expect(got('acme/demo-lora', 'adapter_config.json')).toBe(1);
      expect(got('acme/demo-lora', ADAPTER_WEIGHTS_FILE)).toBe(1);
      expect(fromHub.info.vocabSize).toBe(fromDisk.info.vocabSize);
      const [hubFt, diskFt, hubBase, diskBase] = await Promise.all([
        fullLogprobs(fromHub, 'ft'),
        fullLogprobs(fromDisk, 'ft'),
        fullLogprobs(fromHub, 'base'),
        fullLogprobs(fromDisk, 'base'),
      ]);
      expect(hubFt).toEqual(diskFt);
      expect(hubBase).toEqual(diskBase);
      // ft is the adapter's view, not a second copy of base.
      expect(hubFt).not.toEqual(hubBase);
    } finally {
      await Promise.all([fromHub.dispose(), fromDisk.dispose()]);
    }
  }, 120_000);

  it('an adapter repo without adapter_model.safetensors is refused naming the file', async () => {
    const opened = openPair(adapterPair(hub('acme/demo-base'), hub('acme/demo-lora-bin')), { warmup: false });
    const err = await opened.then(
      async (p) => {
        await p.dispose();
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    const e = err as ModelLoadError;
    expect(e.code).toBe('model-load/missing-file');
    expect(e.input).toBe(ADAPTER_WEIGHTS_FILE);
    expect(e.message).toContain(ADAPTER_WEIGHTS_FILE);
    expect(e.message).toContain('acme/demo-lora-bin');
    // A 404 is not retried: asked once.
    expect(server.count({ method: 'GET', repo: 'acme/demo-lora-bin', file: ADAPTER_WEIGHTS_FILE })).toBe(1);
  }, 60_000);
});
