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

/**
 * Node without a DOM (component tests under jsdom have both `process` and `window`): where model
 * files open by path and Node-only modules load.
 */
export const isNodeWithoutDom = (): boolean =>
  typeof process !== 'undefined' &&
  typeof process.versions?.node === 'string' &&
  typeof window === 'undefined';

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
 * WebGPU when an adapter exists, else WASM; in Node, see `chooseNodeDevice`. An explicit choice that
 * cannot be honoured is an error, not a silent fallback.
 */
export async function chooseDevice(pref: DevicePreference = 'auto'): Promise<DeviceChoice> {
  if (isNode()) return chooseNodeDevice(pref);
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

const NODE_CPU = 'onnxruntime-node (CPU)';

/**
 * Node: "cpu" is onnxruntime-node; "webgpu" is onnxruntime-web's WebGPU provider on Dawn
 * (`nodeWebgpu.ts`), an error naming the likely cause when Dawn finds no adapter; "auto" is WebGPU
 * on a real GPU and onnxruntime-node otherwise, including when the only adapter is CPU-emulated
 * (SwiftShader runs the same kernels several times slower than onnxruntime-node's CPU code, and
 * compiles every pipeline on first use): the detail says which adapter was passed over and why.
 */
async function chooseNodeDevice(pref: DevicePreference): Promise<DeviceChoice> {
  if (pref === 'wasm') {
    throw new ModelLoadError(
      'model-load/unsupported',
      'Device "wasm" is for the browser; in Node choose "cpu", "webgpu" or "auto".',
      { input: 'device' },
    );
  }
  if (pref === 'cpu') return { device: 'cpu', detail: NODE_CPU, shaderF16: false };
  const gpu = await import('./nodeWebgpu.ts');
  const found = await gpu.probeNodeWebGpu();
  if (found === null) {
    if (pref === 'webgpu') {
      throw new ModelLoadError(
        'model-load/unsupported',
        `WebGPU was requested but Dawn found no WebGPU adapter: ${gpu.explainNoAdapter()}`,
        { input: 'device' },
      );
    }
    return { device: 'cpu', detail: `${NODE_CPU}: no WebGPU adapter`, shaderF16: false };
  }
  const label = found.cpuEmulated ? `${found.adapter} (CPU-emulated)` : found.adapter;
  if (pref === 'auto' && found.cpuEmulated) {
    return {
      device: 'cpu',
      detail: `${NODE_CPU}: the WebGPU adapter, ${label}, would be slower`,
      shaderF16: false,
    };
  }
  try {
    await gpu.installNodeWebGpu();
  } catch (e) {
    throw new ModelLoadError(
      'model-load/failed',
      `Dawn found the WebGPU adapter ${label}, but onnxruntime-web could not be set up on it ` +
        `(${e instanceof Error ? e.message : String(e)}); use --device cpu.`,
      { input: 'device', cause: e },
    );
  }
  return { device: 'webgpu', detail: `${label} via Dawn`, shaderF16: found.shaderF16 };
}
