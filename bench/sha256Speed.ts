// `npx tsx bench/sha256Speed.ts`: deltascope's SHA-256 (core/sha256.ts) against node:crypto's over
// 64 MiB fed in 64 KiB chunks (as a model body streams), median of 5 runs each, interleaved.
// The figures are recorded by hand in bench/sha256.md.
import { createHash } from 'node:crypto';
import { Sha256 } from '../src/core/sha256.ts';

const SIZE = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
const data = new Uint8Array(SIZE).map((_, i) => Math.imul(i, 2654435761) >>> 24);

const ours = () => {
  const h = new Sha256();
  for (let i = 0; i < SIZE; i += CHUNK) h.update(data.subarray(i, i + CHUNK));
  return h.digestHex();
};
const node = () => {
  const h = createHash('sha256');
  for (let i = 0; i < SIZE; i += CHUNK) h.update(data.subarray(i, i + CHUNK));
  return h.digest('hex');
};

if (ours() !== node()) throw new Error('digests differ');
const runs: Record<string, number[]> = { 'core/sha256.ts': [], 'node:crypto': [] };
for (let r = 0; r < 5; r++) {
  for (const [name, f] of [
    ['core/sha256.ts', ours],
    ['node:crypto', node],
  ] as const) {
    const t0 = performance.now();
    f();
    runs[name]!.push(SIZE / 1e6 / ((performance.now() - t0) / 1000));
  }
}
for (const [name, mbs] of Object.entries(runs)) {
  const sorted = [...mbs].sort((a, b) => a - b);
  console.log(
    `${name}: median ${sorted[2]!.toFixed(0)} MB/s (min ${sorted[0]!.toFixed(0)}, max ${sorted[4]!.toFixed(0)})`,
  );
}
