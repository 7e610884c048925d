// The worker session with its IndexedDB trace store (fake-indexeddb) on the fake pair: each run's
// metrics are kept with its events, agree with the instrumentation's own counters, reach the suite's
// JSON report, and export as one history file.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { parseTraceJsonl } from '../../src/core/index.ts';
import { runMetricsFromJson, runMetricsOf } from '../../src/core/runMetrics.ts';
import { fromJsonReport } from '../../src/suite/reports/json.ts';
import { installGpuMemoryMeter } from '../../src/worker/gpuMemoryMeter.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import { APP, REQ, fakeSuiteSpec } from './sessionFixtures.ts';

const SPEC = fakeSuiteSpec(
  16,
  `  - name: shift
    kind: delta_kl
    prompts: ${JSON.stringify(Array.from({ length: 6 }, (_, i) => `metrics prompt ${i}`))}
`,
);

describe('run metrics through the worker session', () => {
  it('a load run keeps its metrics (load time, latency per op, rates) and they match its events', async () => {
    const session = new WorkbenchSession(undefined, APP);
    await session.init(APP);
    await session.load(REQ, () => {});
    const prompts = Array.from({ length: 10 }, (_, i) => `batch prompt ${i}`);
    await session.runBatch(prompts, 8);
    await session.runBatch(prompts, 8); // all hits the second time
    await session.heatmap('a rolling text of several words');
    const [run] = await session.listRuns();
    const { metrics, origin } = await session.runMetrics(run!.id);
    expect(origin).toBe('stored');
    // The instrumentation's counters and the metrics count the same lookups.
    const stats = await session.stats();
    expect(metrics.hits).toBe(stats.cache_hits);
    expect(metrics.misses).toBe(stats.cache_misses);
    expect(metrics.hit_rate).toBeCloseTo(stats.hit_rate, 12);
    expect(metrics.peak_batch).toBe(stats.max_batch_size);
    expect(metrics.load_ms).not.toBeNull();
    expect(metrics.load_ms!).toBeGreaterThanOrEqual(0);
    // Node reports its heap (process.memoryUsage); there is no WebGPU here.
    expect(metrics.heap_source).toBe('process.memoryUsage');
    expect(metrics.heap_peak_bytes!).toBeGreaterThan(0);
    expect(metrics.gpu_peak_bytes).toBeNull();
    expect(metrics.ops.map((o) => o.op)).toEqual(['next_token_dist', 'rolling_logprob']);
    for (const o of metrics.ops) {
      expect(o.exact).toBe(true);
      expect(o.p50_ms!).toBeLessThanOrEqual(o.p95_ms!);
      expect(o.p95_ms!).toBeLessThanOrEqual(o.p99_ms!);
    }
    // rolling_logprob returns its token count, so its misses carry tokens.
    expect(metrics.tokens).toBeGreaterThan(0);
    // The exported JSONL recomputes to the same trace-derived numbers.
    const text = await (await session.exportJsonl(run!.id)).text();
    const recomputed = runMetricsOf(parseTraceJsonl(text).events);
    expect({ ...recomputed, load_ms: null, heap_peak_bytes: null, heap_source: null }).toEqual({
      ...metrics,
      load_ms: null,
      heap_peak_bytes: null,
      heap_source: null,
    });
    // Perfetto carries them as metadata.
    const perfetto = JSON.parse(await (await session.exportPerfetto(run!.id)).text()) as {
      metadata: { deltascope_run_metrics: unknown };
    };
    expect(perfetto.metadata.deltascope_run_metrics).toEqual(metrics);
  });

  it('a suite result and its JSON report carry the suite run metrics; the history lists every run', async () => {
    const session = new WorkbenchSession(undefined, APP);
    await session.init(APP);
    await session.load(REQ, () => {});
    const result = await session.runSuite(SPEC, () => {});
    expect(result.metrics).toBeDefined();
    expect(result.metrics!.lookups).toBeGreaterThan(0);
    const runs = await session.listRuns();
    const suiteRun = runs.find((r) => r.label.startsWith('suite on'))!;
    const { metrics } = await session.runMetrics(suiteRun.id);
    // The same tracker; a later flush may have sampled a higher heap peak.
    const noHeap = { heap_peak_bytes: null, heap_source: null };
    expect({ ...result.metrics, ...noHeap }).toEqual({ ...metrics, ...noHeap });
    expect(result.metrics!.heap_source).toBe('process.memoryUsage');
    const report = JSON.parse(await session.suiteReport('json')) as { metrics: unknown };
    expect(runMetricsFromJson(report.metrics)).toEqual(result.metrics);
    expect(fromJsonReport(JSON.stringify(report)).metrics).toEqual(result.metrics);

    const history = JSON.parse(await (await session.exportMetricsHistory()).text()) as {
      schema: string;
      runs: { run_id: string; metrics: unknown }[];
    };
    // The HTML report's trace summary is the suite run's analysis: its events only (not the load's).
    expect(await session.suiteTraceAnalysis()).toEqual(await session.runAnalysis(suiteRun.id));
    expect((await session.suiteTraceAnalysis())!.events).toBe(result.metrics!.lookups);
    // 6 prompts × 2 views under the probe; the suite's own lookups outside any probe apart.
    const shift = (await session.suiteTraceAnalysis())!.byProbe.find((g) => g.name === 'shift');
    expect(shift?.events).toBe(12);

    expect(history.schema).toBe('deltascope.metrics_history');
    expect(history.runs.map((r) => r.run_id).sort()).toEqual(runs.map((r) => r.id).sort());
    for (const r of history.runs) expect(runMetricsFromJson(r.metrics)).not.toBeNull();
  });
});

describe('the GPU buffer meter', () => {
  /** Stand-ins for WebGPU's classes: the meter wraps their prototypes' createBuffer and destroy. */
  function fakeGpu() {
    class GPUBuffer {
      destroyed = 0;
      destroy() {
        this.destroyed++;
      }
    }
    class GPUDevice {
      createBuffer(_desc: { size: number }) {
        return new GPUBuffer();
      }
    }
    return { GPUDevice, GPUBuffer };
  }

  it('counts bytes created and not destroyed; the peak between samples; null before any buffer', () => {
    const g = fakeGpu();
    const meter = installGpuMemoryMeter(g)!;
    expect(meter.takePeak()).toBeNull();
    const device = new g.GPUDevice();
    const a = device.createBuffer({ size: 1000 });
    const b = device.createBuffer({ size: 500 });
    b.destroy();
    b.destroy(); // a second destroy subtracts nothing
    expect(b.destroyed).toBe(2);
    expect(meter.liveBytes).toBe(1000);
    expect(meter.takePeak()).toBe(1500);
    // The next sample starts from what is alive now.
    a.destroy();
    expect(meter.takePeak()).toBe(1000);
    expect(meter.takePeak()).toBe(0);
  });

  it('is not installed where WebGPU does not exist', () => {
    expect(installGpuMemoryMeter({})).toBeNull();
  });
});
