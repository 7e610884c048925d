import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  TraceAnalyzer,
  parseTraceLine,
  renderAnalysisJson,
  renderAnalysisMarkdown,
  renderAnalysisText,
  type TraceAnalysis,
} from '../core/index.ts';
import { InputError } from './errors.ts';
import type { CliIo } from './io.ts';

export type TraceFormat = 'text' | 'md' | 'json';

export interface TraceFileAnalysis {
  analysis: TraceAnalysis;
  skipped: number;
  /** 1-based numbers of the first skipped lines. */
  skippedLines: number[];
}

const MAX_LISTED = 10;

/**
 * Streams a JSONL trace through the analyser line by line, so a trace larger than memory still
 * works. Blank lines are ignored; malformed JSON and invalid events are counted and skipped.
 */
export async function analyzeTraceFile(path: string, slowest: number): Promise<TraceFileAnalysis> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(`trace ${path} is not a file; pass a .jsonl trace file.`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read trace ${path}: no such file; check the path.`);
  }
  const analyzer = new TraceAnalyzer({ slowest });
  const skippedLines: number[] = [];
  let skipped = 0;
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    const event = parseTraceLine(line);
    if (event === null) {
      skipped++;
      if (skippedLines.length < MAX_LISTED) skippedLines.push(lineNo);
    } else {
      analyzer.add(event);
    }
  }
  return { analysis: analyzer.result(), skipped, skippedLines };
}

export async function traceCommand(
  file: string,
  opts: { format: TraceFormat; slowest: number },
  io: CliIo,
): Promise<void> {
  const path = resolve(io.cwd, file);
  const { analysis, skipped, skippedLines } = await analyzeTraceFile(path, opts.slowest);
  if (skipped > 0) {
    const more = skipped > skippedLines.length ? ', …' : '';
    io.err(
      `${file}: skipped ${skipped} malformed line${skipped === 1 ? '' : 's'} (line${skipped === 1 ? '' : 's'} ${skippedLines.join(', ')}${more})\n`,
    );
  }
  const render =
    opts.format === 'json'
      ? renderAnalysisJson
      : opts.format === 'md'
        ? renderAnalysisMarkdown
        : renderAnalysisText;
  io.out(render(analysis));
}
