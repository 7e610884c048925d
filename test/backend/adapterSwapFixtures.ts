// Adapters derived from the demo's shipped PEFT adapter, for swap and sweep tests: "checkpoints" whose
// lora_B is the demo's times a factor (the same structure, another delta), and one of lower rank
// (another structure, which cannot be swapped onto a model rewritten for the demo's).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/adapter/safetensors.ts';
import { encodeSafetensors, type EncodeTensor } from '../adapter/safetensorsEncode.ts';

export const DEMO_ADAPTER = join(
  import.meta.dirname,
  '..',
  '..',
  'public',
  'models',
  'deltascope-demo',
  'adapter',
);

const demoConfig = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(DEMO_ADAPTER, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;

function demoTensors(): [string, { shape: number[]; data: Float32Array }][] {
  const bytes = new Uint8Array(readFileSync(join(DEMO_ADAPTER, 'adapter_model.safetensors')));
  return [...decodeSafetensors(bytes).tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }]);
}

function writeAdapter(
  dir: string,
  config: Record<string, unknown>,
  tensors: [string, EncodeTensor][],
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
  writeFileSync(join(dir, 'adapter_model.safetensors'), encodeSafetensors(tensors));
  return dir;
}

/** The demo adapter with every lora_B multiplied by `factor`, written to `dir` (returned). */
export function writeScaledDemoAdapter(dir: string, factor: number): string {
  const tensors = demoTensors().map(([name, t]): [string, EncodeTensor] => [
    name,
    {
      dtype: 'F32',
      shape: t.shape,
      values: name.includes('.lora_B.') ? t.data.map((v) => v * factor) : t.data,
    },
  ]);
  return writeAdapter(dir, demoConfig(), tensors);
}

/** One scaled demo adapter per factor, as `<root>/checkpoint-<step>` (steps given beside factors). */
export function writeDemoCheckpoints(root: string, steps: readonly [number, number][]): string[] {
  return steps.map(([step, factor]) => writeScaledDemoAdapter(join(root, `checkpoint-${step}`), factor));
}

/** The demo adapter cut to its first `rank` ranks (A's rows, B's columns), config `r` to match. */
export function writeLowerRankDemoAdapter(dir: string, rank: number): string {
  const tensors = demoTensors().map(([name, t]): [string, EncodeTensor] => {
    const [rows, cols] = t.shape as [number, number];
    if (name.includes('.lora_A.'))
      return [name, { dtype: 'F32', shape: [rank, cols], values: t.data.slice(0, rank * cols) }];
    const out = new Float32Array(rows * rank);
    for (let o = 0; o < rows; o++) for (let k = 0; k < rank; k++) out[o * rank + k] = t.data[o * cols + k]!;
    return [name, { dtype: 'F32', shape: [rows, rank], values: out }];
  });
  return writeAdapter(dir, { ...demoConfig(), r: rank }, tensors);
}
