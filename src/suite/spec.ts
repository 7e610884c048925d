import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { DeltascopeError } from '../core/errors.ts';
import { formatPath, specErrorMap, toPathIssues, type PathIssue, type PathSegment } from './specIssues.ts';
import { SuiteSpecSchema } from './specSchema.ts';
import type { SuiteSpec } from './types.ts';

/** One problem in a spec, located in the YAML text (1-based line and column). */
export interface SpecIssue {
  /** Where in the spec, e.g. `suite[2].prompts`; `(yaml)` for a syntax error. */
  path: string;
  line: number;
  column: number;
  message: string;
}

export function formatSpecIssue(issue: SpecIssue): string {
  return `${issue.path} (line ${issue.line}:${issue.column}): ${issue.message}`;
}

/**
 * A suite spec that cannot run (code `spec/invalid`). It carries every problem found (not just the
 * first), so a user can fix the file in one pass; the message lists them all, `input` is the spec
 * file and `details` the issues, so they survive the worker boundary for the UI to show.
 */
export class SpecError extends DeltascopeError {
  override name = 'SpecError';
  constructor(
    /** The spec file (or `<spec>` for text without a path). */
    source: string,
    readonly issues: readonly SpecIssue[],
    /** What kind of spec, in the message. */
    what = 'suite spec',
  ) {
    const n = issues.length;
    super(
      'spec/invalid',
      `${source}: ${n} problem${n === 1 ? '' : 's'} in the ${what}; fix ${n === 1 ? 'it' : 'them'} and run again:\n` +
        issues.map((i) => `  ${formatSpecIssue(i)}`).join('\n'),
      { input: source, details: issues.map((i) => ({ ...i })) },
    );
  }
}

export interface ParseSpecOptions {
  /** Shown in error messages; also what reports record as `spec_path`. */
  path?: string;
}

/**
 * Parses and validates a `sway.yaml`-shaped suite spec before any model loads: the top level, both
 * model specs, the defaults (filled in, score weights merged with sway's), and every probe entry
 * against its kind's schema in the registry (`SuiteSpecSchema`). Throws `SpecError` with every
 * problem at once, each with its path and line:column, in file order.
 */
export function parseSuiteSpec(yamlText: string, opts: ParseSpecOptions = {}): SuiteSpec {
  const source = opts.path ?? '<spec>';
  const text = readYamlSpec(yamlText);
  if (!text.ok) throw new SpecError(source, text.issues);
  const parsed = SuiteSpecSchema.safeParse(text.value, { error: specErrorMap, reportInput: true });
  if (parsed.success) return parsed.data;
  throw new SpecError(source, text.locate(toPathIssues(parsed.error.issues)));
}

/** A spec's YAML, read: its value, and where in the text a path points. */
export interface YamlSpecText {
  ok: true;
  /** The document as plain data. */
  value: unknown;
  /** Line and column (1-based) of what `path` names, or of the closest thing that exists. */
  position(path: readonly PathSegment[]): { line: number; column: number };
  /** Issues with their line:column, in file order (the sort is stable), so a list reads with the file. */
  locate(issues: readonly PathIssue[]): SpecIssue[];
}

/**
 * Reads a spec's YAML (the suite spec's and the sweep spec's): its syntax errors as issues with their
 * line:column, or its value with a locator for schema issues.
 */
export function readYamlSpec(yamlText: string): YamlSpecText | { ok: false; issues: SpecIssue[] } {
  const lines = new LineCounter();
  // Plain errors: the message is the problem alone; the position comes from `pos` (no text to parse).
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: '(yaml)', line, column: col, message: `YAML syntax error: ${e.message} (${e.code})` };
      }),
    };
  }
  const position = (path: readonly PathSegment[]) => {
    const { line, col } = lines.linePos(locate(doc, path));
    return { line, column: col };
  };
  return {
    ok: true,
    value: doc.toJS({ maxAliasCount: 1000 }),
    position,
    locate: (issues) =>
      issues
        .map((i) => ({ path: formatPath(i.path), ...position(i.path), message: i.message }))
        .sort((a, b) => a.line - b.line || a.column - b.column),
  };
}

/**
 * The offset in the text where a path points: a mapping member's key, a list item, or, when the
 * path goes missing (a required key that is absent), the closest mapping or list that exists.
 */
function locate(doc: Document, path: readonly PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (pair === undefined) return offset;
      if (isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!isNode(item)) return offset;
      if (item.range) offset = item.range[0];
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}
