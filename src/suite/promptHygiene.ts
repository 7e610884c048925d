/**
 * Prompt hygiene: what a suite's (or a batch's) prompts go through before any forward pass.
 *
 *  - an empty or whitespace-only prompt in a `prompts` list is an error naming the probe and index;
 *  - exact duplicates within a probe's `prompts` (by content, after the fixes below) are dropped and
 *    counted (each would only repeat a cached lookup and weigh its prompt twice in the mean);
 *  - `\r\n` and lone `\r` line endings become `\n` in every string of an entry, counted;
 *  - lone UTF-16 surrogates (invalid text a tokenizer cannot encode faithfully) become U+FFFD, counted;
 *  - prompts matching one of the spec's `hygiene.exclude` patterns are dropped, counted;
 *  - a prompt longer than the model's context window is refused (`checkContext`), naming the probe,
 *    the index and both lengths: positions past the window give numbers that mean nothing, and
 *    truncating would silently score another prompt.
 *
 * The summary (counts by reason, per probe) goes into the report and the UI.
 */
import { DeltascopeError } from '../core/errors.ts';
import type { CommonProbeSpec } from '../probes/types.ts';

/** One probe's hygiene counts. */
export interface ProbeHygiene {
  probe: string;
  kind: string;
  /** Prompts in the probe's `prompts` list as written, and as run. */
  prompts: number;
  kept: number;
  duplicates: number;
  excluded: number;
  /** Strings (anywhere in the entry) whose line endings were normalised. */
  lineEndings: number;
  /** Strings whose lone surrogates were replaced by U+FFFD. */
  surrogates: number;
}

export type HygieneCounts = Omit<ProbeHygiene, 'probe' | 'kind'>;

export interface HygieneSummary {
  probes: ProbeHygiene[];
  totals: HygieneCounts;
  /** The exclude patterns applied (as written). */
  exclude: string[];
}

export interface HygieneIssue {
  probe: string;
  /** Where in the entry: `prompts[3]`, `cases[0].prompt`. */
  field: string;
  message: string;
}

/**
 * Prompts that cannot run as given (code `spec/invalid`): every problem at once, each naming the
 * probe and the prompt's place, so the spec can be fixed in one pass.
 */
export class PromptHygieneError extends DeltascopeError {
  override name = 'PromptHygieneError';
  constructor(readonly issues: readonly HygieneIssue[]) {
    const n = issues.length;
    super(
      'spec/invalid',
      `${n} prompt${n === 1 ? '' : 's'} cannot run; fix ${n === 1 ? 'it' : 'them'} and run again:\n` +
        issues.map((i) => `  ${i.probe}.${i.field}: ${i.message}`).join('\n'),
      { input: issues[0]?.probe ?? 'prompts', details: issues.map((i) => ({ ...i })) },
    );
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A string with `\n` line endings and no lone surrogates, and which of the two it needed. */
export function cleanText(s: string): { text: string; lineEndings: boolean; surrogates: boolean } {
  let text = s;
  const lineEndings = text.includes('\r');
  if (lineEndings) text = text.replace(/\r\n?/g, '\n');
  LONE_SURROGATE.lastIndex = 0;
  const surrogates = LONE_SURROGATE.test(text);
  if (surrogates) text = text.replace(LONE_SURROGATE, '\uFFFD');
  return { text, lineEndings, surrogates };
}

/** Compiles the exclude patterns; a pattern that is no regular expression is an issue naming it. */
export function compileExclude(patterns: readonly string[]): { regexes: RegExp[]; issues: string[] } {
  const regexes: RegExp[] = [];
  const issues: string[] = [];
  for (const p of patterns) {
    try {
      regexes.push(new RegExp(p, 'u'));
    } catch (e) {
      issues.push(
        `exclude pattern ${JSON.stringify(p)} is not a regular expression (${(e as Error).message})`,
      );
    }
  }
  return { regexes, issues };
}

const emptyCounts = (): HygieneCounts => ({
  prompts: 0,
  kept: 0,
  duplicates: 0,
  excluded: 0,
  lineEndings: 0,
  surrogates: 0,
});

/**
 * A list of prompts through hygiene: fixed text, duplicates and excluded prompts dropped (first
 * occurrence kept, order kept), with the counts, and an issue per empty prompt (by its index as
 * written). Used for a probe's `prompts` and for the workbench's batch, which counts its repeats but
 * keeps them (`dropDuplicates: false`; see `batchHygiene`).
 */
export function cleanPromptList(
  prompts: readonly string[],
  exclude: readonly RegExp[] = [],
  { dropDuplicates = true }: { dropDuplicates?: boolean } = {},
): { prompts: string[]; counts: HygieneCounts; empty: number[] } {
  const counts = emptyCounts();
  counts.prompts = prompts.length;
  const seen = new Set<string>();
  const out: string[] = [];
  const empty: number[] = [];
  prompts.forEach((p, i) => {
    const c = cleanText(p);
    if (c.lineEndings) counts.lineEndings++;
    if (c.surrogates) counts.surrogates++;
    if (c.text.trim() === '') return void empty.push(i);
    if (exclude.some((re) => re.test(c.text))) return void counts.excluded++;
    if (seen.has(c.text)) {
      counts.duplicates++;
      if (dropDuplicates) return;
    }
    seen.add(c.text);
    out.push(c.text);
  });
  counts.kept = out.length;
  return { prompts: out, counts, empty };
}

/**
 * The Live charts' batch through hygiene: line endings and lone surrogates fixed, an empty prompt an
 * error naming its index. Exact repeats are counted but kept: the batch stands for several probes'
 * prompts together, whose shared prompts the forward cache answers (within one probe, a suite drops
 * them).
 */
export function batchHygiene(prompts: readonly string[]): { prompts: string[]; counts: HygieneCounts } {
  const cleaned = cleanPromptList(prompts, [], { dropDuplicates: false });
  if (cleaned.empty.length > 0)
    throw new PromptHygieneError(
      cleaned.empty.map((i) => ({
        probe: 'batch',
        field: `prompts[${i}]`,
        message: 'empty or whitespace-only',
      })),
    );
  return { prompts: cleaned.prompts, counts: cleaned.counts };
}

/** What hygiene did to a batch, in words ("prompt hygiene: 60 repeats, kept (the cache answers them)"). */
export function batchHygieneText(c: HygieneCounts): string {
  const parts = [
    `${c.duplicates} repeat${c.duplicates === 1 ? '' : 's'}, kept (the cache answers them)`,
    ...(c.lineEndings > 0 ? [`${c.lineEndings} with \\r\\n line endings normalised`] : []),
    ...(c.surrogates > 0 ? [`${c.surrogates} with invalid UTF-16 replaced by U+FFFD`] : []),
  ];
  return `prompt hygiene: ${parts.join('; ')}`;
}

const SKIP_KEYS = new Set(['name', 'kind']);

/** `v` with every string cleaned (line endings, surrogates), counting the strings changed. */
function cleanDeep(v: unknown, counts: HygieneCounts): unknown {
  if (typeof v === 'string') {
    const c = cleanText(v);
    if (c.lineEndings) counts.lineEndings++;
    if (c.surrogates) counts.surrogates++;
    return c.text;
  }
  if (Array.isArray(v)) return v.map((x) => cleanDeep(x, counts));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cleanDeep(x, counts);
    return out;
  }
  return v;
}

/**
 * Every probe entry through hygiene: its `prompts` list cleaned (`cleanPromptList`), every other
 * string of the entry cleaned of `\r` and lone surrogates. Returns the entries to run and the
 * summary; throws `PromptHygieneError` with every empty prompt and bad pattern at once.
 */
export function promptHygiene<S extends CommonProbeSpec>(
  entries: readonly S[],
  excludePatterns: readonly string[] = [],
): { entries: S[]; summary: HygieneSummary } {
  const { regexes, issues: patternIssues } = compileExclude(excludePatterns);
  const issues: HygieneIssue[] = patternIssues.map((message) => ({
    probe: 'hygiene',
    field: 'exclude',
    message,
  }));
  const probes: ProbeHygiene[] = [];
  const cleaned = entries.map((entry) => {
    const counts = emptyCounts();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) {
      if (SKIP_KEYS.has(k)) out[k] = v;
      else if (k === 'prompts' && Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        const r = cleanPromptList(v as string[], regexes);
        for (const i of r.empty)
          issues.push({
            probe: entry.name,
            field: `prompts[${i}]`,
            message: 'empty or whitespace-only prompt',
          });
        Object.assign(counts, {
          ...r.counts,
          lineEndings: counts.lineEndings + r.counts.lineEndings,
          surrogates: counts.surrogates + r.counts.surrogates,
        });
        out[k] = r.prompts;
      } else out[k] = cleanDeep(v, counts);
    }
    probes.push({ probe: entry.name, kind: entry.kind, ...counts });
    return out as S;
  });
  if (issues.length > 0) throw new PromptHygieneError(issues);
  const totals = emptyCounts();
  for (const p of probes) for (const k of Object.keys(totals) as (keyof HygieneCounts)[]) totals[k] += p[k];
  return { entries: cleaned, summary: { probes, totals, exclude: [...excludePatterns] } };
}

/** Every prompt-like string of an entry with its place: the `prompts` list and case fields. */
function promptStrings(entry: CommonProbeSpec): { field: string; text: string }[] {
  const out: { field: string; text: string }[] = [];
  const walk = (v: unknown, path: string, key: string) => {
    if (typeof v === 'string') {
      if (PROMPT_KEYS.has(key)) out.push({ field: path, text: v });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`, key));
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`, k);
  };
  walk(entry, '', '');
  return out;
}

/** Fields whose strings are fed to the model as prompts or continuations. */
const PROMPT_KEYS = new Set(['prompts', 'prompt', 'paraphrases', 'chosen', 'rejected', 'gold', 'items']);

/**
 * Refuses prompts longer than the model's context window (`contextTokens`, from the model's config),
 * counting tokens with `countTokens` (the model's tokenizer, special tokens included). Each issue
 * names the probe, the prompt's place, its length and the window.
 */
export async function checkContext(
  entries: readonly CommonProbeSpec[],
  contextTokens: number | null,
  countTokens: (text: string) => Promise<number>,
): Promise<void> {
  if (contextTokens === null) return;
  const issues: HygieneIssue[] = [];
  for (const entry of entries) {
    for (const { field, text } of promptStrings(entry)) {
      // A cheap bound first: a byte-level tokenizer makes at most one token per UTF-8 byte (≤ 3 per
      // UTF-16 unit), plus its special tokens.
      if (3 * text.length + 8 <= contextTokens) continue;
      const n = await countTokens(text);
      if (n > contextTokens)
        issues.push({
          probe: entry.name,
          field,
          message: `${n} tokens, longer than the model's context window of ${contextTokens}; shorten it (deltascope does not truncate prompts)`,
        });
    }
  }
  if (issues.length > 0) throw new PromptHygieneError(issues);
}

const COUNT_KEYS: readonly [keyof HygieneCounts, string][] = [
  ['prompts', 'prompts'],
  ['kept', 'kept'],
  ['duplicates', 'duplicates'],
  ['excluded', 'excluded'],
  ['lineEndings', 'line_endings'],
  ['surrogates', 'surrogates'],
];

const countsToJson = (c: HygieneCounts): Record<string, number> =>
  Object.fromEntries(COUNT_KEYS.map(([k, j]) => [j, c[k]]));

/** The summary in the JSON report's snake_case (`prompt_hygiene`). */
export function hygieneToJson(s: HygieneSummary): Record<string, unknown> {
  return {
    probes: s.probes.map((p) => ({ probe: p.probe, kind: p.kind, ...countsToJson(p) })),
    totals: countsToJson(s.totals),
    exclude: s.exclude,
  };
}

/** The summary from a JSON report, or undefined when the report has none (or not of this shape). */
export function hygieneFromJson(v: unknown): HygieneSummary | undefined {
  const rec = (x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
  const counts = (x: unknown): HygieneCounts | null => {
    const r = rec(x);
    if (r === null) return null;
    const out = {} as HygieneCounts;
    for (const [k, j] of COUNT_KEYS) {
      const n = r[j];
      if (typeof n !== 'number' || !Number.isFinite(n)) return null;
      out[k] = n;
    }
    return out;
  };
  const r = rec(v);
  if (r === null || !Array.isArray(r.probes)) return undefined;
  const totals = counts(r.totals);
  if (totals === null) return undefined;
  const probes: ProbeHygiene[] = [];
  for (const p of r.probes) {
    const c = counts(p);
    const pr = rec(p);
    if (c === null || pr === null || typeof pr.probe !== 'string' || typeof pr.kind !== 'string')
      return undefined;
    probes.push({ probe: pr.probe, kind: pr.kind, ...c });
  }
  const exclude = Array.isArray(r.exclude) ? r.exclude.filter((x): x is string => typeof x === 'string') : [];
  return { probes, totals, exclude };
}

/** One line per probe hygiene changed something in, for the terminal and Markdown reports. */
export function hygieneLines(s: HygieneSummary): string[] {
  return s.probes
    .filter((p) => p.duplicates + p.excluded + p.lineEndings + p.surrogates > 0)
    .map((p) => {
      const parts: string[] = [];
      if (p.duplicates > 0) parts.push(`${p.duplicates} duplicate${p.duplicates === 1 ? '' : 's'} dropped`);
      if (p.excluded > 0) parts.push(`${p.excluded} excluded by pattern`);
      if (p.lineEndings > 0) parts.push(`${p.lineEndings} with \\r\\n line endings normalised`);
      if (p.surrogates > 0) parts.push(`${p.surrogates} with invalid UTF-16 replaced`);
      return `${p.probe} (${p.kind}): ${parts.join(', ')}; ${p.kept} of ${p.prompts} prompts run`;
    });
}
