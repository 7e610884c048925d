/**
 * A small declarative schema for YAML/JSON spec objects. Probes declare their fields with it; the
 * spec loader validates every probe entry against it and reports every problem at once, each with
 * its path (e.g. `suite[2].prompts[0]`), so a user can fix a spec in one pass.
 */
export type PathSegment = string | number;

export interface SchemaIssue {
  path: PathSegment[];
  message: string;
}

export type FieldType =
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'number'; min?: number; max?: number; exclusiveMin?: number }
  | { type: 'int'; min?: number; max?: number }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; of: FieldType; minItems?: number; maxItems?: number }
  | { type: 'object'; fields: FieldSchema; allowUnknown?: boolean }
  | { type: 'map'; of: FieldType }
  | { type: 'tuple'; items: readonly FieldType[] }
  | { type: 'any' };

export type FieldSpec = FieldType & {
  /** Applied when the key is absent. A field with neither `default` nor `optional` is required. */
  default?: unknown;
  optional?: boolean;
  /** Nullable: `null` is allowed and kept. */
  nullable?: boolean;
  description?: string;
};

export type FieldSchema = Readonly<Record<string, FieldSpec>>;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out || '(root)';
}

const typeName = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v)}`;

/** Checks one value against a field type; returns the value with defaults applied. */
export function checkValue(
  value: unknown,
  t: FieldType,
  path: PathSegment[],
  issues: SchemaIssue[],
): unknown {
  switch (t.type) {
    case 'any':
      return value;
    case 'string':
      if (typeof value !== 'string')
        issues.push({ path, message: `expected a string, got ${typeName(value)}` });
      else if (t.nonEmpty && value.trim() === '') issues.push({ path, message: 'must not be empty' });
      return value;
    case 'boolean':
      if (typeof value !== 'boolean')
        issues.push({ path, message: `expected true or false, got ${typeName(value)}` });
      return value;
    case 'number':
    case 'int': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        issues.push({
          path,
          message: `expected a ${t.type === 'int' ? 'whole number' : 'number'}, got ${typeName(value)}`,
        });
        return value;
      }
      if (t.type === 'int' && !Number.isInteger(value)) {
        issues.push({ path, message: `expected a whole number, got ${value}` });
      }
      if (t.min !== undefined && value < t.min)
        issues.push({ path, message: `must be ≥ ${t.min}, got ${value}` });
      if (t.max !== undefined && value > t.max)
        issues.push({ path, message: `must be ≤ ${t.max}, got ${value}` });
      if (t.type === 'number' && t.exclusiveMin !== undefined && value <= t.exclusiveMin) {
        issues.push({ path, message: `must be > ${t.exclusiveMin}, got ${value}` });
      }
      return value;
    }
    case 'enum':
      if (typeof value !== 'string' || !t.values.includes(value)) {
        issues.push({ path, message: `must be one of ${t.values.join(', ')}; got ${typeName(value)}` });
      }
      return value;
    case 'list': {
      if (!Array.isArray(value)) {
        issues.push({ path, message: `expected a list, got ${typeName(value)}` });
        return value;
      }
      if (t.minItems !== undefined && value.length < t.minItems) {
        issues.push({
          path,
          message: `needs at least ${t.minItems} item${t.minItems === 1 ? '' : 's'}, got ${value.length}`,
        });
      }
      if (t.maxItems !== undefined && value.length > t.maxItems) {
        issues.push({ path, message: `allows at most ${t.maxItems} items, got ${value.length}` });
      }
      return value.map((item, i) => checkValue(item, t.of, [...path, i], issues));
    }
    case 'tuple': {
      if (!Array.isArray(value) || value.length !== t.items.length) {
        issues.push({ path, message: `expected a list of ${t.items.length} values, got ${typeName(value)}` });
        return value;
      }
      return value.map((item, i) => checkValue(item, t.items[i]!, [...path, i], issues));
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        issues.push({ path, message: `expected a mapping, got ${typeName(value)}` });
        return value;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = checkValue(v, t.of, [...path, k], issues);
      return out;
    }
    case 'object':
      return checkObject(value, t.fields, path, issues, t.allowUnknown ?? false);
  }
}

/**
 * Validates a mapping against a schema: unknown keys are rejected by name (with the known ones
 * listed), missing required keys are reported, defaults are filled in.
 */
export function checkObject(
  value: unknown,
  fields: FieldSchema,
  path: PathSegment[],
  issues: SchemaIssue[],
  allowUnknown = false,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, message: `expected a mapping, got ${typeName(value)}` });
    return {};
  }
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in fields) && !allowUnknown) {
      issues.push({
        path: [...path, key],
        message: `unknown key "${key}"; known keys: ${Object.keys(fields).join(', ')}`,
      });
    }
  }
  for (const [key, spec] of Object.entries(fields)) {
    if (!(key in input) || input[key] === undefined) {
      if (spec.default !== undefined) out[key] = structuredClone(spec.default);
      else if (!spec.optional)
        issues.push({ path: [...path, key], message: `required key "${key}" is missing` });
      continue;
    }
    const v = input[key];
    if (v === null && (spec.nullable || spec.optional)) {
      out[key] = spec.default !== undefined && !spec.nullable ? structuredClone(spec.default) : null;
      continue;
    }
    out[key] = checkValue(v, spec, [...path, key], issues);
  }
  if (allowUnknown) for (const key of Object.keys(input)) if (!(key in fields)) out[key] = input[key];
  return out;
}
