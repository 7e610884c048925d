/**
 * GPU buffer memory, as far as a page can know it. WebGPU has no memory query and onnxruntime-web
 * does not report its allocations, so the meter counts at the one door every allocation passes:
 * `GPUDevice.prototype.createBuffer` (adds `size`) and `GPUBuffer.prototype.destroy` (subtracts it
 * once). What it measures: bytes of GPU buffers created in this realm (the worker) and not yet
 * destroyed — ORT's weights, KV cache, intermediates and its buffer pool. Not counted: textures,
 * buffers dropped without `destroy()` (counted until then), the driver's own overhead, and anything
 * allocated before `install` ran. Where WebGPU is absent the meter is not installed and reads null.
 */
export interface GpuMemoryMeter {
  /** Bytes alive now. */
  readonly liveBytes: number;
  /**
   * The most bytes alive at once since the last `takePeak` (or since install); null until the first
   * buffer is created (a WASM session: no GPU memory to speak of, rather than "0 B").
   */
  takePeak(): number | null;
}

interface GpuLike {
  GPUDevice?: { prototype: { createBuffer?: (desc: { size: number }) => unknown } };
  GPUBuffer?: { prototype: { destroy?: () => void } };
}

let installed: GpuMemoryMeter | null = null;

/** Installs the meter once per realm; null where WebGPU's classes do not exist. */
export function installGpuMemoryMeter(g: GpuLike = globalThis as unknown as GpuLike): GpuMemoryMeter | null {
  if (installed !== null && g === (globalThis as unknown as GpuLike)) return installed;
  const devProto = g.GPUDevice?.prototype;
  const bufProto = g.GPUBuffer?.prototype;
  const create = devProto?.createBuffer;
  const destroy = bufProto?.destroy;
  if (devProto === undefined || bufProto === undefined || create === undefined || destroy === undefined)
    return null;
  const sizes = new WeakMap<object, number>();
  let live = 0;
  let peak = 0;
  let created = false;
  devProto.createBuffer = function (this: unknown, desc: { size: number }) {
    const buffer = create.call(this, desc);
    const size = typeof desc?.size === 'number' && Number.isFinite(desc.size) ? desc.size : 0;
    if (typeof buffer === 'object' && buffer !== null && size > 0) {
      created = true;
      sizes.set(buffer, size);
      live += size;
      if (live > peak) peak = live;
    }
    return buffer;
  };
  bufProto.destroy = function (this: object) {
    const size = sizes.get(this);
    if (size !== undefined) {
      sizes.delete(this);
      live -= size;
    }
    return destroy.call(this);
  };
  const meter: GpuMemoryMeter = {
    get liveBytes() {
      return live;
    },
    takePeak() {
      if (!created) return null;
      const p = peak;
      peak = live;
      return p;
    },
  };
  if (g === (globalThis as unknown as GpuLike)) installed = meter;
  return meter;
}
