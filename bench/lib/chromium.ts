import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser } from 'playwright';
import type { BrowserDevice } from '../browser/benchWorkerApi.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Unquantised performance.memory, for the export's peak-heap figure.
  '--enable-precise-memory-info',
];

/** The same flags as playwright.config.ts's projects: SwiftShader WebGPU, or WebGPU off for WASM. */
export function launchChromium(device: BrowserDevice, more: string[] = []): Promise<Browser> {
  const extra =
    device === 'webgpu'
      ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan']
      : ['--disable-features=WebGPU,Vulkan', '--disable-gpu'];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...BASE_ARGS, ...extra, ...more] });
}

export const DEVICE_LABEL: Record<BrowserDevice, string> = {
  wasm: 'Chromium · WASM (CPU)',
  webgpu: 'Chromium · WebGPU via SwiftShader (CPU-emulated GPU)',
};

export interface Preview {
  url: string;
  stop(): Promise<void>;
}

/** `vite preview` on a free-ish port; resolves once it answers, so the caller can navigate. */
export async function startPreview(args: string[], port: number): Promise<Preview> {
  const child: ChildProcess = spawn(
    'npx',
    ['vite', 'preview', '--port', String(port), '--strictPort', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`vite preview exited (${child.exitCode}): ${log.slice(-500)}`);
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`vite preview did not answer on ${url}: ${log.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    async stop() {
      // npx spawns vite as a child: end the whole process group we started, by its id.
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    },
  };
}

/** A port for this run: env override, else one off the e2e default so a running e2e is not disturbed. */
export function benchPort(offset: number): number {
  return Number(process.env.BENCH_PORT ?? 4390) + offset;
}

export async function chromiumVersion(): Promise<string | null> {
  try {
    const b = await chromium.launch({ executablePath: CHROMIUM_PATH, args: BASE_ARGS });
    const v = b.version();
    await b.close();
    return v;
  } catch {
    return null;
  }
}
