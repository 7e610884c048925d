/**
 * `deltascope merge shard-*.json`: joins the shard reports of one sweep into one sweep report, its
 * results in the spec's adapter order. A quoted pattern (`'out/shard-*.json'`, for shells and CI
 * steps that do not expand it) is expanded here, in natural order.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EXIT, UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { readInput, writeOutput } from './suiteCommand.ts';
import { parseCliArgs } from './args.ts';
import { usageFor } from './usage.ts';
import {
  globPattern,
  mergeSweepReports,
  naturalCompare,
  readSweepReport,
  toSweepJson,
  type SweepReport,
} from '../suite/sweep.ts';
import { toSweepHtmlReport } from '../suite/reports/htmlSweep.ts';
import { toSweepMarkdown, toSweepTerminal } from '../suite/sweepReport.ts';

export interface MergeOptions {
  files: string[];
  json?: string;
  markdown?: string;
  html?: string;
}

/** The files named, each pattern (with * or ? in its last part) replaced by its matches. */
export function expandReportArgs(args: readonly string[], cwd: string): string[] {
  return args.flatMap((arg) => {
    const name = arg.split('/').at(-1) ?? arg;
    if (!/[*?]/.test(name)) return [arg];
    const dir = arg.includes('/') ? dirname(arg) : '.';
    let entries: string[];
    try {
      entries = readdirSync(resolve(cwd, dir));
    } catch {
      entries = [];
    }
    const pattern = globPattern(name);
    const matches = entries.filter((e) => pattern.test(e)).sort(naturalCompare);
    if (matches.length === 0) throw new UsageError(`"${arg}" matches no file`, 'merge', { input: arg });
    return matches.map((m) => (dir === '.' && !arg.startsWith('./') ? m : join(dir, m)));
  });
}

export function mergeCommand(opts: MergeOptions, io: CliIo): SweepReport {
  const files = expandReportArgs(opts.files, io.cwd);
  if (files.length === 0)
    throw new UsageError('missing sweep reports to merge (e.g. out/shard-*.json)', 'merge');
  const reports = files.map((f) => ({
    source: f,
    report: readSweepReport(readInput(resolve(io.cwd, f), 'sweep report'), f),
  }));
  const merged = mergeSweepReports(reports);
  const devices = [...new Set(merged.runs.map((r) => r.device).filter((d) => d !== null))];
  if (devices.length > 1)
    io.err(
      `note: the shards ran on different devices (${devices.join(', ')}); their numbers may differ in the last digits from a run on one.\n`,
    );
  io.out(toSweepTerminal(merged));
  if (opts.json !== undefined) writeOutput(opts.json, toSweepJson(merged), io.cwd);
  if (opts.markdown !== undefined) writeOutput(opts.markdown, toSweepMarkdown(merged), io.cwd);
  if (opts.html !== undefined) writeOutput(opts.html, toSweepHtmlReport(merged), io.cwd);
  return merged;
}

/** `deltascope merge REPORT… [--json F] [--markdown F] [--html F]`. */
export function mergeCli(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs('merge', args, {
    json: { type: 'string' },
    markdown: { type: 'string' },
    html: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.out(usageFor('merge'));
    return Promise.resolve(EXIT.ok);
  }
  mergeCommand(
    {
      files: positionals,
      ...(values.json !== undefined ? { json: values.json } : {}),
      ...(values.markdown !== undefined ? { markdown: values.markdown } : {}),
      ...(values.html !== undefined ? { html: values.html } : {}),
    },
    io,
  );
  return Promise.resolve(EXIT.ok);
}
