import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildCompareMatrix, compareToJsonObject, type LabelledReport } from '../suite/reports/compare.ts';
import { labelledReportsFromJson } from '../suite/reports/compareInput.ts';
import { parseCliArgs } from './args.ts';
import { toHtmlCompare, toMarkdownCompare, toTerminalCompare } from '../suite/reports/compareRender.ts';
import { EXIT, InputError, UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { usageFor } from './usage.ts';

export interface CompareOptions {
  /** Report files as given on the command line, baseline first. */
  files: string[];
  failOnRegression: boolean;
  /** Score drop that counts as a regression (default sway's 0.10). */
  threshold?: number;
  onlyChanged: boolean;
  /** Where to write each format: a path, or `-` for stdout (instead of the terminal table). */
  outputs: { markdown?: string; html?: string; json?: string };
}

/** One report file's runs (one, or one per entry of a sweep), labelled with the file as given. */
function readReports(file: string, cwd: string): LabelledReport[] {
  const abs = resolve(cwd, file);
  let text: string;
  try {
    if (!statSync(abs).isFile()) {
      throw new InputError(
        `report ${file} is not a file; pass a JSON report written by \`deltascope run --json\`.`,
        {
          input: file,
        },
      );
    }
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read report ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}; check the path.`,
      { input: file },
    );
  }
  return labelledReportsFromJson(text, file);
}

/** A path as compared for "the same file": resolved, and through symlinks where it exists. */
function samePathKey(path: string, cwd: string): string {
  const abs = resolve(cwd, path);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/**
 * `--markdown`/`--html`/`--json` take a value, so a slip such as `compare --html base.json b.json`
 * would overwrite the baseline with HTML. Refused before anything is read or written: an output
 * that is one of the inputs, two outputs on one path, and markdown or HTML to a `.json` path.
 */
function checkOutputs(opts: CompareOptions, cwd: string): void {
  const inputs = new Map(opts.files.map((f) => [samePathKey(f, cwd), f]));
  const taken = new Map<string, string>();
  for (const key of ['markdown', 'html', 'json'] as const) {
    const target = opts.outputs[key];
    if (target === undefined || target === '-') continue;
    if (key !== 'json' && /\.json$/i.test(target)) {
      throw new UsageError(
        `--${key} ${target}: refusing to write ${key === 'html' ? 'HTML' : 'markdown'} to a .json file (is it a report meant as an input?); name the output ${key === 'html' ? '.html' : '.md'}`,
        'compare',
        { input: `--${key}` },
      );
    }
    const at = samePathKey(target, cwd);
    const input = inputs.get(at);
    if (input !== undefined) {
      throw new UsageError(
        `--${key} ${target} is the input report ${input}: refusing to overwrite an input; write the ${key} elsewhere`,
        'compare',
        { input: `--${key}` },
      );
    }
    const other = taken.get(at);
    if (other !== undefined) {
      throw new UsageError(
        `--${other} and --${key} both write ${target}; give each its own file`,
        'compare',
        {
          input: `--${key}`,
        },
      );
    }
    taken.set(at, key);
  }
}

function writeOutput(path: string, text: string, cwd: string): void {
  const abs = resolve(cwd, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

/**
 * `deltascope compare a.json b.json [c.json …]`: the probe × run matrix against the first report
 * (the baseline), printed as a table and written as markdown / HTML / JSON where asked. Returns
 * EXIT.regression when `--fail-on-regression` is given and a probe regressed, else EXIT.ok.
 */
export function compareCommand(opts: CompareOptions, io: CliIo): number {
  const toStdout = Object.entries(opts.outputs).filter(([, v]) => v === '-');
  if (toStdout.length > 1) {
    throw new UsageError(
      `only one format can go to stdout ("-"), got ${toStdout.map(([k]) => `--${k}`).join(' and ')}`,
      'compare',
    );
  }
  if (opts.files.length === 0) {
    throw new UsageError('missing report files: pass at least two JSON reports, baseline first', 'compare');
  }
  checkOutputs(opts, io.cwd);
  const reports = opts.files.flatMap((f) => readReports(f, io.cwd));
  if (reports.length < 2) {
    throw new UsageError(
      `compare needs at least two runs, got ${reports.length} (${opts.files.join(', ')}); pass two or more JSON reports, or a sweep report with two or more runs`,
      'compare',
      { input: opts.files[0] },
    );
  }
  const matrix = buildCompareMatrix(reports, {
    ...(opts.threshold !== undefined ? { regressionThreshold: opts.threshold } : {}),
  });
  const render = {
    markdown: () => toMarkdownCompare(matrix, { onlyChanged: opts.onlyChanged }),
    html: () => toHtmlCompare(matrix, { onlyChanged: opts.onlyChanged }),
    json: () => JSON.stringify(compareToJsonObject(matrix), null, 2) + '\n',
  };
  if (toStdout.length === 0) io.out(toTerminalCompare(matrix, { onlyChanged: opts.onlyChanged }));
  for (const key of ['markdown', 'html', 'json'] as const) {
    const target = opts.outputs[key];
    if (target === undefined) continue;
    if (target === '-') io.out(render[key]());
    else {
      writeOutput(target, render[key](), io.cwd);
      io.err(`wrote ${key} → ${target}\n`);
    }
  }
  if (opts.failOnRegression && matrix.regressions.length > 0) {
    const n = matrix.regressions.length;
    io.err(
      `compare: FAIL — ${n} regression${n === 1 ? '' : 's'} against the baseline ${matrix.runs[0]!.label}\n`,
    );
    return EXIT.regression;
  }
  return EXIT.ok;
}

const OPTIONS = {
  'fail-on-regression': { type: 'boolean' },
  threshold: { type: 'string' },
  'only-changed': { type: 'boolean' },
  markdown: { type: 'string' },
  html: { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The command line of `compare` (main.ts dispatches here): flags checked, then `compareCommand`. */
export async function compareCli(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs('compare', args, OPTIONS);
  if (values.help === true) {
    io.out(usageFor('compare'));
    return EXIT.ok;
  }
  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (values.threshold.trim() === '' || !Number.isFinite(threshold) || threshold <= 0 || threshold > 1) {
      throw new UsageError(`--threshold must be a number in (0, 1], got "${values.threshold}"`, 'compare', {
        input: '--threshold',
      });
    }
  }
  const outputs: CompareOptions['outputs'] = {};
  for (const key of ['markdown', 'html', 'json'] as const) {
    const v = values[key];
    if (v !== undefined) outputs[key] = v;
  }
  return compareCommand(
    {
      files: positionals,
      failOnRegression: values['fail-on-regression'] === true,
      ...(threshold !== undefined ? { threshold } : {}),
      onlyChanged: values['only-changed'] === true,
      outputs,
    },
    io,
  );
}
