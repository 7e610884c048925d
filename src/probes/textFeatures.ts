/** Text helpers shared by the leakage and style probes, as sway computes them. Pure and deterministic. */

/** sway's token estimate for a gold string: about four characters per token, at least one. */
/** sway's token estimate `max(1, len(s) // 4)`, counting code points as Python's `len` does. */
export const approxTokens = (s: string): number => Math.max(1, Math.floor([...s].length / 4));

/**
 * Python's whitespace (`str.isspace`, `\s` in a `str` pattern): JavaScript's `\s` without U+FEFF, plus
 * the separators U+001C–U+001F and U+0085.
 */
const WS =
  '\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's `\w` in a `str` pattern: letters, numbers and `_`. */
const W = '\\p{L}\\p{N}_';
/** Python's `\b` after a match's last character (either side of a boundary). */
const END_B = `(?:(?<=[${W}])(?![${W}])|(?<![${W}])(?=[${W}]))`;

const SENTENCE_SPLIT = new RegExp(`(?<=[.!?])[${WS}]+`, 'u');
const PARAGRAPH_SPLIT = new RegExp(`\\n[${WS}]*\\n`, 'u');
/** sway's ASCII word pattern `\b[A-Za-z][A-Za-z'-]*\b` with Python's Unicode-aware `\b`. */
const WORD_RE = new RegExp(`(?<![${W}])[A-Za-z][A-Za-z'-]*${END_B}`, 'gu');
const ASCII_WORD_RE = new RegExp(`(?<![${W}])[A-Za-z]+${END_B}`, 'gu');
const NOT_BLANK = new RegExp(`[^${WS}]`, 'u');
/** The 15 characters sway counts as punctuation. */
const PUNCTS = new Set('.,:;!?-—()[]"\'/');

/** Python's `s.strip()` is non-empty. */
export const hasText = (s: string): boolean => NOT_BLANK.test(s);

/** sway's word list: ASCII words (letters, then letters, `'` or `-`) standing alone. */
export const words = (text: string): string[] => text.match(WORD_RE) ?? [];

/** Length in code points, as Python's `len` counts a `str`. */
const pyLen = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const fmean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function pstdev(xs: number[]): number {
  const m = fmean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
}

/**
 * sway's 6-dimensional style fingerprint (`style_fingerprint.fingerprint`): mean and population std
 * of words per sentence (sentences without words dropped) / 30, type-token ratio, mean word length
 * / 10, density of sway's 15 punctuation characters per character × 10, and 30 / max(1, mean words
 * per paragraph). Blank text, or text without an ASCII word, gives zeros.
 */
export function styleFingerprint(text: string): number[] {
  const zeros = [0, 0, 0, 0, 0, 0];
  if (!hasText(text)) return zeros;
  const sentences = text.split(SENTENCE_SPLIT).filter(hasText);
  const paragraphs = text.split(PARAGRAPH_SPLIT).filter(hasText);
  const ws = words(text);
  if (ws.length === 0) return zeros;
  let counts = sentences.map((s) => words(s).length).filter((c) => c > 0);
  if (counts.length === 0) counts = [ws.length];
  const meanSent = fmean(counts);
  const stdSent = counts.length > 1 ? pstdev(counts) : 0;
  const ttr = new Set(ws.map((w) => w.toLowerCase())).size / ws.length;
  const avgWordLen = fmean(ws.map((w) => w.length));
  let punct = 0;
  for (const ch of text) if (PUNCTS.has(ch)) punct++;
  const punctDensity = punct / Math.max(pyLen(text), 1);
  const avgParagraph = paragraphs.length > 0 ? fmean(paragraphs.map((p) => words(p).length)) : ws.length;
  const paragraphDensity = 1 / Math.max(avgParagraph, 1);
  return [meanSent / 30, stdSent / 30, ttr, avgWordLen / 10, punctDensity * 10, paragraphDensity * 30];
}

/** sway's synonym table for `synonym_swap` (first word found in the table is replaced). */
const SYNONYMS: Record<string, string> = {
  important: 'significant',
  interesting: 'notable',
  good: 'fine',
  great: 'excellent',
  small: 'tiny',
  large: 'big',
  fast: 'quick',
  slow: 'sluggish',
  begin: 'start',
  end: 'finish',
  show: 'demonstrate',
  use: 'employ',
  make: 'create',
  help: 'assist',
  find: 'discover',
  many: 'numerous',
  few: 'several',
  old: 'ancient',
  new: 'recent',
  true: 'valid',
  false: 'incorrect',
  easy: 'simple',
  hard: 'difficult',
  strong: 'robust',
  weak: 'fragile',
  fact: 'truth',
  idea: 'concept',
  result: 'outcome',
  method: 'approach',
  system: 'framework',
  common: 'ordinary',
  rare: 'uncommon',
  thing: 'object',
  person: 'individual',
  place: 'location',
  time: 'moment',
  way: 'manner',
  work: 'labor',
  study: 'examine',
  know: 'understand',
  think: 'consider',
  say: 'state',
  tell: 'inform',
  ask: 'inquire',
  give: 'provide',
  take: 'obtain',
  see: 'observe',
  look: 'view',
  feel: 'sense',
  want: 'desire',
};

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

const isAlpha = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isUpper = (ch: string): boolean => /^\p{Uppercase}$/u.test(ch);
const DROPPED = new Set('.,;:!?-—');

/** Python's `s.rstrip(chars)`. */
function rstrip(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/**
 * The seven prompt perturbations of sway's leakage probe, each deterministic (`leakage._perturb`):
 * swap the first two characters; flip the case of the first letter; drop `.,;:!?-—`; replace the
 * first word found in the synonym table; swap the halves around the first `, ` / ` and ` / ` but ` /
 * ` or ` (the first separator that occurs after position 0); prepend "I think that " and lower-case the
 * first character; lower-case the first 30 characters (upper-case them when none is upper-case).
 * Indices count code points, as Python's do.
 */
export function perturb(text: string, kind: Perturbation): string {
  if (text === '') return text;
  const cps = Array.from(text);
  switch (kind) {
    case 'typo':
      return cps.length < 2 ? text : cps[1]! + cps[0]! + cps.slice(2).join('');
    case 'case_flip': {
      const i = cps.findIndex(isAlpha);
      if (i === -1) return text;
      const ch = cps[i]!;
      return (
        cps.slice(0, i).join('') +
        (isUpper(ch) ? ch.toLowerCase() : ch.toUpperCase()) +
        cps.slice(i + 1).join('')
      );
    }
    case 'drop_punct':
      return cps.filter((ch) => !DROPPED.has(ch)).join('');
    case 'synonym_swap': {
      for (const m of text.matchAll(ASCII_WORD_RE)) {
        const word = m[0];
        const rep = SYNONYMS[word.toLowerCase()];
        if (rep === undefined || !Object.hasOwn(SYNONYMS, word.toLowerCase())) continue;
        const out = isUpper(word[0]!) ? rep[0]!.toUpperCase() + rep.slice(1) : rep;
        return text.slice(0, m.index) + out + text.slice(m.index + word.length);
      }
      return text;
    }
    case 'clause_reverse':
      for (const sep of [', ', ' and ', ' but ', ' or ']) {
        const idx = text.indexOf(sep);
        if (idx > 0) return `${rstrip(text.slice(idx + sep.length), '.!?')}${sep}${text.slice(0, idx)}`;
      }
      return text;
    case 'prefix_inject':
      return `I think that ${cps[0]!.toLowerCase()}${cps.slice(1).join('')}`;
    case 'register_shift': {
      const head = cps.slice(0, 30).join('');
      const tail = cps.slice(30).join('');
      return (cps.slice(0, 30).some(isUpper) ? head.toLowerCase() : head.toUpperCase()) + tail;
    }
  }
}
