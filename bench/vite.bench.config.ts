import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Same isolation headers and worker format as the app, so ORT runs as it does there.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Where `npm run bench` keeps the generated 135M-class models (git-ignored; BENCH_MODELS_DIR overrides). */
export const BENCH_MODELS_DIR = resolve(process.env.BENCH_MODELS_DIR ?? here('../.cache/bench-models'));

/**
 * Serves the generated bench models under `/bench-models/` from the cache folder: too big to copy
 * into the page's build (hundreds of MB), and never part of `public/`.
 */
function benchModels(): Plugin {
  return {
    name: 'deltascope-bench-models',
    configurePreviewServer(server) {
      server.middlewares.use('/bench-models', (req, res) => {
        const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(
          /^(\.\.[/\\])+/,
          '',
        );
        const file = join(BENCH_MODELS_DIR, rel);
        if (!file.startsWith(BENCH_MODELS_DIR) || !existsSync(file) || !statSync(file).isFile()) {
          res.statusCode = 404;
          res.end();
          return;
        }
        res.statusCode = 200;
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader(
          'Content-Type',
          file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        );
        if (req.method === 'HEAD') res.end();
        else createReadStream(file).pipe(res);
      });
    },
  };
}

/** The bench page: its own root and outDir, the app's public/ (demo models, ORT wasm). */
export default defineConfig({
  root: here('./browser'),
  publicDir: here('../public'),
  plugins: [benchModels()],
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
