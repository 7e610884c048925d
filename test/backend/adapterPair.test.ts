// Runtime LoRA through openPair: the demo base + its shipped PEFT adapter open as ONE rewritten model
// (onnxruntime-node, CPU) whose views are checked against the demo's two full models: λ = 0 is base/,
// λ = 1 the merged ft/ (1e-4 on every next-token logprob), scaled_0.50 lies between, null_<seed> is a
// function of the seed; generate works on every view; a malformed adapter loads nothing.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { MemoryTraceSink, type TokenDist } from '../../src/core/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import {
  isNullCalibrated,
  isScalable,
  openPair,
  type DifferentialBackend,
  type NullCalibratedBackend,
  type ScalableBackend,
  type ScoringView,
} from '../../src/backend/index.ts';
import { mountCount } from '../../src/backend/virtualFetch.ts';

const DEMO = 'public/models/deltascope-demo';
const PROMPTS = ['The town of', 'Every spring the keeper', 'A lamp in the harbour', 'hello'];

let lora: ScalableBackend & NullCalibratedBackend;
let pair: DifferentialBackend;
let fromPretrained: MockInstance;
const trace = new MemoryTraceSink();
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-adapter-pair-'));

beforeAll(async () => {
  pair = await openPair({ kind: 'demo' }, { warmup: false });
  fromPretrained = vi.spyOn(AutoModelForCausalLM, 'from_pretrained');
  const opened = await openPair({ kind: 'demo', adapter: true }, { trace });
  expect(fromPretrained).toHaveBeenCalledTimes(1);
  if (!isScalable(opened) || !isNullCalibrated(opened)) throw new Error('expected adapter views');
  lora = opened;
}, 120_000);

afterAll(async () => {
  fromPretrained.mockRestore();
  await Promise.all([lora?.dispose(), pair?.dispose()]);
  rmSync(scratch, { recursive: true, force: true });
});

/** Every token's logprob, by token id. */
async function fullDists(view: ScoringView): Promise<Float64Array[]> {
  const vocab = pair.info.vocabSize;
  const dists = await view.nextTokenDistBatch(PROMPTS, { topK: vocab });
  return dists.map((d: TokenDist) => {
    const out = new Float64Array(vocab);
    d.tokenIds.forEach((id, i) => (out[id] = d.logprobs[i]!));
    return out;
  });
}

function maxDiff(a: Float64Array[], b: Float64Array[]): number {
  let m = 0;
  a.forEach((row, r) => row.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[r]![i]!)))));
  return m;
}

/** Mean JS divergence between two views' full next-token distributions. */
function meanJs(a: Float64Array[], b: Float64Array[]): number {
  let total = 0;
  a.forEach((p, r) => {
    const q = b[r]!;
    let js = 0;
    for (let i = 0; i < p.length; i++) {
      const pi = Math.exp(p[i]!);
      const qi = Math.exp(q[i]!);
      const mi = (pi + qi) / 2;
      if (pi > 0) js += 0.5 * pi * Math.log(pi / mi);
      if (qi > 0) js += 0.5 * qi * Math.log(qi / mi);
    }
    total += js;
  });
  return total / a.length;
}

describe('the demo base + adapter as one model (Node, CPU)', () => {
  it('reports one warm-up, the adapter identity and the vocabulary', () => {
    expect(trace.events.filter((e) => e.op === 'warmup').map((e) => e.view_id)).toEqual(['base']);
    expect(lora.info.pairId).toBe('demo:deltascope-demo+adapter');
    expect(lora.info.vocabSize).toBe(pair.info.vocabSize);
    expect(lora.info.ftModel).toBe('demo model base + demo adapter');
  });

  it('λ = 0 is base/, λ = 1 the merged ft/ (1e-4 on every next-token logprob)', async () => {
    const [b, f, pb, pf] = await Promise.all([
      fullDists(lora.base),
      fullDists(lora.ft),
      fullDists(pair.base),
      fullDists(pair.ft),
    ]);
    expect(maxDiff(pb, pf)).toBeGreaterThan(0.1);
    expect(maxDiff(b, pb)).toBeLessThan(1e-4);
    expect(maxDiff(f, pf)).toBeLessThan(1e-4);
    // The same op on scaledView(0) / scaledView(1) gives the same numbers under their own ids.
    expect(maxDiff(await fullDists(lora.scaledView(0)), pb)).toBeLessThan(1e-4);
    expect(maxDiff(await fullDists(lora.scaledView(1)), pf)).toBeLessThan(1e-4);
  });

  it('scaled_0.50 lies between base and ft, under its own cache id', async () => {
    const half = lora.scaledView(0.5);
    expect(half.id).toBe('scaled_0.50');
    expect(lora.scaledView(0.5)).toBe(half);
    const [b, h, f] = await Promise.all([fullDists(lora.base), fullDists(half), fullDists(lora.ft)]);
    const jsHalf = meanJs(b, h);
    const jsFt = meanJs(b, f);
    expect(jsHalf).toBeGreaterThan(1e-5);
    expect(jsHalf).toBeLessThan(jsFt);
    expect(meanJs(h, f)).toBeLessThan(jsFt);
    // Cached under its own id: asking again runs nothing.
    const passes = lora.instrumentation.stats.forwardPasses;
    await fullDists(half);
    expect(lora.instrumentation.stats.forwardPasses).toBe(passes);
  });

  it('null_<seed> is the same for the same seed and differs across seeds and from base', async () => {
    const n1 = lora.nullView(1000, { initScale: 0.5 });
    const n2 = lora.nullView(1001, { initScale: 0.5 });
    expect(n1.id).toBe('null_1000_init0.5');
    expect(lora.nullView(1000).id).toBe('null_1000');
    expect(lora.nullView(1000, { rankScale: 4 }).id).toBe('null_1000_rank4.00');
    const [a, b, base] = await Promise.all([fullDists(n1), fullDists(n2), fullDists(lora.base)]);
    expect(maxDiff(a, b)).toBeGreaterThan(1e-3);
    expect(maxDiff(a, base)).toBeGreaterThan(1e-3);
    // Past the few null adapters kept built, seed 1000's is drawn again: the same numbers, uncached.
    for (let s = 0; s < 5; s++) await lora.nullView(2000 + s, { initScale: 0.5 }).nextTokenDist('x');
    const again = lora.nullView(1000, { initScale: 0.5 });
    expect(again).toBe(n1);
    const fresh = lora.nullView(1000, { initScale: 0.5, rankScale: 1 });
    expect(fresh).toBe(n1);
    lora.instrumentation.cache.clear();
    expect(maxDiff(await fullDists(n1), a)).toBe(0);
  });

  it('generate works on every view: ft generates what the merged ft/ does, base what base/ does', async () => {
    const opts = { maxNewTokens: 6 };
    const prompt = 'The town of';
    expect(await lora.ft.generate(prompt, opts)).toBe(await pair.ft.generate(prompt, opts));
    expect(await lora.base.generate(prompt, opts)).toBe(await pair.base.generate(prompt, opts));
    expect(typeof (await lora.nullView(3, { initScale: 0.5 }).generate(prompt, opts))).toBe('string');
  });
});

describe('one model', () => {
  it('served every view above: not one model opened after the first', () => {
    expect(fromPretrained).toHaveBeenCalledTimes(1);
  });
});

describe('a malformed adapter folder', () => {
  it('DoRA is refused naming the field, and nothing is loaded', async () => {
    const dir = join(scratch, 'dora');
    cpSync(`${DEMO}/adapter`, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as object;
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, use_dora: true }));
    const before = mountCount();
    const base = { kind: 'dir' as const, path: `${DEMO}/base` };
    const attempt = openPair({
      kind: 'pair',
      base,
      ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: dir } },
    });
    await expect(attempt).rejects.toBeInstanceOf(DeltascopeError);
    await expect(attempt).rejects.toThrow(/adapter_config\.json: use_dora is true: DoRA/);
    expect(mountCount()).toBe(before);
  });

  it('a missing safetensors file and an adapter on another base are refused by name', async () => {
    const dir = join(scratch, 'bin-only');
    cpSync(`${DEMO}/adapter`, dir, { recursive: true });
    rmSync(join(dir, 'adapter_model.safetensors'));
    const base = { kind: 'dir' as const, path: `${DEMO}/base` };
    await expect(
      openPair({ kind: 'pair', base, ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: dir } } }),
    ).rejects.toMatchObject({ code: 'model-load/missing-file', input: 'adapter_model.safetensors' });
    await expect(
      openPair({
        kind: 'pair',
        base,
        ft: {
          kind: 'adapter',
          base: { kind: 'dir', path: `${DEMO}/ft` },
          adapter: { kind: 'dir', path: `${DEMO}/adapter` },
        },
      }),
    ).rejects.toMatchObject({ code: 'model-load/mismatch', input: 'ft.base' });
  });
});

describe('a lost device', () => {
  it('fails every view, those opened after the loss too, and disposing twice is harmless', async () => {
    const b = await openPair({ kind: 'demo', adapter: true }, { warmup: false });
    if (!isScalable(b) || !isNullCalibrated(b)) throw new Error('expected adapter views');
    const scaled = b.scaledView(0.25);
    (b as unknown as { markDeviceLost(m: string): void }).markDeviceLost('gone');
    for (const view of [b.base, b.ft, scaled, b.scaledView(0.75), b.nullView(5)])
      await expect(view.nextTokenDist('hello')).rejects.toMatchObject({ code: 'device/lost' });
    await b.dispose();
    await b.dispose();
  });
});

describe('the null-stats identity', () => {
  it('is the same for the same files and changes when the adapter is retrained into the same folder', async () => {
    const dir = join(scratch, 'retrained');
    cpSync(`${DEMO}/adapter`, dir, { recursive: true });
    const base = { kind: 'dir' as const, path: `${DEMO}/base` };
    const open = async () => {
      const b = await openPair(
        { kind: 'pair', base, ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: dir } } },
        { warmup: false },
      );
      try {
        if (!isNullCalibrated(b)) throw new Error('expected null views');
        return b.nullIdentity;
      } finally {
        await b.dispose();
      }
    };
    const first = await open();
    expect(first).toMatch(/\|fp32\|onnx:\d+\|adapter:[0-9a-f]{40}\|config:[0-9a-f]{40}$/);
    expect(await open()).toBe(first);
    // One weight's last byte changes (the file's tail is tensor data): another adapter.
    const path = join(dir, 'adapter_model.safetensors');
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    writeFileSync(path, bytes);
    const retrained = await open();
    expect(retrained).not.toBe(first);
    expect(retrained!.split('|adapter:')[0]).toBe(first!.split('|adapter:')[0]);
  }, 60_000);
});

describe('views as rows', () => {
  it('base and ft asked together run as one batch, with what separate batches give (1e-5)', async () => {
    const prompts = ['The bells of Quillhaven', 'At dawn the boats', 'Lantern makers say'];
    const vocab = pair.info.vocabSize;
    const merger = (lora as unknown as { merger: { stats: { groups: number; requests: number } } }).merger;
    const before = { ...merger.stats };
    const [b, f] = await Promise.all([
      lora.base.nextTokenDistBatch(prompts, { topK: vocab }),
      lora.ft.nextTokenDistBatch(prompts, { topK: vocab }),
    ]);
    expect(merger.stats.groups - before.groups).toBe(1);
    expect(merger.stats.requests - before.requests).toBe(2);
    const apart = await openPair({ kind: 'demo', adapter: true }, { warmup: false, viewsAsRows: false });
    try {
      expect((apart as unknown as { merger: unknown }).merger).toBeNull();
      const [b2, f2] = await Promise.all([
        apart.base.nextTokenDistBatch(prompts, { topK: vocab }),
        apart.ft.nextTokenDistBatch(prompts, { topK: vocab }),
      ]);
      const maxDiff = (x: TokenDist[], y: TokenDist[]) => {
        let m = 0;
        x.forEach((d, i) => {
          const byId = new Map<number, number>();
          y[i]!.tokenIds.forEach((id, k) => byId.set(id, y[i]!.logprobs[k]!));
          d.tokenIds.forEach((id, k) => (m = Math.max(m, Math.abs(d.logprobs[k]! - byId.get(id)!))));
        });
        return m;
      };
      expect(maxDiff(b, b2)).toBeLessThan(1e-5);
      expect(maxDiff(f, f2)).toBeLessThan(1e-5);
      // And ft really differs from base (the rows did get their own scale).
      expect(maxDiff(b, f)).toBeGreaterThan(1e-3);
    } finally {
      await apart.dispose();
    }
  }, 60_000);
});
