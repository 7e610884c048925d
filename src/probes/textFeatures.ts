/** Text helpers shared by the leakage and style probes. Pure and deterministic. */

/** sway's token estimate for a gold string: about four characters per token, at least one. */
export const approxTokens = (s: string): number => Math.max(1, Math.floor(s.length / 4));

export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export const words = (text: string): string[] => text.match(/[\p{L}\p{N}'’-]+/gu) ?? [];

/**
 * sway's 6-dimensional style fingerprint: mean sentence length / 30, its std / 30, type-token ratio,
 * mean word length / 10, punctuation density × 10, paragraph density × 30.
 */
export function styleFingerprint(text: string): number[] {
  const sentences = splitSentences(text);
  const ws = words(text);
  if (ws.length === 0 || sentences.length === 0) return [0, 0, 0, 0, 0, 0];
  const lens = sentences.map((s) => words(s).length);
  const m = lens.reduce((a, b) => a + b, 0) / lens.length;
  const sd = Math.sqrt(lens.reduce((a, b) => a + (b - m) ** 2, 0) / lens.length);
  const ttr = new Set(ws.map((w) => w.toLowerCase())).size / ws.length;
  const avgWord = ws.reduce((a, w) => a + w.length, 0) / ws.length;
  const punct = (text.match(/[\p{P}]/gu) ?? []).length / Math.max(1, text.length);
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.trim().length > 0).length;
  return [m / 30, sd / 30, ttr, avgWord / 10, punct * 10, (paragraphs / ws.length) * 30];
}

const SYNONYMS: [string, string][] = [
  ['big', 'large'],
  ['small', 'little'],
  ['quick', 'fast'],
  ['begin', 'start'],
  ['end', 'finish'],
  ['help', 'assist'],
  ['buy', 'purchase'],
  ['show', 'display'],
  ['old', 'aged'],
  ['new', 'fresh'],
  ['happy', 'glad'],
  ['sad', 'unhappy'],
  ['house', 'home'],
  ['road', 'street'],
  ['town', 'village'],
  ['boat', 'ship'],
  ['light', 'lamp'],
  ['child', 'kid'],
  ['children', 'kids'],
  ['make', 'create'],
  ['made', 'created'],
  ['find', 'discover'],
  ['found', 'discovered'],
  ['carry', 'bear'],
  ['walk', 'stroll'],
  ['look', 'glance'],
  ['see', 'notice'],
  ['say', 'state'],
  ['said', 'stated'],
  ['tell', 'inform'],
  ['near', 'close'],
  ['far', 'distant'],
  ['first', 'earliest'],
  ['last', 'final'],
  ['hard', 'difficult'],
  ['easy', 'simple'],
  ['strong', 'sturdy'],
  ['cold', 'chilly'],
  ['warm', 'mild'],
  ['rich', 'wealthy'],
  ['answer', 'reply'],
  ['ask', 'inquire'],
  ['keep', 'retain'],
  ['bright', 'vivid'],
  ['quiet', 'silent'],
  ['every', 'each'],
  ['often', 'frequently'],
  ['believe', 'think'],
  ['guide', 'lead'],
  ['sea', 'ocean'],
];
const SYNONYM_MAP = new Map(SYNONYMS.flatMap(([a, b]) => [[a, b] as const, [b, a] as const]));

export const PERTURBATIONS = [
  'typo',
  'case_flip',
  'drop_punct',
  'synonym_swap',
  'clause_reverse',
  'prefix_inject',
  'register_shift',
] as const;
export type Perturbation = (typeof PERTURBATIONS)[number];

/** The seven prompt perturbations of sway's leakage probe, each deterministic. */
export function perturb(text: string, kind: Perturbation): string {
  switch (kind) {
    case 'typo':
      // Swap two adjacent letters inside every fifth word of four or more letters.
      return text.replace(/[\p{L}]{4,}/gu, (w, offset: number) =>
        offset % 5 === 0 || w.length % 5 === 0 ? w[0]! + w[2]! + w[1]! + w.slice(3) : w,
      );
    case 'case_flip':
      return Array.from(text, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
    case 'drop_punct':
      return text.replace(/[\p{P}]/gu, '');
    case 'synonym_swap':
      return text.replace(/[\p{L}]+/gu, (w) => {
        const s = SYNONYM_MAP.get(w.toLowerCase());
        if (s === undefined) return w;
        return w[0] === w[0]!.toUpperCase() ? s[0]!.toUpperCase() + s.slice(1) : s;
      });
    case 'clause_reverse': {
      const i = text.indexOf(', ');
      return i === -1 ? text : `${text.slice(i + 2)}, ${text.slice(0, i)}`;
    }
    case 'prefix_inject':
      return `I think that ${text.length > 0 ? text[0]!.toLowerCase() + text.slice(1) : text}`;
    case 'register_shift':
      return text
        .replace(/\b(it|that|there|he|she) is\b/gi, "$1's")
        .replace(/\bdo not\b/gi, "don't")
        .replace(/\bcannot\b/gi, "can't")
        .replace(/\bThe\b/g, 'So, the');
  }
}
