// bench:gpu's bundle, checked without packing it (the pack and its end-to-end run take minutes; the
// report in the commit that added this says how they were run): the time-budget plan, which files of
// the native packages travel, and what run.sh hands the Node process.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decideStep, type PlanStep } from '../../scripts/gpuBundle/benchPlan.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('bench:gpu time budget', () => {
  const step = (id: string, essential: boolean, estimateS: number): PlanStep => ({
    id,
    essential,
    estimateS,
  });
  const cpu = step('cpu fp32', true, 120);

  it('runs a step that fits beside the essential steps after it, limited to the time they leave', () => {
    expect(decideStep(step('webgpu fp32', false, 150), [cpu], 400, 10)).toEqual({ run: true, timeoutS: 270 });
  });

  it('skips a step that does not fit, saying what it needed and what was kept', () => {
    const d = decideStep(step('webgpu q4', false, 150), [cpu, step('cpu q4', false, 120)], 250, 10);
    expect(d.run).toBe(false);
    expect(!d.run && d.reason).toBe(
      'skipped for time: needs about 150 s, 120 s left in the budget, after keeping 120 s for cpu fp32',
    );
  });

  it('keeps an essential step even when its estimate does not fit, with at least half the time left', () => {
    expect(decideStep(cpu, [], 100, 10)).toEqual({ run: true, timeoutS: 90 });
    expect(decideStep(step('models fp32', true, 60), [cpu], 150, 10)).toEqual({ run: true, timeoutS: 70 });
    expect(decideStep(cpu, [], 12, 10).run).toBe(false);
  });
});

interface PackModule {
  KEPT_PACKAGES: Record<string, (path: string) => boolean>;
}
const packModule = async () =>
  (await import(pathToFileURL(join(ROOT, 'scripts/gpuBundle/pack.mjs')).href)) as PackModule;

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))],
  );
}

describe('bench:gpu bundle contents', () => {
  it('carries the native parts for linux-x64 only, and no source maps or typings', async () => {
    const { KEPT_PACKAGES } = await packModule();
    const kept = (pkg: string) =>
      walk(join(ROOT, 'node_modules', pkg))
        .filter(KEPT_PACKAGES[pkg]!)
        .sort();
    expect(kept('webgpu')).toEqual(['LICENSE.md', 'dist/linux-x64/dawn.node', 'index.js', 'package.json']);
    expect(kept('onnxruntime-web')).toEqual(['dist/ort-wasm-simd-threaded.asyncify.wasm', 'package.json']);
    const ortNode = kept('onnxruntime-node');
    expect(ortNode.filter((f) => f.startsWith('bin/'))).toEqual([
      'bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    expect(ortNode).toContain('dist/index.js');
    const common = kept('onnxruntime-common');
    expect(common).toContain('dist/cjs/index.js');
    expect(common).toContain('dist/esm/index.js');
    for (const f of [...ortNode, ...common]) expect(f).not.toMatch(/\.(map|d\.ts)$/);
  });
});

describe('bench:gpu run.sh', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** run.sh in a bundle whose "node" prints what it was given, under a clean environment. */
  function runSh(env: Record<string, string>, ...args: string[]): Record<string, string> {
    const dir = mkdtempSync(join(tmpdir(), 'dsb-run-'));
    dirs.push(dir);
    copyFileSync(join(ROOT, 'scripts/gpuBundle/run.sh'), join(dir, 'run.sh'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(
      join(dir, 'bin/node'),
      '#!/bin/sh\necho "ARGS=$*"\necho "LD=$LD_LIBRARY_PATH"\necho "ICD=$VK_DRIVER_FILES"\necho "ICD2=$VK_ICD_FILENAMES"\necho "NODE_OPTIONS=${NODE_OPTIONS-unset}"\n',
    );
    chmodSync(join(dir, 'bin/node'), 0o755);
    const out = execFileSync('sh', [join(dir, 'run.sh'), ...args], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', ...env },
    });
    const seen: Record<string, string> = { dir };
    for (const line of out.split('\n')) {
      const m = /^(ARGS|LD|ICD|ICD2|NODE_OPTIONS)=(.*)$/.exec(line);
      if (m) seen[m[1]!] = m[2]!;
    }
    return seen;
  }

  it('is valid POSIX shell', () => {
    execFileSync('sh', ['-n', join(ROOT, 'scripts/gpuBundle/run.sh')]);
  });

  it('runs the bundled script with the arguments it was given, without NODE_OPTIONS', () => {
    const seen = runSh(
      { NODE_OPTIONS: '--inspect', VK_DRIVER_FILES: '/x.json' },
      '--out',
      '/tmp/o',
      '--quick',
    );
    expect(seen.ARGS).toBe(`${seen.dir}/bench-gpu.mjs --out /tmp/o --quick`);
    expect(seen.NODE_OPTIONS).toBe('unset');
  });

  it('keeps a Vulkan driver manifest the caller set', () => {
    expect(runSh({ VK_ICD_FILENAMES: '/my/icd.json' }).ICD2).toBe('/my/icd.json');
    expect(runSh({ VK_DRIVER_FILES: '/my/icd.json' }).ICD).toBe('/my/icd.json');
  });

  it('puts the packed loader, libGLdispatch and libstdc++ first when told to take them', () => {
    const seen = runSh({ DSB_BUNDLED_LIBS: '1', VK_DRIVER_FILES: '/x.json', LD_LIBRARY_PATH: '/keep' });
    expect(seen.LD!.split(':').slice(0, 3)).toEqual([
      `${seen.dir}/lib/vulkan`,
      `${seen.dir}/lib/glvnd`,
      `${seen.dir}/lib/compat`,
    ]);
    expect(seen.LD!.endsWith(':/keep')).toBe(true);
  });
});
