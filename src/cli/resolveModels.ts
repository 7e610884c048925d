import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ModelLoadError, hubPair, type ModelDtype, type ModelRef, type PairRef } from '../backend/index.ts';
import { directoryPair } from '../backend/nodeModelFiles.ts';
import type { ModelSpec, SuiteSpec } from '../suite/types.ts';

/** Where hub ids resolve: a mirror or a local server in the hub's layout, else huggingface.co. */
export const HUB_HOST_ENV = 'DELTASCOPE_HUB_HOST';

type Side = 'base' | 'ft';

/** A `base` written as a path (not `org/name`): it must then be an existing folder. */
const looksLikePath = (s: string): boolean =>
  isAbsolute(s) || s.startsWith('.') || s.startsWith('~') || s.includes('\\') || s.split('/').length > 2;

function localFolder(side: Side, m: ModelSpec, specDir: string): string | null {
  const path = isAbsolute(m.base) ? m.base : resolve(specDir, m.base);
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) {
      throw new ModelLoadError(
        `models.${side}.base: ${path} is a file; point it at the model folder (config.json, tokenizer.json, onnx/).`,
      );
    }
    return path;
  }
  if (looksLikePath(m.base)) {
    throw new ModelLoadError(
      `models.${side}.base: folder ${path} does not exist (paths are relative to the spec file's folder, ${specDir}).`,
    );
  }
  return null;
}

function checkSupported(side: Side, m: ModelSpec): void {
  if (m.kind !== 'hf') {
    throw new ModelLoadError(
      `models.${side}.kind is "${m.kind}"; the deltascope CLI loads kind "hf" models only (a folder or hub id with an ONNX export).`,
    );
  }
  if (m.adapter !== null) {
    throw new ModelLoadError(
      `models.${side}.adapter (${m.adapter}): runtime LoRA adapters are not supported yet; point ${side}.base at the merged model folder.`,
    );
  }
}

/**
 * Turns a spec's models into a pair for `loadTransformersPair`: an existing folder (relative to the
 * spec file's folder, or absolute) loads from disk; anything else is a hub id, fetched from
 * `$DELTASCOPE_HUB_HOST` or huggingface.co. Kinds other than `hf` and runtime adapters are refused
 * with a message that says what to do instead.
 */
export function resolveSpecModels(
  spec: SuiteSpec,
  specDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PairRef {
  const { base, ft } = spec.models;
  checkSupported('base', base);
  checkSupported('ft', ft);
  const host = env[HUB_HOST_ENV]?.trim() || undefined;
  const ref = (side: Side, m: ModelSpec): { id: string; ref: ModelRef } => {
    const dir = localFolder(side, m, specDir);
    if (dir !== null) return { id: `dir:${dir}`, ref: directoryPair(dir, dir).base };
    try {
      const pair = hubPair({ base: m.base, ft: m.base, ...(host !== undefined ? { host } : {}) });
      return { id: `hub:${pair.base.hub?.host ?? ''}${m.base}`, ref: pair.base };
    } catch (e) {
      throw new ModelLoadError(`models.${side}.base: ${(e as Error).message} Or give an existing folder.`);
    }
  };
  const b = ref('base', base);
  const f = ref('ft', ft);
  return { pairId: `spec:${b.id}|${f.id}`, base: b.ref, ft: f.ref };
}

/** The ONNX dtype for the spec's `dtype`: `auto` is fp32 on CPU (sway's rule); bf16 has no ONNX export here. */
export function dtypeForSpec(spec: SuiteSpec): ModelDtype {
  const { base, ft } = spec.models;
  if (base.dtype !== ft.dtype) {
    throw new ModelLoadError(
      `models.base.dtype (${base.dtype}) and models.ft.dtype (${ft.dtype}) differ; the pair loads with one dtype, so set both the same.`,
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
        'models.*.dtype bf16 has no ONNX export in deltascope; use auto, fp32 or fp16.',
      );
  }
}
