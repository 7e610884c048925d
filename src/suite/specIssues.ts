/**
 * zod's issues as messages a person writing a `sway.yaml` can act on: what was expected, what was
 * found, and for an unknown key, the known ones. `specErrorMap` words each issue while zod still
 * holds the schema that raised it; `toPathIssues` splits an unknown-keys issue into one per key.
 */
import type { z } from 'zod';

export type PathSegment = string | number;

/** One problem at a path in the spec, before it is located in the YAML text. */
export interface PathIssue {
  path: PathSegment[];
  message: string;
}

/** `suite[2].prompts[0]`; `(root)` for the document itself. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out || '(root)';
}

/** What a value is, in the spec's terms: `string "x"`, `number 1.5`, `a list`, `a mapping`, `null`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

type RawIssue = z.core.$ZodRawIssue;

/** The schema's definition behind an issue (zod passes the schema or check that raised it). */
const defOf = (iss: RawIssue): Record<string, unknown> =>
  ((iss.inst as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def ?? {}) as Record<
    string,
    unknown
  >;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The user-facing message for one zod issue; undefined leaves zod's own wording. */
export function specErrorMap(iss: RawIssue): string | undefined {
  const input: unknown = iss.input;
  switch (iss.code) {
    case 'invalid_type': {
      if (input === undefined) return `required key "${String(iss.path?.at(-1) ?? '')}" is missing`;
      // z.int() says `int` for a fraction but `number` for a non-number; its def names the format.
      const whole = iss.expected === 'int' || (iss.expected === 'number' && defOf(iss).format !== undefined);
      if (whole || iss.expected === 'number') {
        const what = whole ? 'a whole number' : 'a finite number';
        if (typeof input === 'number') return `expected ${what}, got ${input}`;
        return `expected ${whole ? what : 'a number'}, got ${describeValue(input)}`;
      }
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describeValue(input)}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = iss.code === 'too_small';
      const bound = Number(small ? iss.minimum : iss.maximum);
      if (iss.origin === 'array') {
        const n = Array.isArray(input) ? input.length : 0;
        const items = defOf(iss).items;
        if (Array.isArray(items)) return `expected a list of ${items.length} values, got ${n}`;
        return small
          ? `needs at least ${plural(bound, 'item')}, got ${n}`
          : `allows at most ${plural(bound, 'item')}, got ${n}`;
      }
      const op = small ? (iss.inclusive ? '≥' : '>') : iss.inclusive ? '≤' : '<';
      return `must be ${op} ${bound}, got ${String(input)}`;
    }
    case 'invalid_value':
      return `must be one of ${iss.values.map(String).join(', ')}; got ${describeValue(input)}`;
    case 'unrecognized_keys': {
      // One issue for all the unknown keys of a mapping; `toPathIssues` names each key.
      const shape = defOf(iss).shape;
      return `known keys: ${Object.keys(typeof shape === 'object' && shape !== null ? shape : {}).join(', ')}`;
    }
    default:
      return undefined;
  }
}

/** zod's issues (worded by `specErrorMap`) as path + message, one per unknown key. */
export function toPathIssues(issues: readonly z.core.$ZodIssue[]): PathIssue[] {
  const out: PathIssue[] = [];
  for (const iss of issues) {
    const path = iss.path.map((seg) => (typeof seg === 'number' ? seg : String(seg)));
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys)
        out.push({ path: [...path, key], message: `unknown key "${key}"; ${iss.message}` });
    } else {
      out.push({ path, message: iss.message });
    }
  }
  return out;
}
