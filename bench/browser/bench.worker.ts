import * as Comlink from 'comlink';
import { openPair, type DifferentialBackend } from '../../src/backend/index.ts';
import type { TransformersRunner } from '../../src/backend/transformersRunner.ts';
import { loadPlainRunner } from '../lib/plainRunner.ts';
import { noopTraceSink } from '../../src/core/index.ts';
import { makeRunId, openTraceDb, type TraceDb } from '../../src/store/traceDb.ts';
import { WriteBehindSink } from '../../src/store/writeBehindSink.ts';
import {
  batchThroughput,
  freshPrompt,
  runDeltascopeSuite,
  runNaiveSuite,
  suitePrompts,
} from '../lib/suiteWorkload.ts';
import { measureScale, scalePlan } from '../lib/scaleWorkload.ts';
import { syntheticEvents } from '../lib/traceEvents.ts';
import { BENCH_DB, type BenchWorkerApi, type LoadInfo, type TracedRun } from './benchWorkerApi.ts';

let backend: DifferentialBackend | null = null;
let plain: { base: TransformersRunner; ft: TransformersRunner } | null = null;
let db: TraceDb | null = null;

function need<T>(x: T | null, what: string): T {
  if (x === null) throw new Error(`bench worker: ${what} is not ready; call load() first.`);
  return x;
}

async function benchDb(): Promise<TraceDb> {
  db ??= await openTraceDb(BENCH_DB);
  return db;
}

const api: BenchWorkerApi = {
  async load(device, origin): Promise<LoadInfo> {
    const t0 = performance.now();
    // The app's defaults: cache 256 entries, max batch 16, one warm-up forward per model.
    backend = await openPair(
      { kind: 'demo' },
      { device, demoRoot: { url: `${origin}/` }, ortBaseUrl: `${origin}/ort/` },
    );
    plain = {
      base: await loadPlainRunner('base', device, new URL('/models/', origin).pathname),
      ft: await loadPlainRunner('ft', device, new URL('/models/', origin).pathname),
    };
    // WebGPU compiles shaders per shape: warm the plain runners at batch 1 like the loader does.
    await plain.base.forward([plain.base.encode('hello', true)], 'last');
    await plain.ft.forward([plain.ft.encode('hello', true)], 'last');
    return { device: backend.info.device, detail: backend.info.deviceDetail, loadMs: performance.now() - t0 };
  },

  async suite(perProbe) {
    return runDeltascopeSuite(need(backend, 'the model pair'), suitePrompts(perProbe));
  },

  async naive(perProbe) {
    const p = need(plain, 'the plain runners');
    return runNaiveSuite(p.base, p.ft, suitePrompts(perProbe));
  },

  async scaling(prompts, batch) {
    const p = need(plain, 'the plain runners');
    return batchThroughput(
      p.base,
      Array.from({ length: prompts }, (_, i) => freshPrompt(i)),
      batch,
    );
  },

  async ingest(kind, n) {
    const d = await benchDb();
    const events = syntheticEvents(n);
    const run = makeRunId();
    const t0 = performance.now();
    if (kind === 'writeBehind') {
      const sink = new WriteBehindSink(d);
      sink.startRun({ id: run, label: 'ingest bench' });
      for (const e of events) sink.write(e);
      await sink.flush();
    } else {
      // What a first version would do: await one readwrite transaction per event.
      for (let i = 0; i < n; i++) await d.add('events', { run, seq: i, event: events[i]! });
    }
    return (n * 1000) / (performance.now() - t0);
  },

  async tracedSuite(perProbe, tracing): Promise<TracedRun> {
    const b = need(backend, 'the model pair');
    const inst = b.instrumentation;
    let sink: WriteBehindSink | null = null;
    if (tracing) {
      sink = new WriteBehindSink(await benchDb());
      sink.startRun({ id: makeRunId(), label: 'traced suite' });
      inst.trace = sink;
    } else inst.trace = noopTraceSink;
    try {
      const run = await runDeltascopeSuite(b, suitePrompts(perProbe));
      const t0 = performance.now();
      await sink?.flush();
      return { wallMs: run.wallMs, flushMs: performance.now() - t0, events: sink?.status().written ?? 0 };
    } finally {
      inst.trace = noopTraceSink;
    }
  },

  async scale(req, origin, log, memory, cpuMs) {
    // The 135M pair replaces the demo pair in this worker: one wasm heap holds both sessions.
    await backend?.dispose();
    backend = null;
    return measureScale(
      {
        label: req.label,
        device: req.device,
        quick: req.quick,
        model: req.model,
        plan: scalePlan(req.device, req.quick, req.device === 'webgpu'),
        notes: req.notes,
      },
      {
        open: () =>
          openPair(
            {
              kind: 'pair',
              base: { kind: 'url', url: req.modelUrl },
              ft: { kind: 'url', url: req.modelUrl },
            },
            { device: req.device, dtype: req.dtype, warmup: false, ortBaseUrl: `${origin}/ort/` },
          ),
        memory,
        cpuMs,
        log,
      },
    );
  },

  async seedRun(n) {
    const sink = new WriteBehindSink(await benchDb(), { maxEvents: 2000 });
    const id = makeRunId();
    sink.startRun({ id, label: 'export bench' });
    for (const e of syntheticEvents(n)) sink.write(e);
    await sink.flush();
    return id;
  },
};

Comlink.expose(api);
