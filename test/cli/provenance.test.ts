// `deltascope run … --json` says what produced the report: deltascope's version, the spec's path and
// the SHA-256 of its text, the seed, the date, dtype and device, the models, and the SHA-256 of each
// ONNX and adapter file read, equal to node:crypto's hash of the file on disk. In-process, on the
// demo pair (examples/minimal.yaml) and on the demo base + adapter (a one-probe spec of the test's).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import { fromJsonReport } from '../../src/suite/reports/json.ts';
import { DELTASCOPE_VERSION } from '../../src/suite/runner.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO = join(ROOT, 'public/models/deltascope-demo');
const MINIMAL = join(ROOT, 'examples/minimal.yaml');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-provenance-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const file = (role: string, folder: string, path: string) => {
  const bytes = readFileSync(join(DEMO, folder, path));
  return { role, path, bytes: bytes.byteLength, sha256: sha256(bytes) };
};

async function run(spec: string, report: string): Promise<{ raw: Record<string, unknown>; text: string }> {
  let stderr = '';
  const io: CliIo = { out: () => {}, err: (t) => (stderr += t), cwd: dir, env: {} };
  const code = await runCli(['run', spec, '--json', report], io);
  expect(stderr).not.toMatch(/Error|error:/);
  expect(code).toBe(0);
  const text = readFileSync(join(dir, report), 'utf8');
  return { raw: JSON.parse(text) as Record<string, unknown>, text };
}

describe('deltascope run: the report’s provenance', () => {
  it('the demo pair: version, spec hash, seed, date, device, models and both ONNX graphs’ hashes', async () => {
    const before = Date.now();
    const { raw, text } = await run(MINIMAL, 'out/minimal.json');
    const p = raw.provenance as Record<string, unknown>;
    expect(p).toBeDefined();
    expect(p.deltascope_version).toBe(DELTASCOPE_VERSION);
    expect(p.spec_path).toBe(MINIMAL);
    expect(p.spec_sha256).toBe(sha256(readFileSync(MINIMAL)));
    expect(p.seed).toBe((raw.determinism as { seed: number }).seed);
    expect(Date.parse(p.created_at as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(p.dtype).toBe('fp32');
    expect(p.device).toBe('cpu');
    expect(p.base).toEqual({ id: `folder ${join(DEMO, 'base')}`, revision: null });
    expect(p.ft).toEqual({ id: `folder ${join(DEMO, 'ft')}`, revision: null });
    expect(p.adapter).toBeNull();
    expect(p.files).toEqual([file('base', 'base', 'onnx/model.onnx'), file('ft', 'ft', 'onnx/model.onnx')]);
    // And it reads back as written.
    expect(fromJsonReport(text).provenance).toEqual(p);
  }, 120_000);

  it('the demo base + adapter: the base graph and the adapter’s two files, the adapter named', async () => {
    const spec = join(dir, 'adapter.yaml');
    const text = [
      'version: 1',
      'models:',
      `  base: { kind: hf, base: ${join(DEMO, 'base')} }`,
      `  ft: { kind: hf, base: ${join(DEMO, 'base')}, adapter: ${join(DEMO, 'adapter')} }`,
      'defaults:',
      '  seed: 7',
      'suite:',
      '  - name: topic_shift',
      '    kind: delta_kl',
      '    prompts: ["The most famous lantern is called the"]',
      '',
    ].join('\n');
    writeFileSync(spec, text);
    const { raw } = await run('adapter.yaml', 'out/adapter.json');
    const p = raw.provenance as Record<string, unknown>;
    expect(p.spec_path).toBe('adapter.yaml');
    expect(p.spec_sha256).toBe(sha256(text));
    expect(p.seed).toBe(7);
    expect(p.ft).toBeNull();
    expect(p.adapter).toEqual({ id: `folder ${join(DEMO, 'adapter')}`, revision: null, name: 'adapter' });
    expect(p.files).toEqual([
      file('base', 'base', 'onnx/model.onnx'),
      file('adapter', 'adapter', 'adapter_config.json'),
      file('adapter', 'adapter', 'adapter_model.safetensors'),
    ]);
  }, 120_000);
});
