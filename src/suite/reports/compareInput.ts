import type { LabelledReport } from './compare.ts';
import { ReportFormatError, fromJsonReport } from './json.ts';

/** Keys that may name one entry of a sweep, in order of preference. */
const ENTRY_LABELS = ['label', 'name', 'adapter', 'ref'] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const looksLikeReport = (v: Record<string, unknown>): boolean => Array.isArray(v.probes);

/**
 * The runs in one JSON file: a report (`deltascope run --json`, `sway run --json`) is one run,
 * labelled `label`; a sweep report (`deltascope sweep --json` / `merge`: an object without `probes`
 * whose `results` hold `{index, label, report}` entries) is one run per entry, labelled
 * `label:<entry label>`, in adapter (`index`) order.
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
  return [{ label, result: fromJsonReport(text, label) }];
}

function sweepEntries(entries: unknown[], label: string): LabelledReport[] {
  const indexed = entries.every((e) => isObject(e) && typeof e.index === 'number');
  const ordered = indexed
    ? [...(entries as Record<string, unknown>[])].sort((x, y) => (x.index as number) - (y.index as number))
    : entries;
  return ordered.map((entry, i) => {
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
    const nameKey = ENTRY_LABELS.find((k) => typeof entry[k] === 'string' && entry[k] !== '');
    const name = nameKey !== undefined ? (entry[nameKey] as string) : String(i + 1);
    return { label: `${label}:${name}`, result: fromJsonReport(JSON.stringify(report), where) };
  });
}
