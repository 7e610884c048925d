import type { LabelledReport } from './compare.ts';
import { ReportFormatError, fromJsonReport } from './json.ts';

/** Keys under which a sweep report may list its runs, in the order they are looked for. */
const SWEEP_LISTS = ['runs', 'adapters', 'checkpoints', 'results'] as const;
/** Keys that may name one entry of a sweep, in order of preference. */
const ENTRY_LABELS = ['label', 'name', 'adapter', 'checkpoint', 'adapter_id'] as const;
/** Keys under which an entry of a sweep may hold its report, when it is not the report itself. */
const ENTRY_REPORTS = ['report', 'result', 'suite'] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const looksLikeReport = (v: Record<string, unknown>): boolean => Array.isArray(v.probes);

/**
 * The runs in one JSON file: a report (`deltascope run --json`, `sway run --json`) is one run,
 * labelled `label`; a sweep report — an object without `probes` that lists its runs under `runs`,
 * `adapters`, `checkpoints` or `results`, each entry a report or `{label|name|adapter…, report|result}`
 * — is one run per entry, labelled `label:<entry>`, in the sweep's order.
 */
export function labelledReportsFromJson(text: string, label: string): LabelledReport[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // fromJsonReport words the error (the file, the parse error, what to pass instead).
    return [{ label, result: fromJsonReport(text, label) }];
  }
  if (isObject(parsed) && !looksLikeReport(parsed)) {
    const key = SWEEP_LISTS.find((k) => Array.isArray(parsed[k]));
    if (key !== undefined) return sweepEntries(parsed[key] as unknown[], label, key);
  }
  return [{ label, result: fromJsonReport(text, label) }];
}

function sweepEntries(entries: unknown[], label: string, key: string): LabelledReport[] {
  return entries.map((entry, i) => {
    const where = `${label} (${key}[${i}])`;
    if (!isObject(entry)) {
      throw new ReportFormatError(`${where} is not a report: expected a JSON object.`, label);
    }
    const inner = ENTRY_REPORTS.map((k) => entry[k]).find(isObject);
    const report = looksLikeReport(entry) ? entry : inner;
    if (report === undefined) {
      throw new ReportFormatError(
        `${where} holds no report: expected \`probes\`, or a report under ${ENTRY_REPORTS.join(' / ')}.`,
        label,
      );
    }
    const nameKey = ENTRY_LABELS.find((k) => typeof entry[k] === 'string' && entry[k] !== '');
    const name = nameKey !== undefined ? (entry[nameKey] as string) : String(i + 1);
    return { label: `${label}:${name}`, result: fromJsonReport(JSON.stringify(report), where) };
  });
}
