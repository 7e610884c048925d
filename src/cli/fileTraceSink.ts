import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeTraceLine, type TraceEvent, type TraceSink } from '../core/index.ts';

const FLUSH_EVERY = 256;

/**
 * Writes trace events to a JSONL file in sway's format (eight keys in order, Python separators),
 * buffered and flushed every few hundred events and on close. Unlike sway's append mode the file is
 * truncated on open, so one file holds exactly one run.
 */
export class JsonlFileTraceSink implements TraceSink {
  private fd: number | null;
  private buffer: string[] = [];
  /** Events written so far. */
  count = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
  }

  write(event: TraceEvent): void {
    if (this.fd === null) return;
    this.buffer.push(encodeTraceLine(event));
    this.count++;
    if (this.buffer.length >= FLUSH_EVERY) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join('\n') + '\n');
    this.buffer = [];
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }
}
