import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { SETTLE_RUN_CHAINS_FILE, settleRunChains } from './scripts/settleRunChains.ts';

// Cross-origin isolation lets onnxruntime-web use multi-threaded WASM (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The page's Content-Security-Policy: only our own scripts (no inline script, no eval; WebAssembly
 * compilation is allowed, onnxruntime-web needs it), workers from our origin, and network access to
 * our origin, the Hugging Face hub and its CDNs, local mirrors (`localhost`, `127.0.0.1`, any port)
 * and the origins in `DELTASCOPE_CONNECT_SRC` (space-separated, read at build and preview time, for
 * a mirror elsewhere). `blob:`/`data:` cover files picked from disk and the rewritten LoRA model,
 * which the worker reads from memory. Served as a header by `npm start` / `vite preview` and as a
 * `<meta>` tag in the built `index.html` (for static hosting; `frame-ancestors` works only as a
 * header). The dev server (`npm run dev`) has none: Vite's hot reload injects inline scripts.
 */
export function contentSecurityPolicy(forMeta = false): string {
  const extra = (process.env.DELTASCOPE_CONNECT_SRC ?? '').split(/\s+/).filter(Boolean);
  const directives = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    [
      "connect-src 'self' blob: data:",
      'https://huggingface.co https://*.huggingface.co https://*.hf.co',
      'http://localhost:* http://127.0.0.1:*',
      ...extra,
    ].join(' '),
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    ...(forMeta ? [] : ["frame-ancestors 'none'"]),
  ];
  return directives.join('; ');
}

/** The CSP as a `<meta>` tag in the built `index.html` (not in dev: see `contentSecurityPolicy`). */
function cspMeta(): Plugin {
  return {
    name: 'deltascope:csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy(true) },
        injectTo: 'head-prepend',
      },
    ],
  };
}

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

/** transformers.js's session queue, made to survive a failed call (scripts/settleRunChains.ts). */
function transformersRunChains(): Plugin {
  return {
    name: 'deltascope:settle-run-chains',
    enforce: 'pre',
    transform(code, id) {
      return SETTLE_RUN_CHAINS_FILE.test(id.split('?')[0]!)
        ? { code: settleRunChains(code, id), map: null }
        : null;
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
  plugins: [react(), ortRuntimeFromPublic(), transformersRunChains(), nodeOnlyModules(), cspMeta()],
  worker: {
    format: 'es',
    plugins: () => [ortRuntimeFromPublic(), transformersRunChains(), nodeOnlyModules()],
  },
  server: { headers: isolationHeaders, host: 'localhost', port: 5173 },
  preview: {
    headers: { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy() },
    host: 'localhost',
    port: 4173,
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  // transformers.js is not pre-bundled, so its browser build goes through `transformersRunChains` in dev too.
  optimizeDeps: { exclude: ['onnxruntime-web', '@huggingface/transformers'] },
});
