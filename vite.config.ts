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
 * Node-only modules that browser code imports dynamically, on a branch taken only in Node: the build
 * gets a stub for each, so no `node:fs` chunk (and, for `nodeWebgpu.ts`, no `dawn.node`) is emitted
 * for a branch the page never takes. `openPair` imports `nodeModelFiles.ts` (folders on disk, the
 * package's demo location); `chooseDevice` imports `nodeWebgpu.ts` (WebGPU through Dawn).
 */
const NODE_ONLY_STUBS: Record<string, string> = {
  './nodeModelFiles.ts':
    "export function nodeResolveContext() { throw new Error('Folders on disk open only in Node.'); }",
  './nodeWebgpu.ts': [
    "const nodeOnly = () => { throw new Error('WebGPU through Dawn is for Node; the browser has its own.'); };",
    'export const probeNodeWebGpu = nodeOnly, installNodeWebGpu = nodeOnly, explainNoAdapter = nodeOnly;',
  ].join('\n'),
};

function nodeOnlyModules(): Plugin {
  const prefix = '\0deltascope:node-only:';
  return {
    name: 'deltascope:node-only-modules',
    enforce: 'pre',
    resolveId(source, importer) {
      return source in NODE_ONLY_STUBS && importer?.includes('/src/backend/') ? prefix + source : null;
    },
    load(id) {
      return id.startsWith(prefix) ? NODE_ONLY_STUBS[id.slice(prefix.length)]! : null;
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
