/** Shared helpers for the demo model tests: paths and plain onnxruntime-node runs. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEMO_DIMS } from '../../scripts/demoModel/demoModelConfig.ts';
import { defaultPositionIds } from '../../scripts/demoModel/referenceForward.ts';

export const MODELS_DIR = resolve(import.meta.dirname, '..', '..', 'public', 'models');
export const DEMO_DIR = join(MODELS_DIR, 'deltascope-demo');
export type DemoKind = 'base' | 'ft';

export function onnxPath(kind: DemoKind): string {
  return join(DEMO_DIR, kind, 'onnx', 'model.onnx');
}

export function readOnnx(kind: DemoKind): Uint8Array {
  return new Uint8Array(readFileSync(onnxPath(kind)));
}

export async function openSession(kind: DemoKind): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnxPath(kind));
}

export interface OrtStep {
  logits: Float32Array;
  /** present.{i}.key|value, to feed back as past_key_values. */
  present: Record<string, ort.Tensor>;
}

const int64 = (rows: number[][]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]?.length ?? 0]);

/**
 * One ONNX call. attentionMask covers past + current tokens; past defaults to an
 * empty cache; positionIds default to what transformers.js derives from the mask.
 */
export async function runOrt(
  session: ort.InferenceSession,
  inputIds: number[][],
  attentionMask: number[][],
  past?: Record<string, ort.Tensor>,
  positionIds?: number[][],
): Promise<OrtStep> {
  const d = DEMO_DIMS;
  const batch = inputIds.length;
  const seq = inputIds[0]?.length ?? 0;
  const positions = positionIds ?? attentionMask.map((m) => defaultPositionIds(m).slice(m.length - seq));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(inputIds),
    attention_mask: int64(attentionMask),
    position_ids: int64(positions),
  };
  for (let i = 0; i < d.numLayers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] =
        past?.[`present.${i}.${kind}`] ??
        new ort.Tensor('float32', new Float32Array(0), [batch, d.numKvHeads, 0, d.headDim]);
    }
  }
  const out = await session.run(feeds);
  const present: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(out)) if (name.startsWith('present.')) present[name] = t;
  return { logits: out.logits?.data as Float32Array, present };
}

/** log-softmax log-probability of `token` in logits row (b, s) of a [batch, seq, vocab] array. */
export function rowLogprob(
  logits: Float32Array,
  seqLen: number,
  b: number,
  s: number,
  token: number,
): number {
  const V = DEMO_DIMS.vocabSize;
  const off = (b * seqLen + s) * V;
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v] as number);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp((logits[off + v] as number) - max);
  return (logits[off + token] as number) - max - Math.log(sum);
}
