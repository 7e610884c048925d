import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  TraceAnalyzer,
  describeSkippedLines,
  readTraceJsonl,
  renderAnalysisJson,
  renderAnalysisMarkdown,
  renderAnalysisText,
  type SkippedLines,
  type TraceAnalysis,
} from '../core/index.ts';
import { InputError } from './errors.ts';
import type { CliIo } from './io.ts';

export type TraceFormat = 'text' | 'md' | 'json';

export interface TraceFileAnalysis extends SkippedLines {
  analysis: TraceAnalysis;
}

/**
 * Streams a JSONL trace through the analyser chunk by chunk (core's `readTraceJsonl`, the reader the
 * page's import uses), so a trace larger than memory still works. Blank lines are ignored;
 * malformed JSON and invalid events are counted and skipped.
 */
export async function analyzeTraceFile(path: string, slowest: number): Promise<TraceFileAnalysis> {
  const input = { input: path };
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(`trace ${path} is not a file; pass a .jsonl trace file.`, input);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read trace ${path}: no such file; check the path.`, input);
  }
  const analyzer = new TraceAnalyzer({ slowest });
  const skipped = await readTraceJsonl(createReadStream(path), (events) => {
    analyzer.addAll(events);
  });
  return { analysis: analyzer.result(), ...skipped };
}

const RENDER = { text: renderAnalysisText, md: renderAnalysisMarkdown, json: renderAnalysisJson };

export async function traceCommand(
  file: string,
  opts: { format: TraceFormat; slowest: number },
  io: CliIo,
): Promise<void> {
  const path = resolve(io.cwd, file);
  const { analysis, ...skipped } = await analyzeTraceFile(path, opts.slowest);
  if (skipped.skipped > 0) io.err(`${file}: ${describeSkippedLines(skipped)}\n`);
  io.out(RENDER[opts.format](analysis));
}
