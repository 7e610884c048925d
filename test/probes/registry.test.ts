import { describe, expect, it } from 'vitest';
import { CALIBRATION_PACK } from '../../src/probes/data/calibrationPack.ts';
import { sectionsFromMarkdown } from '../../src/probes/common.ts';
import { probeRegistry } from '../../src/probes/registry.ts';

describe('probe registry', () => {
  it('has all of sway’s probe kinds, one file each', () => {
    expect([...probeRegistry.keys()].sort()).toEqual(
      [
        'adapter_ablation',
        'calibration_drift',
        'cluster_kl',
        'delta_kl',
        'external_perplexity',
        'leakage',
        'null_adapter',
        'paraphrase_invariance',
        'preference_flip',
        'prompt_collapse',
        'section_internalization',
        'style_fingerprint',
      ].sort(),
    );
  });

  it('gives each kind a schema that accepts only its own kind and fills the common defaults', () => {
    for (const [kind, def] of probeRegistry) {
      const other = kind === 'delta_kl' ? 'leakage' : 'delta_kl';
      const wrong = def.schema.safeParse({ name: 'x', kind: other });
      expect(wrong.success).toBe(false);
      expect(wrong.error!.issues.some((i) => i.path.join('.') === 'kind')).toBe(true);
    }
    const spec = probeRegistry.get('delta_kl')!.schema.parse({ name: 'x', kind: 'delta_kl' });
    expect(spec).toMatchObject({ name: 'x', kind: 'delta_kl', enabled: true, weight: 1 });
  });

  it('has ≥ 100 calibration items', () => {
    expect(CALIBRATION_PACK.length).toBeGreaterThanOrEqual(100);
  });
});

describe('sectionsFromMarkdown', () => {
  it('makes one prose section per paragraph, named after its heading', () => {
    const s = sectionsFromMarkdown('# Title\n\nFirst para.\n\nSecond para.\n\n## Next\n\nThird.');
    expect(s.map((x) => x.id)).toEqual(['Title ¶1', 'Title ¶2', 'Next ¶3']);
    expect(s[2]!.text).toBe('Third.');
  });
});
