// Node only: one side of the runtime-LoRA memory benchmark, in a process of its own so its resident set
// is that side's alone. `adapterMemory()` spawns this file; run directly it prints one JSON line:
//
//   node --expose-gc --import tsx bench/lib/adapterMemoryChild.ts <fp32|q4> <pair|adapter> <modelDir> <adapterDir>
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { openPair, type ModelSource } from '../../src/backend/index.ts';

export type MemorySide = 'pair' | 'adapter';

/** One child's reading. */
export interface MemoryReading {
  which: MemorySide;
  dtype: string;
  /** `openPair`, ms. */
  loadMs: number;
  /** Resident set after the load and one forward per view, the load's garbage collected, MB. */
  rssMb: number;
  /** The process's peak resident set, MB (the adapter side reads the base's ONNX into JS to rewrite it). */
  peakMb: number;
}

const PROMPT = 'The keeper of the lighthouse';

/**
 * This process's own peak RSS, MB: Linux's VmHWM (the high-water mark of this address space, new at
 * exec). Not `resourceUsage().maxRSS`: Linux carries ru_maxrss across execve, so a child spawned by a
 * parent holding gigabytes would report the parent's RSS at the fork as its own peak.
 */
function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]) / 1024;
  } catch {
    // Not Linux: fall back to maxRSS (KiB on every platform Node supports).
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function child(dtype: string, which: MemorySide, modelDir: string, adapterDir: string): Promise<void> {
  const base = { kind: 'dir' as const, path: modelDir };
  // Two full models: the base folder opened as both views, as a merged fine-tune would be.
  const source: ModelSource =
    which === 'pair'
      ? { kind: 'pair', base, ft: base }
      : { kind: 'pair', base, ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: adapterDir } } };
  const t0 = performance.now();
  const pair = await openPair(source, { dtype, warmup: false });
  const loadMs = performance.now() - t0;
  await pair.base.nextTokenDist(PROMPT);
  await pair.ft.nextTokenDist(PROMPT);
  // What stays: collect the load's garbage (the ONNX bytes read and rewritten in JS). ArrayBuffers'
  // memory is released a moment after a collection: collect, wait, three times.
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  const reading: MemoryReading = {
    which,
    dtype,
    loadMs,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    peakMb: peakRssMb(),
  };
  process.stdout.write(`${JSON.stringify(reading)}\n`);
  await pair.dispose();
}

/**
 * Runs one side in a fresh Node process (this process's flags, `--expose-gc` added) and returns its
 * reading. Asynchronous, so the parent's event loop stays free while the child loads.
 */
export function measureMemorySide(
  dtype: string,
  which: MemorySide,
  modelDir: string,
  adapterDir: string,
): Promise<MemoryReading> {
  const args = [...process.execArgv, '--expose-gc', import.meta.filename, dtype, which, modelDir, adapterDir];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(
          new Error(
            `adapter memory child (${which}, ${dtype}) failed: ${stderr.trim().split('\n').at(-1) ?? err.message}`,
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryReading);
      } catch {
        reject(
          new Error(`adapter memory child (${which}, ${dtype}) printed no reading: ${stdout.slice(-200)}`),
        );
      }
    });
  });
}

if (process.argv[1] === import.meta.filename) {
  const [dtype, which, modelDir, adapterDir] = process.argv.slice(2);
  if (dtype === undefined || (which !== 'pair' && which !== 'adapter') || modelDir === undefined)
    throw new Error('usage: adapterMemoryChild.ts <fp32|q4> <pair|adapter> <modelDir> <adapterDir>');
  await child(dtype, which, modelDir, adapterDir ?? '');
}
