// A backend whose every answer is written by hand, so probe results can be computed by hand.
import { BackendInstrumentation, makeRollingLogprob, type TokenDist } from '../../src/core/index.ts';
import type { DifferentialBackend, ScoringView } from '../../src/backend/index.ts';
import { makeResult } from '../../src/probes/result.ts';
import type { CommonProbeSpec, ProbeContext, ProbeResult } from '../../src/probes/types.ts';
import { probeRegistry } from '../../src/probes/registry.ts';

export interface Script {
  dist?: (prompt: string) => number[];
  logprob?: (prompt: string, completion: string) => number;
  rolling?: (text: string) => number[];
  generate?: (prompt: string) => string;
}

export const dist = (probs: number[]): TokenDist => ({
  tokenIds: Int32Array.from(probs.map((_, i) => i)),
  logprobs: Float32Array.from(probs.map(Math.log)),
  vocabSize: probs.length,
  tailLogprob: null,
});

function view(id: string, s: Script): ScoringView {
  const need = <T>(f: T | undefined, what: string): T => {
    if (f === undefined) throw new Error(`script for ${id} has no ${what}`);
    return f;
  };
  return {
    id,
    nextTokenDist: async (p) => dist(need(s.dist, 'dist')(p)),
    nextTokenDistBatch: async (ps) => ps.map((p) => dist(need(s.dist, 'dist')(p))),
    logprobOf: async (p, c) => need(s.logprob, 'logprob')(p, c),
    logprobOfBatch: async (pairs) => pairs.map(([p, c]) => need(s.logprob, 'logprob')(p, c)),
    rollingLogprob: async (t) => {
      const lp = need(s.rolling, 'rolling')(t);
      return makeRollingLogprob(lp.map((_, i) => i).concat([lp.length]), Float32Array.from(lp));
    },
    rollingLogprobBatch: async (ts) =>
      ts.map((t) => {
        const lp = need(s.rolling, 'rolling')(t);
        return makeRollingLogprob(lp.map((_, i) => i).concat([lp.length]), Float32Array.from(lp));
      }),
    generate: async (p) => need(s.generate, 'generate')(p),
    tokenize: async (t) => ({ ids: Array.from(t, (_, i) => i), tokens: Array.from(t) }),
    tokenStrings: async (ids) => ids.map(String),
  };
}

export function scriptedBackend(base: Script, ft: Script): DifferentialBackend {
  const b = view('base', base);
  const f = view('ft', ft);
  return {
    base: b,
    ft: f,
    instrumentation: new BackendInstrumentation(),
    info: {
      pairId: 'scripted',
      baseModel: 'scripted-base',
      ftModel: 'scripted-ft',
      device: 'fake',
      deviceDetail: 'scripted',
      dtype: 'fp32',
      vocabSize: 2,
      maxBatchSize: 16,
    },
    view: (id) => (id === 'base' ? b : f),
    dispose: async () => undefined,
  };
}

export function ctxFor(backend: DifferentialBackend, over: Partial<ProbeContext> = {}): ProbeContext {
  return {
    backend,
    seed: 0,
    topK: 256,
    nullStats: {},
    probes: probeRegistry,
    downstream: [],
    sections: [],
    signal: new AbortController().signal,
    onProgress: () => {},
    ...over,
  };
}

export const common = (kind: string, name = kind): CommonProbeSpec => ({
  name,
  kind,
  enabled: true,
  weight: 1,
});
export { makeResult };

/** Parses a probe entry through its kind's schema (defaults filled in, as the spec loader does), then runs it. */
export async function runProbe(
  kind: string,
  fields: Record<string, unknown>,
  backend: DifferentialBackend = scriptedBackend({}, {}),
  over: Partial<ProbeContext> = {},
): Promise<ProbeResult> {
  const def = probeRegistry.get(kind);
  if (def === undefined) throw new Error(`no probe kind ${kind}`);
  return def.run(def.schema.parse({ ...common(kind), ...fields }), ctxFor(backend, over));
}

/** Jensen–Shannon divergence (nats) of two full distributions, written out for expected values. */
export const js = (p: number[], q: number[]): number => {
  const m = p.map((x, i) => (x + q[i]!) / 2);
  const kl = (a: number[], b: number[]) =>
    a.reduce((s, x, i) => (x > 0 ? s + x * Math.log(x / b[i]!) : s), 0);
  return 0.5 * kl(p, m) + 0.5 * kl(q, m);
};
