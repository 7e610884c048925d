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
 * The i-th of 343 distinct everyday prompts (subject × verb × object, numbered so every i is
 * distinct), with an optional tail to vary the length: the synthetic load of the Live charts' batch
 * and of the benchmarks.
 */
export function syntheticPrompt(i: number, tail = ''): string {
  const s = SUBJECTS[i % SUBJECTS.length]!;
  const v = VERBS[Math.floor(i / SUBJECTS.length) % VERBS.length]!;
  const o = OBJECTS[Math.floor(i / (SUBJECTS.length * VERBS.length)) % OBJECTS.length]!;
  return `${s} ${v} ${o}${tail} (${i})`;
}
