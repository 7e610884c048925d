// `npm run bench:gpu [-- --out DIR] [-- --quick] [-- --budget-s N]`: the 135M-class benchmark on
// WebGPU (onnxruntime-web on Dawn: a real GPU where the machine has one and its Vulkan driver) and on
// the CPU (onnxruntime-node), in one command with a time budget, writing results.json, RESULTS.md and
// bench-gpu.log to the out folder with the adapter named. Built to be carried: scripts/gpuBundle/pack.mjs
// bundles this file with a Node binary and the native modules for a bare GPU machine (no registry,
// no network), where the model is generated first.
//
// Every step runs in a child process of its own (this file again, with --part): a driver that crashes
// or hangs takes one step down, never the run, and a step past its time limit is stopped. The steps,
// in order: probe the WebGPU adapter; build the fp32 model; WebGPU fp32; CPU fp32; then, as the budget
// allows, the q4 model, WebGPU q4, CPU q4 (scripts/gpuBundle/benchPlan.ts decides). Results are
// rewritten after each step, so a run cut off from outside still leaves what it measured.
import { execFileSync, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decideStep, type PlanStep } from '../scripts/gpuBundle/benchPlan.ts';
import type { ScaleDeviceResults } from './lib/results.ts';
import { renderScaleMarkdown } from './lib/scaleReport.ts';

const HELP = `bench:gpu — the 135M-class benchmark on WebGPU (Dawn) and CPU (onnxruntime-node)

  --out DIR        where results.json, RESULTS.md and bench-gpu.log go (default $OUT, else ./gpu-bench-out)
  --quick          the quick workload (fewer repeats)
  --budget-s N     the whole run's time budget in seconds (default 420)
  --models DIR     where the generated models are kept (default: beside the bundle, or .cache/bench-models)
  --devices LIST   webgpu,cpu (default both)
  --dtypes LIST    fp32,q4 (default both, q4 as the budget allows)
  --render         only re-render RESULTS.md from the out folder's results.json
  --liftoff        run onnxruntime-web's wasm with V8's baseline compiler only (always on a CPU-emulated
                   adapter: V8's optimizing compile of the 27 MB .wasm then competes with the emulation)
`;

type Device = 'webgpu' | 'cpu';
type Dtype = 'fp32' | 'q4';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'budget-s': { type: 'string', default: '420' },
    models: { type: 'string' },
    devices: { type: 'string', default: 'webgpu,cpu' },
    dtypes: { type: 'string', default: 'fp32,q4' },
    liftoff: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    // Internal: one step, run by the parent in a child process.
    part: { type: 'string' },
    device: { type: 'string' },
    dtype: { type: 'string' },
    result: { type: 'string' },
    label: { type: 'string' },
  },
  strict: true,
});

const SCRIPT = fileURLToPath(import.meta.url);
const HERE = dirname(SCRIPT);
/** Written by the packer beside the bundled script: the commit and date it was packed from. */
const MANIFEST = join(HERE, 'MANIFEST.json');
const IN_BUNDLE = existsSync(MANIFEST);

/** What the adapter probe found, or why it found nothing. */
interface AdapterReport {
  found: boolean;
  adapter: string | null;
  cpuEmulated: boolean;
  shaderF16: boolean;
  /** Why there is no adapter (the backend's own diagnosis), or why the probe failed. */
  reason: string | null;
}

/** A step's outcome, as the parent records it. */
interface StepRecord {
  id: string;
  status: 'done' | 'skipped' | 'failed' | 'timed-out';
  seconds: number;
  note: string | null;
}

interface GpuBenchResults {
  kind: 'deltascope-bench-gpu';
  env: Record<string, string | number | boolean | null>;
  adapter: AdapterReport | null;
  budgetS: number;
  quick: boolean;
  steps: StepRecord[];
  models: Partial<Record<Dtype, { dir: string; bytes: number; buildS: number }>>;
  scale: ScaleDeviceResults[];
  totalS: number;
}

// ---------------------------------------------------------------------------------------------------
// One step, in a child process: its value goes to the --result file as JSON.

async function runPart(part: string): Promise<void> {
  const resultFile = args.result;
  if (resultFile === undefined) throw new Error('--part needs --result FILE');
  let value: unknown;
  try {
    value = await partValue(part);
  } catch (e) {
    writeFileSync(resultFile, JSON.stringify({ ok: false, error: errorText(e) }));
    console.error(`[${part}] failed: ${errorText(e)}`);
    endNow();
    return;
  }
  writeFileSync(resultFile, JSON.stringify({ ok: true, value }));
  endNow();
}

/**
 * Ends a step's process once its output is flushed, without the teardown of a normal exit: after
 * onnxruntime-web has run, Node waits at exit for V8's background compilation of its 27 MB .wasm
 * (measured here: over 100 s on a loaded 2-core machine), and Dawn and the drivers tear down their
 * threads. The result file is already written, so nothing is lost.
 */
function endNow(): void {
  process.stdout.write('', () => process.stderr.write('', () => process.kill(process.pid, 'SIGKILL')));
}

async function partValue(part: string): Promise<unknown> {
  if (part === 'probe') {
    const gpu = await import('../src/backend/nodeWebgpu.ts');
    const found = await gpu.probeNodeWebGpu();
    const report: AdapterReport =
      found === null
        ? {
            found: false,
            adapter: null,
            cpuEmulated: false,
            shaderF16: false,
            reason: gpu.explainNoAdapter(),
          }
        : {
            found: true,
            adapter: found.adapter,
            cpuEmulated: found.cpuEmulated,
            shaderF16: found.shaderF16,
            reason: null,
          };
    return report;
  }
  const dtype = parseDtype(args.dtype);
  const modelsDir = args.models!;
  if (part === 'models') {
    const { buildBenchModels } = await import('../scripts/demoModel/zoo/benchModels.ts');
    // The generator reports every few MB; the log gets one line every 5 s.
    let last = 0;
    return buildBenchModels({
      outDir: modelsDir,
      dtypes: [dtype],
      onProgress: (line: string) => {
        if (Date.now() - last < 5000) return;
        last = Date.now();
        console.log(line);
      },
    });
  }
  if (part === 'scale') {
    const device = args.device as Device;
    const { scaleBench } = await import('./scale.bench.ts');
    return scaleBench({
      device,
      modelDir: args.models!,
      dtype,
      quick: args.quick,
      log: (line: string) => console.log(line),
      ...(args.label !== undefined ? { deviceLabel: args.label } : {}),
    });
  }
  throw new Error(`unknown --part ${part}`);
}

// ---------------------------------------------------------------------------------------------------
// The parent: plans the steps against the budget, runs each in a child, writes the results.

async function orchestrate(): Promise<number> {
  const t0 = Date.now();
  const budgetS = Number(args['budget-s']);
  if (!Number.isFinite(budgetS) || budgetS <= 0)
    throw new Error(`--budget-s: not a number of seconds: ${args['budget-s']}`);
  const outDir = resolve(args.out ?? process.env.OUT ?? 'gpu-bench-out');
  const modelsRoot = resolve(args.models ?? (IN_BUNDLE ? join(HERE, 'models') : '.cache/bench-models'));
  const devices = parseList(args.devices, ['webgpu', 'cpu'] as const);
  const dtypes = parseList(args.dtypes, ['fp32', 'q4'] as const);
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'deltascope-gpu-'));
  const logFile = createWriteStream(join(outDir, 'bench-gpu.log'));
  const log = (line: string) => {
    console.log(line);
    logFile.write(`${line}\n`);
  };
  const elapsedS = () => (Date.now() - t0) / 1000;

  const results: GpuBenchResults = {
    kind: 'deltascope-bench-gpu',
    env: environment(),
    adapter: null,
    budgetS,
    quick: args.quick,
    steps: [],
    models: {},
    scale: [],
    totalS: 0,
  };
  const save = () => {
    results.totalS = elapsedS();
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, 'RESULTS.md'), renderGpuMarkdown(results));
  };
  log(`[bench:gpu] out ${outDir}; models ${modelsRoot}; budget ${budgetS} s${args.quick ? '; quick' : ''}`);
  log(`[bench:gpu] ${String(results.env.cpus)}; ${String(results.env.gpu ?? 'no nvidia-smi')}`);

  // Estimates (s) before anything is measured: generous for a 16-core machine; later steps of a kind
  // take the measured time of the same device's fp32 step instead.
  const estimate: Record<string, number> = {
    'models fp32': 60,
    'webgpu fp32': 150,
    'cpu fp32': 120,
    'models q4': 45,
    'webgpu q4': 150,
    'cpu q4': 120,
  };
  const wanted: PlanStep[] = [];
  const want = (id: string, essential: boolean) => wanted.push({ id, essential, estimateS: estimate[id]! });
  for (const dtype of dtypes) {
    want(`models ${dtype}`, dtype === 'fp32');
    for (const device of devices) want(`${device} ${dtype}`, device === 'cpu' && dtype === 'fp32');
  }

  const runStep = async (
    id: string,
    partArgs: string[],
    timeoutS: number,
    env: NodeJS.ProcessEnv = {},
    nodeFlags: string[] = [],
  ) => {
    log(
      `[bench:gpu] ${id}: start (limit ${Math.round(timeoutS)} s, ${Math.round(budgetS - elapsedS())} s of the budget left)`,
    );
    const r = await runChild(id, partArgs, timeoutS, work, log, env, nodeFlags);
    results.steps.push({ id, status: r.status, seconds: r.seconds, note: r.error });
    log(`[bench:gpu] ${id}: ${r.status} in ${r.seconds.toFixed(1)} s${r.error ? ` — ${r.error}` : ''}`);
    return r;
  };

  // The adapter first: it decides whether the WebGPU steps run at all, and names the GPU.
  if (devices.includes('webgpu')) {
    const probe = await runStep('probe', ['--part', 'probe'], 60, { VK_LOADER_DEBUG: 'error,warn' });
    results.adapter =
      probe.status === 'done'
        ? (probe.value as AdapterReport)
        : {
            found: false,
            adapter: null,
            cpuEmulated: false,
            shaderF16: false,
            reason: `the probe ${probe.status}: ${probe.error ?? ''}`,
          };
    log(
      results.adapter.found
        ? `[bench:gpu] WebGPU adapter: ${results.adapter.adapter}${results.adapter.cpuEmulated ? ' (CPU-emulated)' : ''}`
        : `[bench:gpu] no WebGPU adapter: ${results.adapter.reason}`,
    );
    save();
  }
  // V8 compiles onnxruntime-web's .wasm with its optimizing tier in the background, and Node's main
  // thread waits for that whenever its event loop is idle: minutes on a busy machine with few cores.
  // On a CPU-emulated adapter the figures are not speed figures, so the baseline compiler alone is
  // enough; on a GPU the optimized code is what the figures should measure, unless --liftoff says so,
  // compiled by one V8 worker thread per core (Node's default is 4: ~60 CPU-seconds of compiling).
  const webgpuNodeFlags =
    args.liftoff || results.adapter?.cpuEmulated === true
      ? ['--liftoff-only']
      : [`--v8-pool-size=${Math.max(4, cpus().length)}`];
  results.env.webgpuNodeFlags = webgpuNodeFlags.join(' ') || null;

  for (let i = 0; i < wanted.length; i++) {
    const step = wanted[i]!;
    const [what, dtypeName] = step.id.split(' ') as [string, Dtype];
    if (what === 'webgpu' && results.adapter?.found !== true) {
      results.steps.push({
        id: step.id,
        status: 'skipped',
        seconds: 0,
        note: `no WebGPU adapter: ${results.adapter?.reason ?? 'not probed'}`,
      });
      continue;
    }
    if (what !== 'models' && results.models[dtypeName] === undefined) {
      results.steps.push({ id: step.id, status: 'skipped', seconds: 0, note: `no ${dtypeName} model` });
      continue;
    }
    // Measured times replace the guesses for the steps still ahead.
    for (const later of wanted.slice(i)) {
      const [laterWhat] = later.id.split(' ');
      const measured = results.steps.find((s) => s.status === 'done' && s.id.startsWith(`${laterWhat} `));
      if (measured !== undefined) later.estimateS = measured.seconds * 1.1;
    }
    // A model is worth building only if at least one step that uses it fits after it.
    const users = wanted.slice(i + 1).filter((s) => what === 'models' && s.id.endsWith(` ${dtypeName}`));
    const asPlanned =
      users.length > 0 && !step.essential
        ? { ...step, estimateS: step.estimateS + Math.min(...users.map((s) => s.estimateS)) }
        : step;
    const decision = decideStep(asPlanned, wanted.slice(i + 1), budgetS - elapsedS());
    if (!decision.run) {
      results.steps.push({ id: step.id, status: 'skipped', seconds: 0, note: decision.reason });
      log(`[bench:gpu] ${step.id}: ${decision.reason}`);
      save();
      continue;
    }
    if (what === 'models') {
      const present = modelFolder(modelsRoot, dtypeName);
      if (present !== null) {
        results.models[dtypeName] = { dir: present.dir, bytes: present.bytes, buildS: 0 };
        results.steps.push({ id: step.id, status: 'done', seconds: 0, note: `given: ${present.dir}` });
        log(`[bench:gpu] ${step.id}: using the model folder ${present.dir} as given`);
        continue;
      }
      const r = await runStep(
        step.id,
        ['--part', 'models', '--models', modelsRoot, '--dtype', dtypeName],
        decision.timeoutS,
      );
      if (r.status === 'done') {
        const built = r.value as { dir: string; bytes: number };
        results.models[dtypeName] = { dir: built.dir, bytes: built.bytes, buildS: r.seconds };
      }
    } else {
      const modelDir = results.models[dtypeName]!.dir;
      const partArgs = ['--part', 'scale', '--models', modelDir, '--dtype', dtypeName, '--device', what];
      if (args.quick) partArgs.push('--quick');
      const r = await runStep(
        step.id,
        partArgs,
        decision.timeoutS,
        {},
        what === 'webgpu' ? webgpuNodeFlags : [],
      );
      if (r.status === 'done') results.scale.push(r.value as ScaleDeviceResults);
    }
    save();
  }
  save();
  rmSync(work, { recursive: true, force: true });
  log(
    `[bench:gpu] done in ${elapsedS().toFixed(0)} s: ${results.scale.length} device run(s); ${join(outDir, 'RESULTS.md')}`,
  );
  for (const line of summaryLines(results)) log(line);
  await new Promise((done) => logFile.end(done));
  return results.scale.length > 0 ? 0 : 1;
}

interface ChildResult {
  status: 'done' | 'failed' | 'timed-out';
  seconds: number;
  value: unknown;
  error: string | null;
}

/** Runs this script with `partArgs` in a child; its output lines go to the log, prefixed. */
function runChild(
  id: string,
  partArgs: string[],
  timeoutS: number,
  work: string,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv,
  nodeFlags: string[],
): Promise<ChildResult> {
  const resultFile = join(work, `${id.replace(/\W+/g, '-')}.json`);
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, ...process.execArgv, SCRIPT, ...partArgs, '--result', resultFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      },
    );
    const relay = (stream: NodeJS.ReadableStream) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) log(`  [${id}] ${line}`);
      });
      stream.on('end', () => rest !== '' && log(`  [${id}] ${rest}`));
    };
    relay(child.stdout!);
    relay(child.stderr!);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      if (timedOut) {
        done({
          status: 'timed-out',
          seconds,
          value: null,
          error: `stopped at its time limit of ${Math.round(timeoutS)} s`,
        });
        return;
      }
      const parsed = readResult(resultFile);
      if (parsed?.ok === true) done({ status: 'done', seconds, value: parsed.value, error: null });
      else {
        const why = parsed?.error ?? `the process ended with ${signal ?? `code ${code}`} and no result`;
        done({ status: 'failed', seconds, value: null, error: why });
      }
    });
  });
}

/** The child's result file, or null where it wrote none (it crashed or was killed). */
function readResult(file: string): { ok: boolean; value?: unknown; error?: string } | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { ok: boolean; value?: unknown; error?: string };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Environment and report.

function environment(): GpuBenchResults['env'] {
  const cpuList = cpus();
  const manifest = IN_BUNDLE ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, unknown>) : null;
  return {
    date: new Date().toISOString(),
    node: process.version,
    os: `${platform()} ${release()}`,
    cpus: `${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    gpu: commandLine('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']),
    gitCommit:
      manifest !== null ? String(manifest.gitCommit) : commandLine('git', ['rev-parse', '--short', 'HEAD']),
    bundle: manifest !== null ? `packed ${String(manifest.packedAt)}` : null,
    vulkanDriver: process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? null,
    vulkanLoader: process.env.DSB_VULKAN_LOADER ?? null,
    ldLibraryPath: process.env.DSB_LD_LIBRARY_PATH ?? null,
  };
}

/** A command's first line of output, or null where it is absent or fails. */
function commandLine(cmd: string, argv: string[]): string | null {
  try {
    const out = execFileSync(cmd, argv, {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim().split('\n')[0] ?? null;
  } catch {
    return null;
  }
}

function summaryLines(r: GpuBenchResults): string[] {
  const lines = [
    `adapter: ${r.adapter === null ? 'not probed' : r.adapter.found ? `${r.adapter.adapter}${r.adapter.cpuEmulated ? ' (CPU-emulated)' : ''}` : `none (${r.adapter.reason})`}`,
  ];
  for (const s of r.steps)
    lines.push(
      `${s.id.padEnd(12)} ${s.status.padEnd(9)} ${s.seconds.toFixed(1).padStart(6)} s${s.note ? `  ${s.note}` : ''}`,
    );
  for (const d of r.scale) {
    lines.push(
      `${d.device} ${d.model.dtype}: warm pass ${fx(d.warmPassMs?.median, 1)} ms, suite ${fx(d.suite?.speedup?.median, 2)}× naive, own work ${fx(d.overhead?.ownPct?.median, 1)}%`,
    );
  }
  return lines;
}

function renderGpuMarkdown(r: GpuBenchResults): string {
  const a = r.adapter;
  const L = [
    `# bench:gpu — ${r.env.date}`,
    '',
    `WebGPU adapter: ${a === null ? 'not probed' : a.found ? `**${a.adapter}**${a.cpuEmulated ? ' (CPU-emulated: not a GPU figure)' : ''}, via Dawn on Vulkan` : `none — ${a.reason}`}.`,
    '',
    `Machine: ${String(r.env.cpus)}, ${String(r.env.memoryGb)} GB; ${String(r.env.gpu ?? 'no nvidia-smi')}; ${String(r.env.os)}; Node ${String(r.env.node)}. ` +
      `Vulkan driver manifest: ${String(r.env.vulkanDriver ?? 'the loader’s own search')}; loader: ${String(r.env.vulkanLoader ?? 'system')}. ` +
      `Commit ${String(r.env.gitCommit)}${r.env.bundle ? ` (bundle ${String(r.env.bundle)})` : ''}. Budget ${r.budgetS} s${r.quick ? ', quick workload' : ''}; ran ${r.totalS.toFixed(0)} s.`,
    '',
    '| step | status | s | note |',
    '| --- | --- | --- | --- |',
    ...r.steps.map(
      (s) => `| ${s.id} | ${s.status} | ${s.seconds.toFixed(1)} | ${(s.note ?? '').replace(/\|/g, '\\|')} |`,
    ),
    '',
  ];
  for (const dtype of ['fp32', 'q4'] as const) {
    const gpu = r.scale.find((d) => d.model.dtype === dtype && d.device.includes('WebGPU'));
    const cpu = r.scale.find((d) => d.model.dtype === dtype && !d.device.includes('WebGPU'));
    if (gpu !== undefined && cpu !== undefined) {
      const g = gpu.warmPassMs?.median;
      const c = cpu.warmPassMs?.median;
      L.push(
        `${dtype}: WebGPU warm pass ${fx(g, 1)} ms against CPU ${fx(c, 1)} ms ` +
          `(WebGPU ${fx(c !== undefined && g !== undefined ? c / g : null, 2)}× the CPU's speed); suite vs naive ${fx(gpu.suite?.speedup?.median, 2)}× on WebGPU, ${fx(cpu.suite?.speedup?.median, 2)}× on CPU.`,
        '',
      );
    }
  }
  let section: string;
  try {
    section = renderScaleMarkdown(r.scale, { level: 2 });
  } catch (e) {
    // The figures are in results.json either way; a report that cannot render them says so.
    section = `The per-device section could not be rendered (${errorText(e)}); the figures are in results.json.\n`;
  }
  return `${L.join('\n')}\n${section}`;
}

/** A figure with `digits` decimals, or a dash where it was not measured (the bench writes null then). */
function fx(x: number | null | undefined, digits: number): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/** The ONNX file of a dtype in a hub-layout folder. */
const onnxFile = (dir: string, dtype: Dtype) =>
  join(dir, 'onnx', dtype === 'fp32' ? 'model.onnx' : `model_${dtype}.onnx`);

/** `--models` naming a model folder itself (config.json, onnx/…): used as it is, nothing generated. */
function modelFolder(dir: string, dtype: Dtype): { dir: string; bytes: number } | null {
  const file = onnxFile(dir, dtype);
  if (!existsSync(join(dir, 'config.json')) || !existsSync(file)) return null;
  const data = `${file}_data`;
  return { dir, bytes: statSync(file).size + (existsSync(data) ? statSync(data).size : 0) };
}

function parseDtype(s: string | undefined): Dtype {
  if (s === 'fp32' || s === 'q4') return s;
  throw new Error(`--dtype: fp32 or q4, not ${s}`);
}

function parseList<T extends string>(s: string, allowed: readonly T[]): T[] {
  const items = s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  for (const x of items)
    if (!allowed.includes(x as T)) throw new Error(`"${x}" is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

// The entry point, last: every declaration above is initialised by now.
if (args.help) {
  process.stdout.write(HELP);
} else if (args.render) {
  const outDir = resolve(args.out ?? process.env.OUT ?? 'gpu-bench-out');
  const recorded = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as GpuBenchResults;
  writeFileSync(join(outDir, 'RESULTS.md'), renderGpuMarkdown(recorded));
  console.log(`[bench:gpu] re-rendered ${join(outDir, 'RESULTS.md')}`);
} else if (args.part !== undefined) {
  await runPart(args.part);
} else {
  process.exitCode = await orchestrate();
}
