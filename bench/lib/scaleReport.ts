// Markdown for the 135M-scale figures: a section of RESULTS.md, and on its own for `bench:gpu`.
import type { ScaleDeviceResults } from './results.ts';
import { num, sum, table } from './reportFormat.ts';
import type { Summary } from './stats.ts';

const mb = (bytes: number) => bytes / 2 ** 20;

/** A row's name: the device and, since one device may be measured in several dtypes, the dtype. */
const named = (d: ScaleDeviceResults) => `${d.device} · ${d.model.dtype}`;

/** "**m×** (min–max)", or "not measured" for an empty summary. */
const times = (s: Summary) =>
  s.n === 0 ? 'not measured' : `**${num(s.median)}×** (${num(s.min)}–${num(s.max)})`;
const pct = (s: Summary) =>
  s.n === 0 ? 'not measured' : `**${num(s.median)}%** (${num(s.min)}–${num(s.max)})`;

export interface ScaleMarkdownOptions {
  /** Heading level of the section title (2 in RESULTS.md); sub-headings go one deeper. */
  level?: number;
  title?: string;
}

/** The 135M section: one summary table, the suite and overhead detail, batch scaling per device. */
export function renderScaleMarkdown(
  devices: readonly ScaleDeviceResults[],
  opts: ScaleMarkdownOptions = {},
): string {
  const h = '#'.repeat(opts.level ?? 2);
  const hh = `${h}#`;
  const L: string[] = [];
  L.push(`${h} ${opts.title ?? 'The 135M-class pair (SmolLM2-135M shape)'}`);
  L.push('');
  if (devices.length === 0) {
    L.push('No 135M figures in this run.', '');
    return L.join('\n');
  }
  const m = devices[0]!.model;
  L.push(
    `Model: \`${m.name}\` — vocabulary ${m.vocabSize.toLocaleString('en')}, ${m.layers} layers, hidden ${m.hidden}, ${m.heads} heads; seeded random weights in the layout of an Optimum export (logits at every position, no \`num_logits_to_keep\`). ` +
      'Suite: the real suite runner over 4 `delta_kl` probes (30% of each later probe’s prompts repeat earlier ones), deltascope as the app ships it (cache 256, batches ≤ 16, length-sorted). ' +
      'Naive: `model(tokenizer(prompt))` per prompt per view at batch 1, no cache, the same divergences computed. Own work = the suite’s wall time not spent inside ORT’s `session.run`.',
  );
  L.push('');
  L.push(
    ...table(
      [
        'device',
        'dtype (ONNX MB)',
        'load s',
        'first pass ms (base/ft)',
        'warm pass ms',
        'suite vs naive (wall)',
        'suite vs naive (CPU time)',
        'own work',
        'peak RSS MB',
        'peak logits MB',
      ],
      devices.map((d) => [
        d.device,
        `${d.model.dtype} (${num(mb(d.model.onnxBytes))})`,
        num(d.loadMs / 1000),
        d.firstPassMs.map((x) => num(x)).join(' / '),
        sum(d.warmPassMs),
        times(d.suite.speedup),
        d.cpu === undefined || d.cpu === null ? '—' : times(d.cpu.speedup),
        pct(d.overhead.ownPct),
        d.memory.peakRssMb === null
          ? d.memory.uaMemoryMb === null
            ? '—'
            : `${num(d.memory.uaMemoryMb)} (page)`
          : num(d.memory.peakRssMb),
        num(mb(d.memory.peakLogitsBytes)),
      ]),
    ),
  );
  L.push('');

  const measured = devices.filter((d) => d.suite.speedup.n > 0);
  L.push(`${hh} Suite against the naive loop, and deltascope’s own work against ORT`);
  L.push('');
  L.push(
    ...table(
      [
        'device',
        'prompts',
        'forward passes: deltascope / ideal / naive',
        'session runs',
        'deltascope ms',
        'of which in ORT ms',
        'naive ms',
        'speedup',
        'own work (naive’s)',
      ],
      measured.map((d) => [
        named(d),
        `${d.suite.probes} × ${d.suite.promptsPerProbe}`,
        `${d.suite.forwardPasses.deltascope} / ${d.suite.distinctKeys} / ${d.suite.forwardPasses.naive}`,
        String(d.overhead.sessionRuns),
        sum(d.suite.wallMs.value),
        sum(d.overhead.wallVsOrt.baseline),
        sum(d.suite.wallMs.baseline),
        times(d.suite.speedup),
        `${num(d.overhead.ownPct.median)}% (${num(d.overhead.naiveOwnPct.median)}%)`,
      ]),
    ),
  );
  L.push('');
  for (const d of devices) {
    if (d.suite.speedup.n === 0) {
      L.push(`- ${named(d)}: suite ${d.suite.note}`);
      continue;
    }
    L.push(
      `- ${named(d)}: ${d.suite.note} Largest per-probe |Δ mean JS| between the two paths: ${d.suite.maxMeanDiff.toExponential(1)}.`,
    );
  }
  if (measured.length > 0) L.push(`- ${measured[0]!.overhead.note}`);
  const withCpu = measured.filter((d) => d.cpu !== undefined && d.cpu !== null);
  for (const d of withCpu)
    L.push(
      `- ${named(d)}, CPU time: deltascope ${sum(d.cpu!.suiteCpuMs.value, 'ms')}, naive ${sum(d.cpu!.suiteCpuMs.baseline, 'ms')}. ${d.cpu!.note}`,
    );
  L.push('');

  L.push(`${hh} Batch scaling, load and memory`);
  L.push('');
  for (const d of devices) {
    const s = d.scaling;
    if (s.points.length === 0) {
      L.push(`**${named(d)}** (${d.deviceDetail}) — batch scaling ${s.note}`);
    } else {
      L.push(
        `**${named(d)}** (${d.deviceDetail}) — ${s.prompts} prompts, ${s.tokens} tokens per point; flattens at ${s.flattensAt === null ? 'no point measured' : `batch ${s.flattensAt}`}. ${s.note}`,
      );
      L.push('');
      L.push(
        ...table(
          ['batch', 'prompts/s', 'tokens/s', 'vs batch 1', 'prompts per CPU-second'],
          s.points.map((p) => {
            const c = d.cpu?.scalingPromptsPerCpuS.find((q) => q.batch === p.batch)?.promptsPerCpuS;
            return [
              String(p.batch),
              sum(p.promptsPerS),
              sum(p.tokensPerS),
              times(p.vsBatch1),
              c === undefined || c.n === 0 ? '—' : sum(c),
            ];
          }),
        ),
      );
    }
    L.push('');
    const mem = d.memory;
    const parts: string[] = [];
    if (mem.rssBeforeMb !== null && mem.rssAfterLoadMb !== null)
      parts.push(`RSS ${num(mem.rssBeforeMb)} → ${num(mem.rssAfterLoadMb)} MB with the pair loaded`);
    if (mem.peakRssMb !== null) parts.push(`peak RSS ${num(mem.peakRssMb)} MB`);
    if (mem.uaMemoryMb !== null)
      parts.push(`page memory (measureUserAgentSpecificMemory, wasm included) ${num(mem.uaMemoryMb)} MB`);
    if (mem.heapUsedMb !== null) parts.push(`JS heap ${num(mem.heapUsedMb)} MB after load`);
    parts.push(`largest logits tensor ${num(mb(mem.peakLogitsBytes))} MB`);
    if (mem.runnerPeakLogitsBytes !== null)
      parts.push(`runner’s peak logits ${num(mb(mem.runnerPeakLogitsBytes))} MB`);
    L.push(
      `- Load ${num(d.loadMs / 1000)} s (both views, no warm-up pass); first pass ${d.firstPassMs.map((x) => num(x)).join(' / ')} ms (base / ft), warm ${sum(d.warmPassMs, 'ms')}.`,
    );
    L.push(`- Memory: ${parts.join('; ')}. ${mem.note}`);
    const bound = ratioBound(d);
    if (bound !== null) L.push(`- ${bound}`);
    for (const n of d.notes) L.push(`- ${n}`);
    L.push('');
  }
  return L.join('\n');
}

/**
 * What bounds the suite's ratio, from this run's own figures: the cache can remove at most
 * naive ÷ distinct forwards, and batching gains what the scaling curve shows per row at batch 16
 * (in CPU time where measured, else wall time); their product is about what the suite can reach.
 */
function ratioBound(d: ScaleDeviceResults): string | null {
  if (d.suite.speedup.n === 0 || d.suite.distinctKeys === 0) return null;
  const cache = d.suite.forwardPasses.naive / d.suite.distinctKeys;
  const cpuPts = d.cpu?.scalingPromptsPerCpuS ?? [];
  const useCpu = cpuPts.length > 0 && cpuPts.every((p) => p.promptsPerCpuS.n > 0);
  const at = (b: number) =>
    useCpu
      ? cpuPts.find((p) => p.batch === b)?.promptsPerCpuS.median
      : d.scaling.points.find((p) => p.batch === b)?.promptsPerS.median;
  const b1 = at(1);
  const b16 = at(16);
  if (b1 === undefined || b16 === undefined) return null;
  const batch = b16 / b1;
  const measured = useCpu && d.cpu ? d.cpu.speedup.median : d.suite.speedup.median;
  return (
    `What bounds the ratio here: the cache leaves ${d.suite.distinctKeys} of ${d.suite.forwardPasses.naive} forwards (at most ${num(cache)}×); ` +
    `batching runs a row ${num(batch)}× as fast at batch 16 as at batch 1 (${useCpu ? 'prompts per CPU-second' : 'prompts/s'}); together about ${num(cache * batch)}×, against ${num(measured)}× measured (${useCpu ? 'CPU time' : 'wall'}).`
  );
}
