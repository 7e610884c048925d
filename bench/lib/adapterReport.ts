// RESULTS.md's "Runtime LoRA" section, from the `adapter` / `adapter-q4` parts of results.json.
import type { AdapterModelInfo, AdapterPartResults, Compared } from './results.ts';
import { num, sum, table } from './reportFormat.ts';

function ratioCell(c: Compared | null): string {
  if (c === null) return '—';
  if (!Number.isFinite(c.ratio.median)) return 'n/a';
  return `**${num(c.ratio.median)}×** (${num(c.ratio.min)}–${num(c.ratio.max)})`;
}

const modelCell = (m: AdapterModelInfo) => `${m.name} ${m.dtype}`;

export function renderAdapterMarkdown(parts: readonly AdapterPartResults[]): string {
  const L: string[] = [];
  const rows = parts.flatMap((p) => p.rows);
  const baseView = parts.flatMap((p) => p.baseView);
  const memory = parts.flatMap((p) => p.memory);
  const models = new Map<string, AdapterModelInfo>();
  for (const m of [...rows, ...baseView, ...memory].map((x) => x.model)) models.set(m.name, m);
  L.push('## Runtime LoRA (base + adapter as one session)');
  L.push('');
  L.push(
    `${parts[0]?.device ?? 'Node'}, through \`openPair\`: a base model plus a PEFT adapter opened as ONE rewritten session (\`src/backend/adapterPair.ts\`), whose views \`base\` (λ = 0) and \`ft\` (λ = 1) feed a per-row \`lora_scale\`. Parts: ${parts.map((p) => `\`${p.part}\`${p.quick ? ' (quick)' : ''}`).join(', ')}. Adapters: ${[
      ...models.values(),
    ]
      .map((m) => `${m.name}: ${m.adapter}`)
      .join('; ')}.`,
  );
  L.push('');

  if (rows.length > 0) {
    L.push('### Views as rows against separate batches');
    L.push('');
    L.push(
      'The suite workload of section 2 / the 135M suite (4 `delta_kl` probes, 30% repeats, the real suite runner; each probe asks base and ft together). Value: the pair opened with views as rows (base and ft rows of the same prompts in one batch, a `lora_scale` per row); baseline: the same files opened with `viewsAsRows: false` (each view its own runs). Ratio < 1: rows are faster. CPU time is the process’s (ORT’s threads included), far steadier than wall time on a shared box.',
    );
    L.push('');
    L.push(
      ...table(
        [
          'model',
          'prompts',
          'forward passes (rows / separate)',
          'session runs (rows / separate)',
          'rows (ms)',
          'separate (ms)',
          'wall ratio',
          'CPU-time ratio',
        ],
        rows.map((r) => [
          modelCell(r.model),
          `${r.probes} × ${r.promptsPerProbe}`,
          `${r.forwardPasses.rows} / ${r.forwardPasses.separate}`,
          `${r.sessionRuns.rows} / ${r.sessionRuns.separate}`,
          sum(r.wallMs.value),
          sum(r.wallMs.baseline),
          ratioCell(r.wallMs),
          ratioCell(r.cpuMs),
        ]),
      ),
    );
    L.push('');
    for (const r of rows)
      L.push(
        `- ${modelCell(r.model)}: ${r.note} The merger ran ${r.merged.groups} groups carrying ${r.merged.rows} rows per suite run. Largest per-probe |Δ mean JS| between the sides: ${r.maxMeanDiff.toExponential(1)}.`,
      );
    L.push('');
  }

  if (baseView.length > 0) {
    L.push('### The base view’s cost: base + adapter at λ = 0 against the unrewritten base');
    L.push('');
    L.push(
      'Value: the `base` view of base + adapter (the LoRA branch computed and scaled by 0), opened with `viewsAsRows: false`; baseline: the `base` view of the plain pair `{kind: "pair", base, ft: base}` from the same folder (the unrewritten graph). ms per round of the same prompts, the cache cleared each round. Goal: ≤ 1.10× on CPU.',
    );
    L.push('');
    L.push(
      ...table(
        [
          'model',
          'prompts (tokens)',
          'base + adapter (ms)',
          'unrewritten (ms)',
          'wall ratio',
          'CPU-time ratio',
          'largest Δ logprob',
          'load: base + adapter / plain pair (s)',
        ],
        baseView.map((b) => [
          modelCell(b.model),
          `${b.prompts} (${b.tokens})`,
          sum(b.wallMs.value),
          sum(b.wallMs.baseline),
          ratioCell(b.wallMs),
          ratioCell(b.cpuMs),
          b.maxLogprobDiff.toExponential(1),
          `${num(b.loadMs.adapterPair / 1000)} / ${num(b.loadMs.plainPair / 1000)}`,
        ]),
      ),
    );
    L.push('');
    for (const b of baseView) L.push(`- ${modelCell(b.model)}: ${b.note}`);
    L.push(
      '- Load: base + adapter reads, rewrites and writes out the base’s ONNX, then opens one session; the plain pair opens two sessions of the same file.',
    );
    L.push('');
  }

  if (memory.length > 0) {
    L.push('### Memory: base + adapter against two full models');
    L.push('');
    L.push(
      ...table(
        ['model', 'base + adapter RSS (MB)', 'two full models RSS (MB)', 'ratio', 'peak RSS ratio'],
        memory.map((m) => [
          modelCell(m.model),
          sum(m.rssMb.value),
          sum(m.rssMb.baseline),
          ratioCell(m.rssMb),
          `${ratioCell(m.peakRssMb)} (${num(m.peakRssMb.value.median)} / ${num(m.peakRssMb.baseline.median)} MB)`,
        ]),
      ),
    );
    L.push('');
    for (const m of memory) L.push(`- ${modelCell(m.model)}: ${m.note}`);
    L.push('');
  }
  for (const n of parts.flatMap((p) => p.notes)) L.push(`- ${n}`);
  if (parts.some((p) => p.notes.length > 0)) L.push('');
  return L.join('\n');
}
