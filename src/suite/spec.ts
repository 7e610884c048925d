import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { checkObject, formatPath, type PathSegment, type SchemaIssue } from '../core/index.ts';
import { COMMON_FIELDS, probeRegistry, probeSchema } from '../probes/registry.ts';
import type { CommonProbeSpec } from '../probes/types.ts';
import { DEFAULT_WEIGHTS } from './score.ts';
import { DEFAULTS_FIELDS, SPEC_FIELDS } from './specSchema.ts';
import type { ModelSpec, SuiteDefaults, SuiteSpec } from './types.ts';

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
 * A suite spec that cannot run. It carries every problem found (not just the first), so a user can
 * fix the file in one pass; the message lists them all.
 */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    /** The spec file (or `<spec>` for text without a path). */
    readonly source: string,
    readonly issues: readonly SpecIssue[],
  ) {
    const n = issues.length;
    super(
      `${source}: ${n} problem${n === 1 ? '' : 's'} in the suite spec; fix ${n === 1 ? 'it' : 'them'} and run again:\n` +
        issues.map((i) => `  ${formatSpecIssue(i)}`).join('\n'),
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
 * against its kind's schema in the registry plus the kind's cross-field checks. Throws `SpecError`
 * with every problem at once, each with its path and line:column.
 */
export function parseSuiteSpec(yamlText: string, opts: ParseSpecOptions = {}): SuiteSpec {
  const source = opts.path ?? '<spec>';
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      source,
      doc.errors.map((e) => ({
        path: '(yaml)',
        line: e.linePos?.[0].line ?? 1,
        column: e.linePos?.[0].col ?? 1,
        // yaml appends " at line L, column C:" and a code excerpt; the location has its own fields.
        message: `YAML syntax error: ${e.message.split(/ at line \d+, column \d+/)[0]!.trim()}`,
      })),
    );
  }
  const issues: SchemaIssue[] = [];
  const spec = validate(doc.toJS({ maxAliasCount: 1000 }), issues);
  if (issues.length > 0) {
    const located = issues.map((i) => {
      const { line, col } = lines.linePos(locate(doc, i.path));
      return { path: formatPath(i.path), line, column: col, message: i.message };
    });
    // In file order, so the list reads top to bottom alongside the file (the sort is stable).
    located.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new SpecError(source, located);
  }
  return spec;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function validate(raw: unknown, issues: SchemaIssue[]): SuiteSpec {
  if (!isRecord(raw)) {
    issues.push({
      path: [],
      message: `expected a mapping with version, models, defaults and suite; got ${raw === null || raw === undefined ? 'an empty document' : Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`,
    });
    return validate({}, []);
  }
  const top = checkObject(raw, SPEC_FIELDS, [], issues);
  if (typeof top.version === 'number' && Number.isInteger(top.version) && top.version !== 1) {
    issues.push({
      path: ['version'],
      message: `unsupported spec version ${top.version}; deltascope reads version 1 (sway's format)`,
    });
  }
  const defaults = checkObject(top.defaults, DEFAULTS_FIELDS, ['defaults'], issues) as Partial<SuiteDefaults>;
  const weights = { ...DEFAULT_WEIGHTS, ...(isRecord(defaults.score_weights) ? defaults.score_weights : {}) };
  if (!Object.values(weights).some((w) => typeof w === 'number' && w > 0)) {
    issues.push({
      path: ['defaults', 'score_weights'],
      message: `at least one category weight must be positive (merged weights: ${JSON.stringify(weights)})`,
    });
  }
  const suite = Array.isArray(top.suite) ? checkSuite(top.suite, issues) : [];
  const models = (isRecord(top.models) ? top.models : {}) as { base: ModelSpec; ft: ModelSpec };
  return {
    version: 1,
    dlm_source: typeof top.dlm_source === 'string' ? top.dlm_source : null,
    models,
    defaults: { ...(defaults as SuiteDefaults), score_weights: weights },
    suite,
  };
}

function checkSuite(entries: readonly unknown[], issues: SchemaIssue[]): SuiteSpec['suite'] {
  const known = [...probeRegistry.keys()].join(', ');
  const out: SuiteSpec['suite'] = [];
  const firstByName = new Map<string, number>();
  entries.forEach((entry, i) => {
    const path: PathSegment[] = ['suite', i];
    if (!isRecord(entry)) {
      issues.push({
        path,
        message: `expected a probe entry (a mapping with name, kind, …); known kinds: ${known}`,
      });
      return;
    }
    const kind = entry.kind;
    const def = typeof kind === 'string' ? probeRegistry.get(kind) : undefined;
    if (def === undefined) {
      // Still check the common fields, so a bad name in the same entry shows up in this pass too.
      const { kind: _kind, ...common } = COMMON_FIELDS;
      checkObject(entry, common, path, issues, true);
      issues.push({
        path: [...path, 'kind'],
        message:
          kind === undefined
            ? `required key "kind" is missing; known kinds: ${known}`
            : `unknown probe kind ${JSON.stringify(kind)}; known kinds: ${known}`,
      });
    } else {
      const local: SchemaIssue[] = [];
      const checked = checkObject(entry, probeSchema(def), path, local) as CommonProbeSpec &
        Record<string, unknown>;
      if (local.length === 0 && def.check !== undefined) {
        for (const { field, message } of def.check(checked)) local.push({ path: [...path, field], message });
      }
      issues.push(...local);
      out.push(checked);
    }
    if (typeof entry.name === 'string') {
      const first = firstByName.get(entry.name);
      if (first === undefined) firstByName.set(entry.name, i);
      else {
        issues.push({
          path: [...path, 'name'],
          message: `duplicate probe name "${entry.name}" (also suite[${first}]); names must be unique`,
        });
      }
    }
  });
  return out;
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
