// Every pair reports what it was opened from: the models (ids, revisions) and the SHA-256 of each
// ONNX and adapter file it read, equal to node:crypto's hash of the file on disk. Covers the demo
// pair (files onnxruntime-node opens by path, hashed from disk), the demo base + adapter (the base's
// graph and the adapter's files hashed as deltascope reads them), and a hub pair in Node: hashed as
// it downloads (a connection cut mid-file and resumed included), then from transformers.js's file
// cache when a second load downloads nothing.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPair, type ModelSource } from '../../src/backend/index.ts';
import type { ModelFileHash } from '../../src/backend/types.ts';
import { hubCommit, startHubServer, type HubServer } from '../helpers/hubServer.ts';

const DEMO = resolve(import.meta.dirname, '../../public/models/deltascope-demo');
const REVISION = 'r2';

const onDisk = (dir: string, path: string) => {
  const bytes = readFileSync(join(DEMO, dir, path));
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
};
const expected = (role: ModelFileHash['role'], dir: string, path: string): ModelFileHash => ({
  role,
  path,
  ...onDisk(dir, path),
});

describe('provenance of a local pair', () => {
  it('the demo pair: base’s and ft’s ONNX graphs, hashed as on disk', async () => {
    const pair = await openPair({ kind: 'demo' }, { warmup: false });
    try {
      expect(pair.info.files).toEqual([
        expected('base', 'base', 'onnx/model.onnx'),
        expected('ft', 'ft', 'onnx/model.onnx'),
      ]);
      // The two graphs differ, so a swapped file would show.
      expect(pair.info.files![0]!.sha256).not.toBe(pair.info.files![1]!.sha256);
      expect(pair.info.models).toEqual({
        base: { id: 'demo model base', revision: null },
        ft: { id: 'demo model ft', revision: null },
        adapter: null,
      });
    } finally {
      await pair.dispose();
    }
  });

  it('the demo base + adapter: the base graph and both adapter files, hashed as read', async () => {
    const pair = await openPair({ kind: 'demo', adapter: true }, { warmup: false });
    try {
      expect(pair.info.files).toEqual([
        expected('base', 'base', 'onnx/model.onnx'),
        expected('adapter', 'adapter', 'adapter_config.json'),
        expected('adapter', 'adapter', 'adapter_model.safetensors'),
      ]);
      expect(pair.info.models).toEqual({
        base: { id: 'demo model base', revision: null },
        ft: null,
        adapter: { id: 'demo adapter', revision: null, name: 'demo adapter' },
      });
    } finally {
      await pair.dispose();
    }
  });

  it('a folder adapter is named by its folder', async () => {
    const base = { kind: 'dir', path: join(DEMO, 'base') } as const;
    const pair = await openPair(
      {
        kind: 'pair',
        base,
        ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: join(DEMO, 'adapter') } },
      },
      { warmup: false },
    );
    try {
      expect(pair.info.models?.adapter?.name).toBe('adapter');
      expect(pair.info.models?.base).toEqual({ id: `folder ${join(DEMO, 'base')}`, revision: null });
    } finally {
      await pair.dispose();
    }
  });
});

describe('provenance of a hub pair in Node', () => {
  let server: HubServer;
  let scratch = '';
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'deltascope-provenance-'));
    server = await startHubServer({
      repos: { 'acme/base': { dir: join(DEMO, 'base') }, 'acme/ft': { dir: join(DEMO, 'ft') } },
      // transformers.js probes tokenizer_config.json at main whatever the revision asked for.
      revisions: [REVISION, 'main'],
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  const source = (): ModelSource => ({
    kind: 'pair',
    base: { kind: 'hub', id: 'acme/base', revision: REVISION, host: server.host },
    ft: { kind: 'hub', id: 'acme/ft', revision: REVISION, host: server.host },
  });
  const want = [expected('base', 'base', 'onnx/model.onnx'), expected('ft', 'ft', 'onnx/model.onnx')];
  const onnxGets = () =>
    server.requests.filter((r) => r.method === 'GET' && r.file === 'onnx/model.onnx').length;

  it('hashes the graphs as they download (resumed after a cut), then from the file cache', async () => {
    // The base graph's first GET is cut after 100 kB: the rest comes with a Range request.
    server.setFault((r) =>
      r.repo === 'acme/base' && r.file === 'onnx/model.onnx' && r.method === 'GET' && r.nth === 1 && !r.range
        ? { closeAfter: 100_000 }
        : undefined,
    );
    const cacheDir = join(scratch, 'cache');
    const first = await openPair(source(), { warmup: false, cacheDir, retry: { baseDelayMs: 1 } });
    try {
      expect(first.info.files).toEqual(want);
      // The revision as asked, and the commit the hub said it resolved to (X-Repo-Commit).
      expect(first.info.models).toEqual({
        base: { id: 'acme/base', revision: REVISION, commit: hubCommit('acme/base', REVISION) },
        ft: { id: 'acme/ft', revision: REVISION, commit: hubCommit('acme/ft', REVISION) },
        adapter: null,
      });
      // Resumed once, from where the cut body ended (up to 100 kB: the server's socket may drop
      // bytes it had not sent yet when it closes).
      const resumed = server.requests
        .filter((r) => r.repo === 'acme/base' && r.file === 'onnx/model.onnx' && r.method === 'GET')
        .map((r) => /^bytes=([1-9]\d*)-$/.exec(r.range ?? '')?.[1])
        .filter((from) => from !== undefined);
      expect(resumed).toHaveLength(1);
      expect(Number(resumed[0])).toBeLessThanOrEqual(100_000);
    } finally {
      await first.dispose();
    }
    server.setFault(undefined);
    const gets = onnxGets();
    const second = await openPair(source(), { warmup: false, cacheDir });
    try {
      expect(onnxGets()).toBe(gets); // nothing downloaded: both graphs came from the cache
      expect(second.info.files).toEqual(want);
    } finally {
      await second.dispose();
    }
  });
});
