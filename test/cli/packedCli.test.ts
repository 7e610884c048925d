// The package as a user gets it: `npm pack` (whose prepack builds the CLI) → `npm install <tarball>`
// into a fresh project → `npx deltascope --help` and a demo `run` from the installed examples. This
// proves the CLI starts with production dependencies only (no tsx) and that the tarball carries the
// build, the demo models and the examples, and nothing else of the repository. The install comes
// from npm's cache (warm after `npm ci`); onnxruntime-node's CUDA download is skipped as README says.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The child's environment: this process's, without what an enclosing `npm test` exported about its
 * own run (lifecycle, package, prefix), which would otherwise describe the wrong project to the
 * inner npm; plus the documented switch that skips onnxruntime-node's CUDA download.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_/i.test(key)) continue;
    if (/^npm_config_(call|local_prefix|yes|allow_scripts|user_agent|npm_version)$/i.test(key)) continue;
    env[key] = value;
  }
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let dir: string;
let pack: PackResult;
let project: string;
let install: Outcome;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deltascope-pack-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT, 120_000);
  expect(packed.code, packed.stderr).toBe(0);
  pack = (JSON.parse(packed.stdout) as PackResult[])[0]!;

  project = join(dir, 'project');
  const pkg = {
    name: 'deltascope-smoke',
    version: '0.0.0',
    private: true,
    // What README tells npm ≥ 11 users to add: deny the CUDA download, allow the harmless rest.
    allowScripts: { 'onnxruntime-node': false, protobufjs: true },
  };
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
  install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, pack.filename)],
    project,
    240_000,
  );
}, 300_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the built CLI, the bin, the examples and the demo models, and none of the repository', () => {
    const paths = pack.files.map((f) => f.path);
    for (const needed of [
      'bin/deltascope.mjs',
      'dist-cli/deltascope.mjs',
      'examples/minimal.yaml',
      'examples/demo-suite.yaml',
      'public/models/deltascope-demo/base/onnx/model.onnx',
      'public/models/deltascope-demo/ft/onnx/model.onnx',
      'package.json',
    ]) {
      expect(paths).toContain(needed);
    }
    const stray = paths.filter((p) => /^(src|test|e2e|bench|scripts|node_modules|dist|reference)\//.test(p));
    expect(stray).toEqual([]);
    // The demo models are most of it (≈ 1.5 MB of ONNX); a bundled dependency would show here.
    expect(pack.size).toBeLessThan(4 * 1024 * 1024);
  });

  it('installs with production dependencies only, without the CUDA download', () => {
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).not.toContain('Unknown');
    const modules = join(project, 'node_modules');
    expect(existsSync(join(modules, 'deltascope/dist-cli/deltascope.mjs'))).toBe(true);
    expect(existsSync(join(modules, 'tsx'))).toBe(false);
    expect(existsSync(join(modules, 'esbuild'))).toBe(false);
    expect(existsSync(join(modules, 'onnxruntime-node'))).toBe(true);
    // The postinstall that downloads CUDA providers from NuGet did not run.
    expect(
      existsSync(join(modules, 'onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so')),
    ).toBe(false);
  });

  it('`npx deltascope --help` prints the usage', async () => {
    const help = await run('npx', ['--no', '--', 'deltascope', '--help'], project, 60_000);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage:');
    expect(help.stdout).toContain('deltascope run <spec.yaml>');
  });

  it('`npx deltascope run` runs the installed minimal example on the installed demo pair', async () => {
    const spec = 'node_modules/deltascope/examples/minimal.yaml';
    const r = await run(
      'npx',
      ['--no', '--', 'deltascope', 'run', spec, '--json', 'out/report.json'],
      project,
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deltascope report: /);
    const report = JSON.parse(readFileSync(join(project, 'out/report.json'), 'utf8')) as {
      probes: { name: string; verdict: string }[];
    };
    expect(report.probes.length).toBeGreaterThan(0);
    expect(report.probes[0]).toMatchObject({ name: 'topic_shift', verdict: 'pass' });
  }, 120_000);

  it('a bad command line exits 2 from the installed build too', async () => {
    const r = await run('npx', ['--no', '--', 'deltascope', 'run'], project, 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('deltascope: missing spec file');
  });
});
