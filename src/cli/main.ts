import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ModelLoadError } from '../backend/index.ts';
import { DELTASCOPE_VERSION } from '../suite/runner.ts';
import { SpecError } from '../suite/spec.ts';
import { EXIT, InputError, UsageError } from './errors.ts';
import { processIo, type CliIo } from './io.ts';
import {
  executeSuite,
  gateDecision,
  parseWeights,
  type SuiteOutputs,
  type SuiteRunOptions,
} from './suiteCommand.ts';
import { traceCommand, type TraceFormat } from './traceCommand.ts';
import { TOP_USAGE, USAGES } from './usage.ts';

const OUTPUT_OPTIONS = {
  json: { type: 'string' },
  markdown: { type: 'string' },
  junit: { type: 'string' },
  trace: { type: 'string' },
  weights: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `parseArgs` with its errors turned into usage errors for the command. */
function parse<const O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs words its errors well ("Unknown option '--jsno'"); keep them, drop its hint to use `--`.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''), command);
  }
}

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

function suiteOptions(command: string, specPath: string, values: Record<string, unknown>): SuiteRunOptions {
  const outputs: SuiteOutputs = {};
  for (const key of ['json', 'markdown', 'junit', 'trace'] as const) {
    const v = values[key];
    if (typeof v === 'string') outputs[key] = v;
  }
  return {
    specPath,
    outputs,
    quiet: values.quiet === true,
    ...(typeof values.weights === 'string' ? { weights: parseWeights(values.weights, command) } : {}),
  };
}

async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('run', args, OUTPUT_OPTIONS);
  if (values.help) {
    io.out(USAGES.run!);
    return EXIT.ok;
  }
  const specPath = onePositional('run', positionals, 'spec file (e.g. examples/demo-suite.yaml)');
  await executeSuite(suiteOptions('run', specPath, values), io);
  return EXIT.ok;
}

async function gateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('gate', args, { ...OUTPUT_OPTIONS, threshold: { type: 'string' } });
  if (values.help) {
    io.out(USAGES.gate!);
    return EXIT.ok;
  }
  const specPath = onePositional('gate', positionals, 'spec file (e.g. examples/demo-suite.yaml)');
  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (values.threshold.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw new UsageError(`--threshold must be a number between 0 and 1, got "${values.threshold}"`, 'gate');
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
    io.out(USAGES.trace!);
    return EXIT.ok;
  }
  const file = onePositional('trace', positionals, 'trace file (.jsonl)');
  const format = values.format === 'markdown' ? 'md' : values.format;
  if (format !== 'text' && format !== 'md' && format !== 'json') {
    throw new UsageError(`--format must be text, md or json, got "${values.format}"`, 'trace');
  }
  const slowest = Number(values.slowest);
  if (!Number.isInteger(slowest) || slowest < 0) {
    throw new UsageError(`--slowest must be a whole number ≥ 0, got "${values.slowest}"`, 'trace');
  }
  await traceCommand(file, { format: format as TraceFormat, slowest }, io);
  return EXIT.ok;
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  gate: gateCommand,
  trace: traceCmd,
};

/**
 * The CLI: dispatches to a command and maps errors to exit codes (2 usage / input / spec, 3 model
 * load, 4 bug). Returns the exit code instead of exiting, so tests can call it in-process.
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      io.out(topic !== undefined && USAGES[topic] !== undefined ? USAGES[topic] : TOP_USAGE);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === '--version' || first === '-V') {
      io.out(`deltascope ${DELTASCOPE_VERSION}\n`);
      return EXIT.ok;
    }
    const command = COMMANDS[first];
    if (command === undefined) {
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option ${first}`
          : `unknown command "${first}"; commands: run, gate, trace`,
      );
    }
    return await command(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`deltascope: ${e.message}\n\n${e.command !== undefined ? USAGES[e.command] : TOP_USAGE}`);
      return EXIT.usage;
    }
    if (e instanceof SpecError || e instanceof InputError) {
      io.err(`deltascope: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof ModelLoadError) {
      io.err(`deltascope: could not load the models: ${e.message}\n`);
      return EXIT.modelLoad;
    }
    io.err(
      `deltascope: unexpected error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return EXIT.internal;
  }
}
