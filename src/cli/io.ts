import type { OpenOptions } from '../backend/index.ts';
import { describeRetry, downloadPolicyFromEnv } from '../backend/download.ts';
/** What a command may touch, passed in so tests can run the CLI in-process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: the runner marks the remaining probes skipped and the report still prints. */
  signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    ...(signal !== undefined ? { signal } : {}),
  };
}

/**
 * What every CLI load passes to `openPair`: the download policy from the command's environment
 * (`DELTASCOPE_DOWNLOAD_*`) and each retry reported on stderr, so a slow mirror is visible.
 */
export function cliLoadOptions(io: CliIo): Pick<OpenOptions, 'retry' | 'onProgress'> {
  return {
    retry: downloadPolicyFromEnv(io.env),
    onProgress: (p) => {
      if (p.retry !== undefined) io.err(`${p.retry.model}: ${describeRetry(p.retry)}: ${p.retry.reason}\n`);
    },
  };
}
