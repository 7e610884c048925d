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
