import { ModelLoadError } from './errors.ts';
import type { DeviceKind } from './types.ts';

export type DevicePreference = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export interface DeviceChoice {
  device: DeviceKind;
  /** The GPU adapter's description for WebGPU, else a short note. */
  detail: string;
  /** Whether the adapter can run fp16 shaders. */
  shaderF16: boolean;
}

interface GpuAdapterLike {
  features: { has(name: string): boolean };
  info?: { description?: string; vendor?: string; architecture?: string; device?: string };
}

export const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

/** Asks the browser for a WebGPU adapter; null when there is none (or no WebGPU at all). */
export async function requestGpuAdapter(): Promise<GpuAdapterLike | null> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(o?: object): Promise<unknown> } } | undefined)
    ?.gpu;
  if (gpu === undefined) return null;
  try {
    return (
      ((await gpu.requestAdapter({ powerPreference: 'high-performance' })) as GpuAdapterLike | null) ?? null
    );
  } catch {
    return null;
  }
}

export function describeAdapter(adapter: GpuAdapterLike): string {
  const info = adapter.info ?? {};
  const parts = [info.description, info.vendor, info.architecture].filter((s): s is string => !!s);
  return parts.length > 0 ? [...new Set(parts)].join(' · ') : 'WebGPU adapter';
}

/**
 * WebGPU when an adapter exists, else WASM; in Node, onnxruntime-node on CPU. An explicit choice
 * that cannot be honoured is an error, not a silent fallback.
 */
export async function chooseDevice(pref: DevicePreference = 'auto'): Promise<DeviceChoice> {
  if (isNode()) {
    if (pref === 'webgpu' || pref === 'wasm') {
      throw new ModelLoadError(
        'model-load/unsupported',
        `Device "${pref}" is for the browser; in Node deltascope runs on "cpu".`,
      );
    }
    return { device: 'cpu', detail: 'onnxruntime-node (CPU)', shaderF16: false };
  }
  if (pref === 'cpu') {
    throw new ModelLoadError(
      'model-load/unsupported',
      'Device "cpu" is for Node; in the browser choose "webgpu", "wasm" or "auto".',
    );
  }
  if (pref === 'wasm') return { device: 'wasm', detail: 'WebAssembly (CPU)', shaderF16: false };
  const adapter = await requestGpuAdapter();
  if (adapter === null) {
    if (pref === 'webgpu') {
      throw new ModelLoadError(
        'model-load/unsupported',
        'WebGPU was requested but this browser offers no WebGPU adapter. Use a recent Chrome, enable WebGPU, ' +
          'or choose "wasm".',
      );
    }
    return { device: 'wasm', detail: 'WebAssembly (CPU): no WebGPU adapter', shaderF16: false };
  }
  return {
    device: 'webgpu',
    detail: describeAdapter(adapter),
    shaderF16: adapter.features.has('shader-f16'),
  };
}
