import { DeltascopeError, type ErrorCode, type ErrorOptions } from '../core/errors.ts';

/** The command line was wrong (unknown flag, missing argument, bad value): exit 2 with the usage. */
export class UsageError extends DeltascopeError {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose usage to show; the top-level usage when absent. */
    readonly command?: string,
    /** `input`: the flag or argument at fault. */
    opts?: ErrorOptions,
  ) {
    super('usage', message, opts);
  }
}

/** An input file could not be read (spec, dlm_source, trace): exit 2; `input` is the file. */
export class InputError extends DeltascopeError {
  override name = 'InputError';
  constructor(message: string, opts?: ErrorOptions) {
    super('input/unreadable', message, opts);
  }
}

/** Exit codes, fixed so CI scripts can tell a failing gate from a broken setup. */
export const EXIT = {
  ok: 0,
  /** `gate`: a FAIL verdict or a score below the threshold. */
  gateFailed: 1,
  /** `compare --fail-on-regression`: a probe regressed against the baseline report. */
  regression: 1,
  /** Bad command line, unreadable or invalid input, or an invalid spec. */
  usage: 2,
  /** The models could not be resolved or loaded. */
  modelLoad: 3,
  /** Anything else (a bug, a broken backend, a failed probe outside the runner). */
  internal: 4,
  /** Cancelled (Ctrl-C) before there was a report to print: the shell's code for SIGINT. */
  cancelled: 130,
} as const;

/** The exit code for an error, decided by its code alone (never by its class or message). */
export function exitCodeFor(code: ErrorCode): number {
  if (code === 'usage' || code === 'spec/invalid' || code.startsWith('input/')) return EXIT.usage;
  if (code.startsWith('model-load/')) return EXIT.modelLoad;
  if (code === 'cancelled') return EXIT.cancelled;
  return EXIT.internal;
}
