import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Same isolation headers and worker format as the app, so ORT runs as it does there.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The bench page: its own root and outDir, the app's public/ (demo models, ORT wasm). */
export default defineConfig({
  root: here('./browser'),
  publicDir: here('../public'),
  worker: { format: 'es' },
  preview: { headers: isolationHeaders, host: 'localhost' },
  build: {
    // Under node_modules/.cache: ignored by git, eslint and prettier, and never the app's dist/.
    outDir: here('../node_modules/.cache/deltascope-bench/page'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  logLevel: 'warn',
});
