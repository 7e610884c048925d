import { env } from '@huggingface/transformers';

interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
}

/** What the watch needs of a runner: whether it is still in use, and how to fail it from now on. */
export interface WatchedRunner {
  readonly isDisposed: boolean;
  markDeviceLost(message: string): void;
}

/**
 * Watches the GPUDevice ORT's WebGPU sessions share (created with the first session) and, once it is
 * lost, fails every live runner with the reason and calls `onLost`. Returns the unsubscribe (a
 * disposed pair stops listening). The device is also published as `self.deltascopeGpuDevice` for
 * inspection from the worker's DevTools console.
 */
export async function watchDeviceLoss(
  runners: readonly WatchedRunner[],
  onLost: ((message: string) => void) | undefined,
): Promise<() => void> {
  const webgpu = (env.backends.onnx as unknown as { webgpu?: { device?: Promise<GpuDeviceLike> } }).webgpu;
  const gpu = await webgpu?.device;
  if (gpu === undefined) return () => {};
  (globalThis as { deltascopeGpuDevice?: GpuDeviceLike }).deltascopeGpuDevice = gpu;
  let active = true;
  // Weak: the watch must not keep a disposed pair (its tokenizers) alive until the device goes.
  const refs = runners.map((r) => new WeakRef(r));
  void gpu.lost.then((info) => {
    if (!active) return;
    // ORT destroys its device itself once the last session is released (a pair disposed on reload):
    // that is not a loss for a pair that is gone.
    const live = refs.map((r) => r.deref()).filter((r) => r !== undefined && !r.isDisposed);
    if (live.length === 0) return;
    const why =
      [info.reason, info.message?.replace(/\.+$/, '')].filter((s) => !!s).join(': ') || 'unknown reason';
    const message =
      `The WebGPU device was lost (${why}). Nothing more can run on this pair: restart the engine ` +
      '(on WebGPU, or on WASM, which needs no GPU). Trace events recorded so far are kept.';
    for (const r of live) r!.markDeviceLost(message);
    onLost?.(message);
  });
  return () => {
    active = false;
  };
}
