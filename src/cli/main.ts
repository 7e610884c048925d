import { errorCode, errorMessage } from '../core/errors.ts';
import { parseCliArgs as parse, parseDevice } from './args.ts';
import { DELTASCOPE_VERSION } from '../suite/runner.ts';
import { EXIT, UsageError, exitCodeFor } from './errors.ts';
import { processIo, type CliIo } from './io.ts';
import {
  executeSuite,
  gateDecision,
  parseWeights,
  type SuiteOutputs,
  type SuiteRunOptions,
} from './suiteCommand.ts';
import { compareCli } from './compareCommand.ts';
import { probeCommand } from './probeCommand.ts';
import { sweepCli } from './sweepCommand.ts';
import { mergeCli } from './mergeCommand.ts';
import { traceCommand, type TraceFormat } from './traceCommand.ts';
import { TOP_USAGE, usageFor } from './usage.ts';

// bin/deltascope.mjs imports the bundled build of this module for both.
export { processIo };

const OUTPUT_OPTIONS = {
  device: { type: 'string' },
  json: { type: 'string' },
  markdown: { type: 'string' },
  junit: { type: 'string' },
  html: { type: 'string' },
  trace: { type: 'string' },
  weights: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `missing ${what}`
        : `expected one ${what}, got ${positionals.length}: ${positionals.join(' ')}`,
      command,
    );
  }
  return positionals[0]!;
}

export { DEFAULT_CLI_DEVICE, type CliDevice } from './args.ts';

function suiteOptions(command: string, specPath: string, values: Record<string, unknown>): SuiteRunOptions {
  const outputs: SuiteOutputs = {};
  for (const key of ['json', 'markdown', 'junit', 'html', 'trace'] as const) {
    const v = values[key];
    if (typeof v === 'string') outputs[key] = v;
  }
  return {
    specPath,
    outputs,
    quiet: values.quiet === true,
    device: parseDevice(command, values.device),
    ...(typeof values.weights === 'string' ? { weights: parseWeights(values.weights, command) } : {}),
  };
}

async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('run', args, OUTPUT_OPTIONS);
  if (values.help) {
    io.out(usageFor('run'));
    return EXIT.ok;
  }
  const specPath = onePositional('run', positionals, 'spec file (e.g. examples/demo-suite.yaml)');
  await executeSuite(suiteOptions('run', specPath, values), io);
  return EXIT.ok;
}

async function gateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('gate', args, { ...OUTPUT_OPTIONS, threshold: { type: 'string' } });
  if (values.help) {
    io.out(usageFor('gate'));
    return EXIT.ok;
  }
  const specPath = onePositional('gate', positionals, 'spec file (e.g. examples/demo-suite.yaml)');
  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (values.threshold.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw new UsageError(
        `--threshold must be a number between 0 and 1, got "${values.threshold}"`,
        'gate',
        {
          input: '--threshold',
        },
      );
    }
  }
  const { spec, result } = await executeSuite(suiteOptions('gate', specPath, values), io);
  const t = threshold ?? spec.defaults.coverage_threshold;
  const decision = gateDecision(result, t);
  if (decision.passed) {
    io.out(`gate: PASS (overall ${result.score.overall?.toFixed(4)} ≥ threshold ${t}, no FAIL)\n`);
    return EXIT.ok;
  }
  io.out(`gate: FAIL\n${decision.reasons.map((r) => `  - ${r}\n`).join('')}`);
  return EXIT.gateFailed;
}

async function traceCmd(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('trace', args, {
    format: { type: 'string', default: 'text' },
    slowest: { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(usageFor('trace'));
    return EXIT.ok;
  }
  const file = onePositional('trace', positionals, 'trace file (.jsonl)');
  const format = values.format === 'markdown' ? 'md' : values.format;
  if (format !== 'text' && format !== 'md' && format !== 'json') {
    throw new UsageError(`--format must be text, md or json, got "${values.format}"`, 'trace', {
      input: '--format',
    });
  }
  const slowest = Number(values.slowest);
  if (!Number.isInteger(slowest) || slowest < 0) {
    throw new UsageError(`--slowest must be a whole number ≥ 0, got "${values.slowest}"`, 'trace', {
      input: '--slowest',
    });
  }
  await traceCommand(file, { format: format as TraceFormat, slowest }, io);
  return EXIT.ok;
}

async function probeCmd(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('probe', args, {
    spec: { type: 'string' },
    base: { type: 'string' },
    ft: { type: 'string' },
    adapter: { type: 'string' },
    view: { type: 'string', multiple: true },
    prompt: { type: 'string', multiple: true },
    'top-k': { type: 'string', default: '10' },
    json: { type: 'boolean' },
    device: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(usageFor('probe'));
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${positionals[0]}; prompts go in --prompt`, 'probe', {
      input: positionals[0],
    });
  }
  const topK = Number(values['top-k']);
  if (!Number.isInteger(topK) || topK < 1) {
    throw new UsageError(`--top-k must be a whole number ≥ 1, got "${values['top-k']}"`, 'probe', {
      input: '--top-k',
    });
  }
  await probeCommand(
    {
      ...(values.spec !== undefined ? { specPath: values.spec } : {}),
      ...(values.base !== undefined ? { base: values.base } : {}),
      ...(values.ft !== undefined ? { ft: values.ft } : {}),
      ...(values.adapter !== undefined ? { adapter: values.adapter } : {}),
      prompts: values.prompt ?? [],
      ...(values.view !== undefined ? { views: values.view } : {}),
      topK,
      json: values.json === true,
      device: parseDevice('probe', values.device),
    },
    io,
  );
  return EXIT.ok;
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  gate: gateCommand,
  trace: traceCmd,
  probe: probeCmd,
  sweep: sweepCli,
  merge: mergeCli,
  compare: compareCli,
};

/**
 * Prints an error for the user and returns its exit code, both decided by the error's `code`:
 * usage errors add the usage of the command (the one the error names, else the one running),
 * model-load errors say so, and what is not a known kind of problem prints its stack as a bug.
 */
function reportError(e: unknown, running: string | undefined, io: CliIo): number {
  const code = errorCode(e);
  const message = errorMessage(e);
  if (code === 'usage') {
    const named = (e as { command?: unknown }).command;
    io.err(`deltascope: ${message}\n\n${usageFor(typeof named === 'string' ? named : running)}`);
  } else if (code.startsWith('model-load/')) {
    io.err(`deltascope: could not load the models: ${message}\n`);
  } else if (code === 'internal' || code === 'backend/contract') {
    const stack = e instanceof Error ? (e.stack ?? message) : message;
    io.err(`deltascope: unexpected error (please report it): ${stack}\n`);
  } else {
    io.err(`deltascope: ${message}\n`);
  }
  return exitCodeFor(code);
}

/**
 * The CLI: dispatches to a command and maps errors to exit codes by their code (2 usage / input /
 * spec, 3 model load, 130 cancelled, 4 anything else). Returns the exit code instead of exiting, so
 * tests can call it in-process.
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      io.out(first === 'help' ? usageFor(rest[0]) : TOP_USAGE);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === '--version' || first === '-V') {
      io.out(`deltascope ${DELTASCOPE_VERSION}\n`);
      return EXIT.ok;
    }
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (command === undefined) {
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option ${first}`
          : `unknown command "${first}"; commands: run, gate, trace, probe, compare, sweep, merge`,
        undefined,
        { input: first },
      );
    }
    return await command(rest, io);
  } catch (e) {
    return reportError(e, first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined, io);
  }
}
