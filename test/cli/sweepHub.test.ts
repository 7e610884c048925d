// A sweep whose checkpoints are hub repos at a revision (a local server in the hub's layout,
// $DELTASCOPE_HUB_HOST): the base (also from the hub) loads once and each adapter is swapped onto
// it from HTTP; every number equals the same sweep over the same adapters as local folders, and
// each result's provenance names the hub repo and revision.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { SweepReport } from '../../src/suite/sweep.ts';
import { startHubServer, type HubServer } from '../helpers/hubServer.ts';
import { writeScaledDemoAdapter } from '../backend/adapterSwapFixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-hub-'));
const FACTORS = { early: 0.4, late: 1.2 } as const;
let server: HubServer;

beforeAll(async () => {
  for (const [name, f] of Object.entries(FACTORS)) writeScaledDemoAdapter(join(dir, name), f);
  server = await startHubServer({
    repos: {
      'org/demo-base': { dir: join(ROOT, 'public/models/deltascope-demo/base') },
      'org/lora-early': { dir: join(dir, 'early') },
      'org/lora-late': { dir: join(dir, 'late') },
    },
    revisions: ['main', 'step-100'],
  });
  const suite = join(ROOT, 'examples/demo-adapter.yaml');
  writeFileSync(
    join(dir, 'hub.yaml'),
    `version: 1\nbase: org/demo-base\nsuite: ${suite}\nadapters:\n` +
      '  - {name: early, hub: org/lora-early, revision: step-100}\n  - {name: late, hub: org/lora-late, revision: step-100}\n',
  );
  writeFileSync(
    join(dir, 'local.yaml'),
    `version: 1\nbase: org/demo-base\nsuite: ${suite}\nadapters:\n  - {path: early}\n  - {path: late}\n`,
  );
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function sweep(spec: string, out: string): Promise<SweepReport> {
  let stderr = '';
  const io: CliIo = {
    out: () => {},
    err: (t) => (stderr += t),
    cwd: dir,
    env: { DELTASCOPE_DISABLE_NULL_CACHE: '1', DELTASCOPE_HUB_HOST: server.host },
  };
  const code = await runCli(['sweep', spec, '--json', out], io);
  expect(stderr).not.toMatch(/error/i);
  expect(code).toBe(0);
  return JSON.parse(readFileSync(join(dir, out), 'utf8')) as SweepReport;
}

/** Every probe's numbers (not its duration). */
const scores = (r: SweepReport) =>
  r.results.map((e) =>
    (e.report.probes as Record<string, unknown>[]).map(({ duration_s: _, ...numbers }) => numbers),
  );

describe('deltascope sweep over hub checkpoints', () => {
  it('swaps hub adapters onto a hub base; numbers equal the same adapters as folders', async () => {
    const hub = await sweep('hub.yaml', 'hub.json');
    expect(hub.results.map((r) => [r.label, r.ref])).toEqual([
      ['early', 'org/lora-early@step-100'],
      ['late', 'org/lora-late@step-100'],
    ]);
    expect(hub.runs[0]!.loads.map((l) => l.how)).toEqual(['loaded', 'swapped']);
    expect(server.count({ method: 'GET', repo: 'org/lora-late', file: 'adapter_model.safetensors' })).toBe(1);
    const provenance = hub.results.map(
      (r) => (r.report.provenance as { adapter: { id: string; revision: string } }).adapter,
    );
    expect(provenance.map((a) => `${a.id}@${a.revision}`)).toEqual([
      'org/lora-early@step-100',
      'org/lora-late@step-100',
    ]);
    const local = await sweep('local.yaml', 'local.json');
    expect(scores(hub)).toEqual(scores(local));
    expect(scores(hub)[0]).not.toEqual(scores(hub)[1]);
  }, 300_000);
});
