import type { LabelledReport } from './compare.ts';
import { ReportFormatError, fromJsonReport } from './json.ts';

/** Keys that may name one entry of a sweep, in order of preference. */
const ENTRY_LABELS = ['label', 'name', 'adapter', 'ref'] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const looksLikeReport = (v: Record<string, unknown>): boolean => Array.isArray(v.probes);

const WRITTEN_BY = 'pass a file written by `deltascope run --json` or `sway run --json`';

/** What a JSON value is, in a word, for an error message. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * Compare reads strictly. `fromJsonReport` is lenient by design (sway's `from_json`: a missing field
 * takes a neutral default), so `{}` would read as a report with no probes — and a gate comparing a
 * good report with an empty or truncated file would find nothing missing and pass. A report to
 * compare must carry a `probes` array whose entries are objects with a string `name`, and a numeric
 * `score.overall`; anything else is an `input/invalid` error naming `where` (the file, and for a
 * sweep the entry: `sweep.json (results[2])`).
 */
export function checkComparableReport(v: unknown, where: string, input: string): void {
  if (!isObject(v)) {
    throw new ReportFormatError(`${where} is not a report: expected a JSON object, got ${kindOf(v)}.`, input);
  }
  if (!Array.isArray(v.probes)) {
    throw new ReportFormatError(
      `${where} is not a report: \`probes\` is ${v.probes === undefined ? 'missing' : kindOf(v.probes)}, expected an array of probe results; ${WRITTEN_BY}.`,
      input,
    );
  }
  v.probes.forEach((p: unknown, i) => {
    if (!isObject(p)) {
      throw new ReportFormatError(
        `${where} is not a report: probes[${i}] is ${kindOf(p)}, expected a probe result object; ${WRITTEN_BY}.`,
        input,
      );
    }
    if (typeof p.name !== 'string') {
      throw new ReportFormatError(
        `${where} is not a report: probes[${i}] has no string \`name\`; ${WRITTEN_BY}.`,
        input,
      );
    }
  });
  const overall = isObject(v.score) ? v.score.overall : undefined;
  if (typeof overall !== 'number' || !Number.isFinite(overall)) {
    throw new ReportFormatError(
      `${where} is not a report: \`score.overall\` is ${overall === undefined ? 'missing' : kindOf(overall)}, expected a number; ${WRITTEN_BY}.`,
      input,
    );
  }
}

/**
 * The runs in one JSON file: a report (`deltascope run --json`, `sway run --json`) is one run,
 * labelled `label`; a sweep report (`deltascope sweep --json` / `merge`: an object without `probes`
 * whose `results` hold `{index, label, report}` entries) is one run per entry, labelled
 * `label:<entry label>`, in adapter (`index`) order. Every report is checked by
 * `checkComparableReport` before it is read, so nothing is returned for a file with a bad entry.
 */
export function labelledReportsFromJson(text: string, label: string): LabelledReport[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // fromJsonReport words the error (the file, the parse error, what to pass instead).
    return [{ label, result: fromJsonReport(text, label) }];
  }
  if (isObject(parsed) && !looksLikeReport(parsed) && Array.isArray(parsed.results)) {
    return sweepEntries(parsed.results as unknown[], label);
  }
  checkComparableReport(parsed, label, label);
  return [{ label, result: fromJsonReport(text, label) }];
}

function sweepEntries(entries: unknown[], label: string): LabelledReport[] {
  const indexed = entries.every((e) => isObject(e) && typeof e.index === 'number');
  // `results[i]` in a message is the entry's place in the file, whatever order the runs take.
  const at = entries.map((entry, i) => ({ entry, i }));
  const ordered = indexed
    ? at.sort(
        (x, y) =>
          ((x.entry as Record<string, unknown>).index as number) -
          ((y.entry as Record<string, unknown>).index as number),
      )
    : at;
  return ordered.map(({ entry, i }, n) => {
    const where = `${label} (results[${i}])`;
    if (!isObject(entry)) {
      throw new ReportFormatError(`${where} is not a sweep result: expected a JSON object.`, label);
    }
    const report = looksLikeReport(entry) ? entry : isObject(entry.report) ? entry.report : undefined;
    if (report === undefined) {
      throw new ReportFormatError(
        `${where} holds no report: expected \`report\` with the adapter's suite report; pass a file written by \`deltascope sweep --json\` or \`deltascope merge\`.`,
        label,
      );
    }
    checkComparableReport(report, where, label);
    const nameKey = ENTRY_LABELS.find((k) => typeof entry[k] === 'string' && entry[k] !== '');
    const name = nameKey !== undefined ? (entry[nameKey] as string) : String(n + 1);
    return { label: `${label}:${name}`, result: fromJsonReport(JSON.stringify(report), where) };
  });
}
