import { syntheticPrompt } from '../core/index.ts';

/**
 * n deterministic prompts of which about 30% repeat earlier ones: the shape of a probe suite's load,
 * where probes share prompts and the cache should answer the repeats.
 */
export function loadPrompts(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 < 3 && out.length > 0) out.push(out[(i * 7) % out.length]!);
    else out.push(syntheticPrompt(i));
  }
  return out;
}
