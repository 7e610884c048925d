// `--device cpu|webgpu|auto` on the CLI. In-process: a bad value is a usage error, and `probe` on
// WebGPU (onnxruntime-web on Dawn; SwiftShader here and in CI) prints the same top tokens as on CPU.
// As child processes (the Vulkan loader reads its variables once per process): with the driver
// variable naming a missing manifest, `--device webgpu` fails with exit 3 and says why, and `auto`
// falls back to CPU and says so, with the CPU's output.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD } from '../../src/backend/nodeWebgpu.ts';
import { EXIT } from '../../src/cli/errors.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { ProbePromptJson } from '../../src/cli/probeCommand.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/deltascope.mjs');
const DEMO = 'public/models/deltascope-demo';
const PROMPTS = ['The keeper of the old lighthouse', 'It was a sunny day and'];
const PROBE = ['probe', '--base', `${DEMO}/base`, '--ft', `${DEMO}/ft`, '--top-k', '5'];
const PROBE_ARGS = [...PROBE, ...PROMPTS.flatMap((p) => ['--prompt', p])];
const RUN_WEBGPU =
  existsSync(SWIFTSHADER_ICD) ||
  !!process.env.VK_ICD_FILENAMES ||
  !!process.env.VK_DRIVER_FILES ||
  process.env.CI === 'true';

function memoryIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    cwd: ROOT,
    env: {},
  };
  return io;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

async function probeJson(device: string): Promise<ProbePromptJson[]> {
  const io = memoryIo();
  const code = await runCli([...PROBE_ARGS, '--json', '--device', device], io);
  expect(code, io.stderr).toBe(EXIT.ok);
  return (JSON.parse(io.stdout) as { prompts: ProbePromptJson[] }).prompts;
}

describe('--device', () => {
  it('names cpu, webgpu or auto; anything else is a usage error (exit 2) naming the flag', async () => {
    for (const args of [
      [...PROBE_ARGS, '--device', 'cuda'],
      ['run', 'examples/demo-suite.yaml', '--device', 'wasm'],
    ]) {
      const io = memoryIo();
      expect(await runCli(args, io)).toBe(EXIT.usage);
      expect(io.stderr).toMatch(/--device must be cpu, webgpu, auto, got "(cuda|wasm)"/);
    }
  });

  it.skipIf(!RUN_WEBGPU)(
    'probe --device webgpu prints the same top tokens as --device cpu',
    async () => {
      const cpu = await probeJson('cpu');
      const io = memoryIo();
      const code = await runCli([...PROBE_ARGS, '--json', '--device', 'webgpu'], io);
      expect(code, io.stderr).toBe(EXIT.ok);
      expect(io.stderr).toMatch(/^probe on webgpu: .+ via Dawn\n$/);
      const gpu = (JSON.parse(io.stdout) as { prompts: ProbePromptJson[] }).prompts;
      for (let i = 0; i < PROMPTS.length; i++) {
        for (const v of ['base', 'ft'] as const) {
          const [c, g] = [cpu[i]!.views[v]!, gpu[i]!.views[v]!];
          expect(g.token_ids).toEqual(c.token_ids);
          expect(g.tokens).toEqual(c.tokens);
          g.logprobs.forEach((lp, k) => expect(Math.abs(lp - c.logprobs[k]!)).toBeLessThanOrEqual(1e-4));
        }
        expect(Math.abs(gpu[i]!.js - cpu[i]!.js)).toBeLessThanOrEqual(1e-4);
      }
    },
    600_000,
  );

  it.skipIf(!RUN_WEBGPU || !!process.env.VK_ICD_FILENAMES || !!process.env.VK_DRIVER_FILES)(
    'auto passes over a CPU-emulated adapter (SwiftShader) for onnxruntime-node, and says so',
    async () => {
      const io = memoryIo();
      expect(await runCli([...PROBE_ARGS, '--device', 'auto'], io), io.stderr).toBe(EXIT.ok);
      expect(io.stderr).toMatch(
        /^probe on cpu: onnxruntime-node \(CPU\): the WebGPU adapter, SwiftShader.* \(CPU-emulated\), would be slower\n$/,
      );
    },
    120_000,
  );

  describe('without a usable Vulkan driver (child processes)', () => {
    const noDriver: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/vk_icd.json' };
    delete noDriver.VK_DRIVER_FILES;
    delete noDriver.VK_ADD_DRIVER_FILES;
    beforeAll(() => {
      execFileSync(process.execPath, [join(ROOT, 'scripts/buildCli.mjs'), '--quiet'], { cwd: ROOT });
    }, 120_000);

    it('--device webgpu: exit 3 and the reason, naming the missing manifest', async () => {
      const r = await cli([...PROBE_ARGS, '--device', 'webgpu'], noDriver);
      expect(r.code).toBe(EXIT.modelLoad);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        'deltascope: could not load the models: WebGPU was requested but Dawn found no',
      );
      expect(r.stderr).toMatch(
        /VK_ICD_FILENAMES names \/nonexistent\/vk_icd\.json, which does not exist|libvulkan/,
      );
    }, 120_000);

    it('--device auto falls back to CPU, says so, and prints what --device cpu prints', async () => {
      const [auto, cpu] = await Promise.all([
        cli([...PROBE_ARGS, '--device', 'auto'], noDriver),
        cli([...PROBE_ARGS, '--device', 'cpu'], noDriver),
      ]);
      expect(auto.code, auto.stderr).toBe(EXIT.ok);
      expect(auto.stderr).toContain('probe on cpu: onnxruntime-node (CPU): no WebGPU adapter\n');
      expect(cpu.code).toBe(EXIT.ok);
      expect(cpu.stderr).toBe('');
      expect(auto.stdout).toBe(cpu.stdout);
    }, 120_000);
  });
});
