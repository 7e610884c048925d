import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isTargeted,
  loraScale,
  moduleLora,
  parseAdapterConfig,
  type LoraConfig,
} from '../../src/adapter/adapterConfig.ts';
import { loraModules } from '../../src/adapter/adapterWeights.ts';
import { decodeSafetensors, type SafetensorsTensor } from '../../src/adapter/safetensors.ts';
import { DeltascopeError, type ErrorCode } from '../../src/core/errors.ts';

const DEMO_ADAPTER = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo', 'adapter');
const demoConfigJson = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(DEMO_ADAPTER, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;

/** A minimal PEFT LoRA config with `over` on top. */
const cfg = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  peft_type: 'LORA',
  r: 8,
  lora_alpha: 16,
  target_modules: ['q_proj', 'v_proj'],
  ...over,
});

function refusal(fn: () => unknown, code: ErrorCode, field: string): DeltascopeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DeltascopeError);
    const err = e as DeltascopeError;
    expect(err.code).toBe(code);
    expect(err.input).toBe('adapter_config.json');
    expect(err.details).toEqual({ field });
    expect(err.message).toContain(field);
    return err;
  }
  throw new Error(`expected a refusal naming ${field}`);
}

const LLAMA_KEYS = (layers: number): string[] => {
  const keys: string[] = [];
  for (let i = 0; i < layers; i++) {
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) keys.push(`model.layers.${i}.self_attn.${p}`);
    for (const p of ['gate_proj', 'up_proj', 'down_proj']) keys.push(`model.layers.${i}.mlp.${p}`);
  }
  keys.push('lm_head');
  return keys;
};
const targeted = (c: LoraConfig, keys = LLAMA_KEYS(3)): string[] => keys.filter((k) => isTargeted(c, k));

describe('parseAdapterConfig', () => {
  it('reads the demo adapter: r 8, alpha 16, lm_head only, scale 2', () => {
    const c = parseAdapterConfig(demoConfigJson());
    expect(c).toMatchObject({ r: 8, loraAlpha: 16, useRslora: false, baseModel: 'deltascope-demo/base' });
    expect(targeted(c)).toEqual(['lm_head']);
    expect(moduleLora(c, 'lm_head')).toEqual({ rank: 8, alpha: 16, scale: 2 });
  });

  it('scales by alpha / r, or alpha / sqrt(r) with use_rslora', () => {
    expect(moduleLora(parseAdapterConfig(cfg()), 'model.layers.0.self_attn.q_proj').scale).toBe(2);
    const rs = parseAdapterConfig(cfg({ r: 16, lora_alpha: 8, use_rslora: true }));
    expect(moduleLora(rs, 'model.layers.0.self_attn.q_proj')).toEqual({ rank: 16, alpha: 8, scale: 2 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 512 }),
        fc.double({ min: 0.01, max: 1024, noNaN: true }),
        (r, a) => {
          expect(loraScale(a, r, false) * r).toBeCloseTo(a, 9);
          expect(loraScale(a, r, true) ** 2 * r).toBeCloseTo(a * a, 6);
        },
      ),
    );
  });

  it('matches a target_modules list by exact name or dotted suffix, never by substring', () => {
    const c = parseAdapterConfig(cfg({ target_modules: ['q_proj', 'mlp.down_proj', 'lm_head'] }));
    expect(targeted(c, LLAMA_KEYS(1))).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.mlp.down_proj',
      'lm_head',
    ]);
    // 'proj' is not a dotted suffix of any key: nothing matches.
    expect(targeted(parseAdapterConfig(cfg({ target_modules: ['proj'] })))).toEqual([]);
    expect(
      isTargeted(parseAdapterConfig(cfg({ target_modules: ['q_proj'] })), 'model.layers.0.self_attn.xq_proj'),
    ).toBe(false);
  });

  it('matches a target_modules string as a full regex (Python named groups too)', () => {
    const c = parseAdapterConfig(cfg({ target_modules: '.*layers\\.1\\..*(q_proj|v_proj)' }));
    expect(targeted(c)).toEqual(['model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
    // Full match: a pattern that matches only a prefix selects nothing.
    expect(targeted(parseAdapterConfig(cfg({ target_modules: 'model\\.layers' })))).toEqual([]);
    const named = parseAdapterConfig(cfg({ target_modules: '.*\\.(?P<p>o_proj)' }));
    expect(targeted(named, LLAMA_KEYS(1))).toEqual(['model.layers.0.self_attn.o_proj']);
    refusal(
      () => parseAdapterConfig(cfg({ target_modules: '(' })),
      'model-load/invalid-file',
      'target_modules',
    );
  });

  it('"all-linear" targets every projection but the output head', () => {
    const c = parseAdapterConfig(cfg({ target_modules: 'all-linear' }));
    expect(targeted(c)).toEqual(LLAMA_KEYS(3).filter((k) => k !== 'lm_head'));
  });

  it('honours exclude_modules (list suffix or regex) and layers_to_transform / layers_pattern', () => {
    const all = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    const ex = parseAdapterConfig(
      cfg({ target_modules: all, exclude_modules: ['layers.1.self_attn.q_proj', 'mlp.up_proj'] }),
    );
    const got = targeted(ex);
    expect(got).not.toContain('model.layers.1.self_attn.q_proj');
    expect(got).toContain('model.layers.0.self_attn.q_proj');
    expect(got.some((k) => k.endsWith('up_proj'))).toBe(false);
    const exRe = parseAdapterConfig(cfg({ target_modules: all, exclude_modules: '.*layers\\.[02]\\..*' }));
    expect(new Set(targeted(exRe).map((k) => k.split('.')[2]))).toEqual(new Set(['1']));

    const layers = parseAdapterConfig(cfg({ target_modules: ['q_proj'], layers_to_transform: [0, 2] }));
    expect(targeted(layers)).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.2.self_attn.q_proj']);
    const one = parseAdapterConfig(
      cfg({ target_modules: ['q_proj'], layers_to_transform: 1, layers_pattern: 'layers' }),
    );
    expect(targeted(one)).toEqual(['model.layers.1.self_attn.q_proj']);
    // A layers_pattern that names no container in the key: PEFT finds no index, so nothing matches.
    expect(
      targeted(
        parseAdapterConfig(
          cfg({ target_modules: ['q_proj'], layers_to_transform: [0], layers_pattern: ['h'] }),
        ),
      ),
    ).toEqual([]);
    // layers_to_transform does not apply to a regex target (as in PEFT).
    const re = parseAdapterConfig(cfg({ target_modules: '.*q_proj', layers_to_transform: [0] }));
    expect(targeted(re)).toHaveLength(3);
    // An exact key in the list matches without the layer filter (as in PEFT).
    const exact = parseAdapterConfig(
      cfg({ target_modules: ['model.layers.2.self_attn.q_proj'], layers_to_transform: [0] }),
    );
    expect(targeted(exact)).toEqual(['model.layers.2.self_attn.q_proj']);
  });

  it('gives per-module rank and alpha from rank_pattern / alpha_pattern, first matching key wins', () => {
    const c = parseAdapterConfig(
      cfg({
        r: 8,
        lora_alpha: 16,
        rank_pattern: { 'layers.0.self_attn.q_proj': 4, q_proj: 2, '^model.*down_proj': 32 },
        alpha_pattern: { v_proj: 4 },
      }),
    );
    expect(moduleLora(c, 'model.layers.0.self_attn.q_proj')).toEqual({ rank: 4, alpha: 16, scale: 4 });
    expect(moduleLora(c, 'model.layers.1.self_attn.q_proj')).toEqual({ rank: 2, alpha: 16, scale: 8 });
    expect(moduleLora(c, 'model.layers.1.self_attn.v_proj')).toEqual({ rank: 8, alpha: 4, scale: 0.5 });
    expect(moduleLora(c, 'model.layers.1.mlp.down_proj').rank).toBe(32);
    // Keys match a dotted suffix, not a substring: 'q_proj' does not match 'xq_proj'.
    expect(moduleLora(c, 'model.layers.1.self_attn.xq_proj').rank).toBe(8);
    // Key order decides: the broad key first shadows the specific one.
    const shadow = parseAdapterConfig(cfg({ rank_pattern: { q_proj: 2, 'layers.0.self_attn.q_proj': 4 } }));
    expect(moduleLora(shadow, 'model.layers.0.self_attn.q_proj').rank).toBe(2);
  });

  it('refuses, naming the field, every option runtime LoRA does not compute', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ peft_type: 'IA3' }, 'peft_type', /LoRA adapters/],
      [{ use_dora: true }, 'use_dora', /DoRA/],
      [{ bias: 'lora_only' }, 'bias', /bias "none"/],
      [{ bias: 'all' }, 'bias', /trained biases/],
      [{ modules_to_save: ['lm_head'] }, 'modules_to_save', /fully trained modules/],
      [{ layer_replication: [[0, 2]] }, 'layer_replication', /layer stack/],
      [{ fan_in_fan_out: true }, 'fan_in_fan_out', /Conv1D/],
      [{ lora_bias: true }, 'lora_bias', /bias on lora_B/],
      [{ use_qalora: true }, 'use_qalora', /QA-LoRA/],
      [{ target_parameters: ['experts.gate_up_proj'] }, 'target_parameters', /raw parameters/],
      [{ trainable_token_indices: [1, 2] }, 'trainable_token_indices', /embedding rows/],
      [{ alora_invocation_tokens: [5, 6] }, 'alora_invocation_tokens', /aLoRA/],
      [{ arrow_config: { top_k: 2 } }, 'arrow_config', /Arrow/],
      [{ init_lora_weights: 'pissa' }, 'init_lora_weights', /changes the base weights/],
      [
        { init_lora_weights: 'pissa_niter_4' },
        'init_lora_weights',
        /path_initial_model_for_weight_conversion/,
      ],
      [{ init_lora_weights: 'olora' }, 'init_lora_weights', /changes the base weights/],
      [{ init_lora_weights: 'corda' }, 'init_lora_weights', /changes the base weights/],
      [{ init_lora_weights: 'loftq' }, 'init_lora_weights', /changes the base weights/],
      [{ init_lora_weights: 'mystery' }, 'init_lora_weights', /does not know/],
      [{ use_future_trick: true }, 'use_future_trick', /does not know/],
    ];
    for (const [over, field, message] of cases) {
      const err = refusal(() => parseAdapterConfig(cfg(over)), 'model-load/unsupported', field);
      expect(err.message).toMatch(message);
    }
  });

  it('accepts options that do not change the math at inference', () => {
    const c = parseAdapterConfig(
      cfg({
        lora_dropout: 0.1,
        inference_mode: false,
        init_lora_weights: 'gaussian',
        eva_config: { rho: 2 },
        megatron_config: null,
        fan_in_fan_out: false,
        bias: 'none',
        modules_to_save: [],
        layer_replication: null,
        use_dora: false,
        peft_version: '0.17.0',
        some_new_flag: false,
        another_new_list: [],
      }),
    );
    expect(c.r).toBe(8);
    for (const init of [true, false, 'orthogonal', 'eva'])
      expect(parseAdapterConfig(cfg({ init_lora_weights: init })).loraAlpha).toBe(16);
  });

  it('refuses malformed fields as invalid, naming them', () => {
    refusal(() => parseAdapterConfig(cfg({ r: 0 })), 'model-load/invalid-file', 'r');
    refusal(() => parseAdapterConfig(cfg({ r: 2.5 })), 'model-load/invalid-file', 'r');
    refusal(() => parseAdapterConfig(cfg({ lora_alpha: 'x' })), 'model-load/invalid-file', 'lora_alpha');
    refusal(
      () => parseAdapterConfig(cfg({ target_modules: [] })),
      'model-load/invalid-file',
      'target_modules',
    );
    refusal(
      () => parseAdapterConfig(cfg({ target_modules: null })),
      'model-load/invalid-file',
      'target_modules',
    );
    refusal(
      () => parseAdapterConfig(cfg({ rank_pattern: { q_proj: -1 } })),
      'model-load/invalid-file',
      'rank_pattern.q_proj',
    );
    refusal(
      () => parseAdapterConfig(cfg({ rank_pattern: { '[': 4 } })),
      'model-load/invalid-file',
      'rank_pattern["["]',
    );
    refusal(() => parseAdapterConfig([1]), 'model-load/invalid-file', 'the file');
    refusal(
      () => parseAdapterConfig(cfg({ layers_to_transform: [0], layers_pattern: 'layers(' })),
      'model-load/invalid-file',
      'layers_pattern',
    );
    // Python's identity escapes (`\-`, `\_`) are fine: the pattern is compiled without unicode mode.
    const escaped = parseAdapterConfig(cfg({ target_modules: '.*\\.self\\_attn\\.(q|v)\\_proj' }));
    expect(targeted(escaped, LLAMA_KEYS(1))).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.self_attn.v_proj',
    ]);
  });
});

describe('loraModules', () => {
  const t = (shape: number[]): SafetensorsTensor => ({
    dtype: 'F32',
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const P = 'base_model.model.model.layers.0.self_attn';
  const pair = (key: string, r: number, inF: number, outF: number): [string, SafetensorsTensor][] => [
    [`${key}.lora_A.weight`, t([r, inF])],
    [`${key}.lora_B.weight`, t([outF, r])],
  ];

  it('groups the demo adapter into one lm_head module with rank, scale and shapes', () => {
    const config = parseAdapterConfig(demoConfigJson());
    const { tensors } = decodeSafetensors(
      new Uint8Array(readFileSync(join(DEMO_ADAPTER, 'adapter_model.safetensors'))),
    );
    const mods = loraModules(config, tensors);
    expect(mods.map((m) => [m.key, m.rank, m.scale, m.inFeatures, m.outFeatures])).toEqual([
      ['lm_head', 8, 2, 64, 768],
    ]);
    expect(mods[0]?.a).toBe(tensors.get('base_model.model.lm_head.lora_A.weight')?.data);
  });

  it('checks per-module rank against rank_pattern and the A/B shapes against each other', () => {
    const config = parseAdapterConfig(cfg({ rank_pattern: { v_proj: 4 } }));
    const ok = loraModules(
      config,
      new Map([...pair(`${P}.q_proj`, 8, 64, 64), ...pair(`${P}.v_proj`, 4, 64, 32)]),
    );
    expect(ok.map((m) => [m.key, m.rank, m.scale])).toEqual([
      ['model.layers.0.self_attn.q_proj', 8, 2],
      ['model.layers.0.self_attn.v_proj', 4, 4],
    ]);
    const bad = (
      tensors: [string, SafetensorsTensor][],
      message: RegExp,
      code: ErrorCode = 'model-load/invalid-file',
    ) => {
      try {
        loraModules(config, new Map(tensors));
      } catch (e) {
        expect((e as DeltascopeError).code).toBe(code);
        expect((e as DeltascopeError).input).toBe('adapter_model.safetensors');
        expect((e as DeltascopeError).message).toMatch(message);
        return;
      }
      throw new Error('expected a refusal');
    };
    bad(pair(`${P}.v_proj`, 8, 64, 32), /v_proj has rank 8 but adapter_config.json gives it 4/);
    bad([[`${P}.q_proj.lora_A.weight`, t([8, 64])]], /q_proj has lora_A but no lora_B/);
    bad(
      [
        [`${P}.q_proj.lora_A.weight`, t([8, 64])],
        [`${P}.q_proj.lora_B.weight`, t([64, 4])],
      ],
      /lora_A has rank 8 but lora_B has rank 4/,
    );
    bad(
      [
        [`${P}.q_proj.lora_A.weight`, t([8, 64, 1])],
        [`${P}.q_proj.lora_B.weight`, t([64, 8])],
      ],
      /must be 2-D/,
    );
    bad(
      pair(`${P}.o_proj`, 8, 64, 64),
      /modules adapter_config.json does not target \(model.layers.0.self_attn.o_proj\)/,
    );
    bad(
      [['base_model.model.model.embed_tokens.lora_embedding_A', t([8, 10])]],
      /LoRA on an embedding/,
      'model-load/unsupported',
    );
    bad(
      [...pair(`${P}.q_proj`, 8, 64, 64), [`${P}.q_proj.lora_magnitude_vector`, t([64])]],
      /DoRA/,
      'model-load/unsupported',
    );
    bad(
      [...pair(`${P}.q_proj`, 8, 64, 64), [`${P}.q_proj.lora_B.bias`, t([64])]],
      /lora_bias/,
      'model-load/unsupported',
    );
    bad(
      [...pair(`${P}.q_proj`, 8, 64, 64), ['base_model.model.lm_head.weight', t([10, 64])]],
      /not LoRA A\/B weights are not supported \(base_model.model.lm_head.weight\)/,
      'model-load/unsupported',
    );
    bad([], /holds no LoRA weights/);
  });
});
