/** The command line was wrong (unknown flag, missing argument, bad value): exit 2 with the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose usage to show; the top-level usage when absent. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** An input file could not be read (spec, dlm_source, trace): exit 2; the message names the file. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Exit codes, fixed so CI scripts can tell a failing gate from a broken setup. */
export const EXIT = {
  ok: 0,
  /** `gate`: a FAIL verdict or a score below the threshold. */
  gateFailed: 1,
  /** Bad command line, unreadable input or an invalid spec. */
  usage: 2,
  /** The models could not be resolved or loaded. */
  modelLoad: 3,
  /** Anything unexpected (a bug): the stack goes to stderr. */
  internal: 4,
} as const;
