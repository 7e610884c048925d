// Node only: loads the demo pair from the repo's public/ folder through onnxruntime-node.
import { resolve } from 'node:path';
import { openPair } from '../src/backend/index.ts';
import { loadPlainRunner } from './lib/plainRunner.ts';
import type { BatchScalingResults, SuiteResults } from './lib/results.ts';
import { ratio, summarize } from './lib/stats.ts';
import {
  BATCH_SIZES,
  batchThroughput,
  flattensAt,
  freshPrompt,
  runDeltascopeSuite,
  runNaiveSuite,
  suitePrompts,
  suiteResults,
  suiteShape,
  type SuiteRun,
} from './lib/suiteWorkload.ts';

export const NODE_DEVICE = 'Node · onnxruntime-node (CPU)';

export interface NodeSuiteOutput {
  suite: SuiteResults;
  scaling: BatchScalingResults;
}

export async function nodeSuiteBench(quick: boolean): Promise<NodeSuiteOutput> {
  const perProbe = 50;
  const probes = suitePrompts(perProbe);
  const shape = suiteShape(probes);
  // deltascope as the app ships it: default cache (256 entries) and max batch (16).
  const backend = await openPair({ kind: 'demo' });
  const base = await loadPlainRunner('base', 'cpu', resolve('public', 'models'));
  const ft = await loadPlainRunner('ft', 'cpu', resolve('public', 'models'));
  const repeats = quick ? 3 : 7;
  const ours: SuiteRun[] = [];
  const naive: SuiteRun[] = [];
  // One unmeasured round each, then alternate so drift on a shared machine hits both paths alike.
  await runDeltascopeSuite(backend, probes);
  await runNaiveSuite(base, ft, probes);
  for (let r = 0; r < repeats; r++) {
    ours.push(await runDeltascopeSuite(backend, probes));
    naive.push(await runNaiveSuite(base, ft, probes));
  }
  const suite = suiteResults(
    NODE_DEVICE,
    shape,
    ours,
    naive,
    `${repeats} paired repeats after one warm-up round; backend loaded once, cache emptied before each run.`,
  );

  const scalePrompts = Array.from({ length: quick ? 64 : 128 }, (_, i) => freshPrompt(i));
  const scaleRepeats = quick ? 3 : 5;
  const samples = new Map<number, number[]>(BATCH_SIZES.map((b) => [b, []]));
  await batchThroughput(base, scalePrompts.slice(0, 32), 32);
  for (let r = 0; r < scaleRepeats; r++) {
    for (const b of BATCH_SIZES) samples.get(b)!.push(await batchThroughput(base, scalePrompts, b));
  }
  const b1 = summarize(samples.get(1)!);
  const points = BATCH_SIZES.map((batch) => {
    const s = summarize(samples.get(batch)!);
    return { batch, promptsPerS: s, vsBatch1: ratio(s, b1) };
  });
  const scaling: BatchScalingResults = {
    device: NODE_DEVICE,
    prompts: scalePrompts.length,
    points,
    flattensAt: flattensAt(points.map((p) => ({ batch: p.batch, median: p.promptsPerS.median }))),
    note: `base model, next-token logits only; ${scaleRepeats} repeats per batch size, sizes interleaved.`,
  };
  console.log(
    `  node scaling: ${points.map((p) => `${p.batch}:${p.promptsPerS.median.toFixed(0)}`).join(' ')} p/s`,
  );
  await backend.dispose();
  await base.dispose();
  await ft.dispose();
  return { suite, scaling };
}
