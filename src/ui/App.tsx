import { useEffect, useState } from 'react';

type DeviceInfo = { kind: 'WebGPU' | 'WASM'; detail: string };

/** Feature-detects WebGPU (never sniffs the user agent); WASM is the fallback everywhere. */
async function detectDevice(): Promise<DeviceInfo> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu !== undefined) {
    try {
      const adapter = (await gpu.requestAdapter()) as {
        info?: { description?: string; vendor?: string };
      } | null;
      if (adapter !== null) {
        const info = adapter.info ?? {};
        return { kind: 'WebGPU', detail: info.description || info.vendor || 'adapter' };
      }
    } catch {
      // fall through to WASM
    }
  }
  return { kind: 'WASM', detail: 'no WebGPU adapter' };
}

export function App() {
  const [device, setDevice] = useState<DeviceInfo | null>(null);
  useEffect(() => {
    void detectDevice().then(setDevice);
  }, []);
  return (
    <div className="app">
      <header className="app-header">
        <h1>deltascope</h1>
        <p className="tagline">Did the fine-tune change the model — where, and by how much?</p>
      </header>
      <main>
        <section aria-labelledby="model-heading" className="panel">
          <h2 id="model-heading">Model</h2>
          <p>
            Device:{' '}
            <span className="badge" data-testid="device-badge">
              {device === null ? 'detecting…' : `${device.kind} · ${device.detail}`}
            </span>
          </p>
        </section>
      </main>
    </div>
  );
}
