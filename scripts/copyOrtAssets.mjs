// Copies onnxruntime-web's WASM runtime into public/ort/ so the app serves it from its own origin:
// transformers.js would otherwise fetch it from a CDN, which fails offline.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// transformers.js imports `onnxruntime-web/webgpu`, whose runtime is the asyncify build.
export const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

const ortDist = join(root, 'node_modules', 'onnxruntime-web', 'dist');
const outDir = join(root, 'public', 'ort');
mkdirSync(outDir, { recursive: true });
for (const name of ORT_FILES) {
  const from = join(ortDist, name);
  const to = join(outDir, name);
  let fresh;
  try {
    fresh = statSync(to).size === statSync(from).size && statSync(to).mtimeMs >= statSync(from).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh) copyFileSync(from, to);
}
console.log(`onnxruntime-web runtime ready in public/ort/ (${ORT_FILES.length} files)`);
