// The demo base's folder with onnx/model.onnx replaced by the base graph rewritten with the demo
// adapter (A/B baked in as initializers): what transformers.js opens as an ordinary model folder.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectionDims, rewriteBaseWithAdapter } from '../../src/adapter/index.ts';

export const DEMO = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo');

/** Writes `<scratch>/demo-lora` and returns its path. */
export function writeRewrittenDemoFolder(scratch: string): string {
  const json = (p: string): unknown => JSON.parse(readFileSync(join(DEMO, p), 'utf8'));
  const lora = rewriteBaseWithAdapter(
    new Uint8Array(readFileSync(join(DEMO, 'base', 'onnx', 'model.onnx'))),
    {
      config: json('adapter/adapter_config.json'),
      safetensors: new Uint8Array(readFileSync(join(DEMO, 'adapter', 'adapter_model.safetensors'))),
    },
    projectionDims(json('base/config.json')),
  );
  const dir = join(scratch, 'demo-lora');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(DEMO, 'base', f), join(dir, f));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), lora.bytes);
  return dir;
}
