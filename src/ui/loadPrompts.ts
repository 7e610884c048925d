const SUBJECTS = [
  'The lantern',
  'The harbour',
  'A fisherman',
  'The glassmaker',
  'My neighbour',
  'The old bell',
  'A child',
];
const VERBS = ['carried', 'watched', 'remembered', 'painted', 'found', 'described', 'followed'];
const OBJECTS = [
  'the fog',
  'the copper bell',
  'a green lamp',
  'the boats',
  'the street',
  'the festival',
  'the tide',
];

/**
 * n deterministic prompts of which about 30% repeat earlier ones: the shape of a probe suite's load,
 * where probes share prompts and the cache should answer the repeats.
 */
export function loadPrompts(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 < 3 && out.length > 0) {
      out.push(out[(i * 7) % out.length]!);
      continue;
    }
    const s = SUBJECTS[i % SUBJECTS.length]!;
    const v = VERBS[Math.floor(i / SUBJECTS.length) % VERBS.length]!;
    const o = OBJECTS[Math.floor(i / (SUBJECTS.length * VERBS.length)) % OBJECTS.length]!;
    out.push(`${s} ${v} ${o} (${i})`);
  }
  return out;
}
