import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { DeltascopeError, errorMessage } from '../core/index.ts';
import {
  ModelLoadError,
  resolveLocation,
  type ModelDtype,
  type ModelLocation,
  type ModelSource,
} from '../backend/index.ts';
import { nodeResolveContext } from '../backend/nodeModelFiles.ts';
import type { ModelSpec, SuiteSpec } from '../suite/types.ts';

/** Where hub ids resolve: a mirror or a local server in the hub's layout, else huggingface.co. */
export const HUB_HOST_ENV = 'DELTASCOPE_HUB_HOST';

type Side = 'base' | 'ft';

/** A `base` written as a path (not `org/name`): it must then be an existing folder. */
const looksLikePath = (s: string): boolean =>
  isAbsolute(s) || s.startsWith('.') || s.startsWith('~') || s.includes('\\') || s.split('/').length > 2;

/** `value` as an existing folder (relative to `dir`), null when it reads as a hub id instead. */
function localFolder(field: string, value: string, dir: string, relativeTo: string): string | null {
  const path = isAbsolute(value) ? value : resolve(dir, value);
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) {
      throw new ModelLoadError(
        'model-load/bad-source',
        `${field}: ${path} is a file; point it at the model folder (config.json, tokenizer.json, onnx/).`,
        { input: field },
      );
    }
    return path;
  }
  if (looksLikePath(value)) {
    throw new ModelLoadError(
      'model-load/bad-source',
      `${field}: folder ${path} does not exist (paths are relative to ${relativeTo}, ${dir}).`,
      { input: field },
    );
  }
  return null;
}

/**
 * One model given on the command line or in a spec: an existing folder (relative to `dir`, or
 * absolute) loads from disk; anything else is a hub id on `$DELTASCOPE_HUB_HOST` or huggingface.co.
 * A malformed hub id is refused here, before anything loads, naming `field`.
 */
export function modelLocation(
  field: string,
  value: string,
  dir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  relativeTo = 'the current folder',
): ModelLocation {
  const host = env[HUB_HOST_ENV]?.trim() || undefined;
  const folder = localFolder(field, value, dir, relativeTo);
  const loc: ModelLocation =
    folder !== null
      ? { kind: 'dir', path: folder }
      : { kind: 'hub', id: value, ...(host !== undefined ? { host } : {}) };
  try {
    resolveLocation(loc, nodeResolveContext());
  } catch (e) {
    if (!(e instanceof DeltascopeError)) throw e;
    throw new ModelLoadError(
      'model-load/bad-source',
      `${field}: ${errorMessage(e)} Or give an existing folder.`,
      {
        input: field,
      },
    );
  }
  return loc;
}

function checkSupported(side: Side, m: ModelSpec): void {
  if (m.kind !== 'hf') {
    throw new ModelLoadError(
      'model-load/unsupported',
      `models.${side}.kind is "${m.kind}"; the deltascope CLI loads kind "hf" models only (a folder or hub id with an ONNX export).`,
      { input: `models.${side}.kind` },
    );
  }
  if (side === 'base' && m.adapter !== null) {
    throw new ModelLoadError(
      'model-load/unsupported',
      `models.base.adapter (${m.adapter}): the base view is the plain base model; put the adapter on models.ft ` +
        '(ft: {base: <the same base>, adapter: <adapter folder or hub id>}).',
      { input: 'models.base.adapter' },
    );
  }
}

/**
 * Turns a spec's models into the source `openPair` opens: an existing folder (relative to the spec
 * file's folder, or absolute) loads from disk; anything else is a hub id, fetched from
 * `$DELTASCOPE_HUB_HOST` or huggingface.co. `models.ft.adapter` (a PEFT adapter folder or hub id)
 * makes ft its base plus that adapter, opened as one model (runtime LoRA). Kinds other than `hf`, an
 * adapter on the base side and malformed hub ids are refused here, before anything loads, with the
 * spec field at fault.
 */
export function resolveSpecModels(
  spec: SuiteSpec,
  specDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Extract<ModelSource, { kind: 'pair' }> {
  const location = (side: Side, m: ModelSpec): ModelLocation => {
    checkSupported(side, m);
    return modelLocation(`models.${side}.base`, m.base, specDir, env, "the spec file's folder");
  };
  const base = location('base', spec.models.base);
  const ft = location('ft', spec.models.ft);
  const adapter = spec.models.ft.adapter;
  if (adapter === null) return { kind: 'pair', base, ft };
  // sway's runtime LoRA: ft is its base plus a PEFT adapter (a folder or a hub repo).
  const where = modelLocation('models.ft.adapter', adapter, specDir, env, "the spec file's folder");
  return { kind: 'pair', base, ft: { kind: 'adapter', base: ft, adapter: where } };
}

/** The ONNX dtype for the spec's `dtype`: `auto` is fp32 on CPU (sway's rule); bf16 has no ONNX export here. */
export function dtypeForSpec(spec: SuiteSpec): ModelDtype {
  const { base, ft } = spec.models;
  if (base.dtype !== ft.dtype) {
    throw new ModelLoadError(
      'model-load/unsupported',
      `models.base.dtype (${base.dtype}) and models.ft.dtype (${ft.dtype}) differ; the pair loads with one dtype, so set both the same.`,
      { input: 'models.ft.dtype' },
    );
  }
  switch (base.dtype) {
    case 'auto':
    case 'fp32':
      return 'fp32';
    case 'fp16':
      return 'fp16';
    case 'bf16':
      throw new ModelLoadError(
        'model-load/unsupported',
        'models.*.dtype bf16 has no ONNX export in deltascope; use auto, fp32 or fp16.',
        { input: 'models.base.dtype' },
      );
  }
}
