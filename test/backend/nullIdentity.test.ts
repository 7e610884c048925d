// The null-stats identity of a base + adapter pair stands for the base's weights by the SHA-256 of
// its files (as the load hashes them for provenance), not by their size: a base retrained in place
// with the same architecture — same folder, same size, other bytes — is another identity, so the
// null-stats disk cache (shared across a sweep's shards) does not hand it stale statistics.
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterPairBackend } from '../../src/backend/adapterPair.ts';
import { openPair } from '../../src/backend/index.ts';
import type { ModelSource } from '../../src/backend/modelSource.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo');
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-null-identity-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const base = join(scratch, 'base');
cpSync(join(DEMO, 'base'), base, { recursive: true });
const onnx = join(base, 'onnx', 'model.onnx');

const source: Extract<ModelSource, { kind: 'pair' }> = {
  kind: 'pair',
  base: { kind: 'dir', path: base },
  ft: {
    kind: 'adapter',
    base: { kind: 'dir', path: base },
    adapter: { kind: 'dir', path: join(DEMO, 'adapter') },
  },
};

async function identity(): Promise<{ identity: string | undefined; sha256: string | undefined }> {
  const b = await openPair(source, { warmup: false });
  try {
    if (!(b instanceof AdapterPairBackend)) throw new Error('expected runtime LoRA');
    const sha256 = b.info.files?.find((f) => f.role === 'base' && f.path === 'onnx/model.onnx')?.sha256;
    return { identity: b.nullIdentity, sha256 };
  } finally {
    await b.dispose();
  }
}

describe('null-stats identity of a base + adapter pair', () => {
  it('is the same for the same bytes and another for a base of the same size with other bytes', async () => {
    const first = await identity();
    expect(first.identity).toBeDefined();
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await identity()).identity).toBe(first.identity);

    // Retrained in place: one weight's lowest bit flipped (a byte in the middle of the graph's
    // initializers), the file's size unchanged.
    const bytes = readFileSync(onnx);
    const size = bytes.length;
    bytes[Math.floor(size / 2)]! ^= 1;
    writeFileSync(onnx, bytes);
    expect(statSync(onnx).size).toBe(size);

    const retrained = await identity();
    expect(retrained.sha256).not.toBe(first.sha256);
    expect(retrained.identity).not.toBe(first.identity);
  }, 60_000);
});
