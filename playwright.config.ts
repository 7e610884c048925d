import { defineConfig } from '@playwright/test';

// Debian's Chromium; Playwright never downloads a browser here.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const baseArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const port = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `npx vite preview --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
  projects: [
    {
      // WebGPU through SwiftShader: a real WebGPU adapter, headless, no GPU needed.
      name: 'webgpu',
      use: {
        launchOptions: {
          executablePath,
          args: [
            ...baseArgs,
            '--enable-unsafe-webgpu',
            '--use-webgpu-adapter=swiftshader',
            '--enable-features=Vulkan',
          ],
        },
      },
    },
    {
      // WASM: WebGPU switched off, so the app must take its fallback path.
      name: 'wasm',
      use: {
        launchOptions: {
          executablePath,
          args: [...baseArgs, '--disable-features=WebGPU,Vulkan'],
        },
      },
    },
  ],
});
