import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets onnxruntime-web use multi-threaded WASM (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The ORT runtime is served from public/ort/ (copied there by scripts/copyOrtAssets.mjs) and the
 * loader always sets `wasmPaths` to it. onnxruntime-web also names its .wasm through
 * `new URL("…wasm", import.meta.url)`, which makes Vite emit a second 27 MB copy into assets/; this
 * turns that unused default into a runtime expression, so dist/ holds the runtime once.
 */
function ortRuntimeFromPublic(): Plugin {
  const pattern = /new URL\(\s*(["'])(ort-wasm-[\w.-]+\.wasm)\1,\s*import\.meta\.url\s*\)/g;
  return {
    name: 'deltascope:ort-runtime-from-public',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('onnxruntime-web') && !id.includes('@huggingface/transformers')) return null;
      const out = code.replace(pattern, 'new URL("ort/$2", self.location.origin + import.meta.env.BASE_URL)');
      return out === code ? null : { code: out, map: null };
    },
  };
}

/**
 * `openPair` imports `nodeModelFiles.ts` (folders on disk, the package's demo location) only when it
 * runs in Node. The browser build gets a stub instead, so no `node:fs` chunk is emitted for a branch
 * the page never takes.
 */
function nodeOnlyModules(): Plugin {
  const stub = '\0deltascope:node-model-files';
  return {
    name: 'deltascope:node-only-modules',
    enforce: 'pre',
    resolveId(source, importer) {
      return source === './nodeModelFiles.ts' && importer?.includes('/src/backend/') ? stub : null;
    },
    load(id) {
      if (id !== stub) return null;
      return "export function nodeResolveContext() { throw new Error('Folders on disk open only in Node.'); }";
    },
  };
}

export default defineConfig({
  plugins: [react(), ortRuntimeFromPublic(), nodeOnlyModules()],
  worker: { format: 'es', plugins: () => [ortRuntimeFromPublic(), nodeOnlyModules()] },
  server: { headers: isolationHeaders, host: 'localhost', port: 5173 },
  preview: { headers: isolationHeaders, host: 'localhost', port: 4173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
