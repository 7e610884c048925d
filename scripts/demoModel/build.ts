/**
 * Builds the deltascope demo model pair: a tiny Llama base fit to corpus.md,
 * a fine-tune (base + LoRA on lm_head) fit to document.md, their shared
 * byte-level BPE tokenizer, the PEFT adapter, and a manifest of hashes.
 *
 *   npx tsx scripts/demoModel/build.ts [outDir]    (default public/models/deltascope-demo)
 *
 * Deterministic: seeded randomness, fixed iteration counts, fixed key orders.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { tokenizerConfigJson, tokenizerJson, trainByteLevelBpe } from './byteLevelBpeTrainer.ts';
import {
  BOS_ID,
  DEMO_DIMS,
  EOS_ID,
  generationConfigJson,
  llamaConfigJson,
  type LlamaDims,
} from './demoModelConfig.ts';
import { DEFAULT_FIT_OPTIONS, fitDemoModels } from './demoModelFit.ts';
import { encodeLlamaOnnx } from './llamaOnnxGraph.ts';
import { scoreSentences } from './logprobScoring.ts';
import { encodeSafetensors } from './safetensorsFormat.ts';
import { heldOutSentences, readText, splitSentences } from './trainingTexts.ts';
import { renderDemoReadme, type DemoFigures } from './demoReadme.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_OUT_DIR = join(REPO_ROOT, 'public', 'models', 'deltascope-demo');
export const MODEL_NAME = 'deltascope-demo';
const GENERATED_DIRS = ['base', 'ft', 'adapter'];

export interface BuildResult {
  outDir: string;
  /** Relative path → SHA-256 hex, as in MANIFEST.json. */
  files: Record<string, string>;
  figures: DemoFigures;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function buildDemoModels(outDir: string = DEFAULT_OUT_DIR, dims: LlamaDims = DEMO_DIMS): BuildResult {
  const corpusText = readText('corpus.md');
  const documentText = readText('document.md');
  const heldOutText = readText('heldout.md');

  const bpe = trainByteLevelBpe(`${corpusText}\n${documentText}`, dims.vocabSize - 3 - 256);
  if (bpe.vocab.length !== dims.vocabSize) {
    throw new Error(
      `build: the texts yield ${bpe.vocab.length} tokens but vocab_size is ${dims.vocabSize}; add text or lower vocabSize`,
    );
  }
  const tokJson = tokenizerJson(bpe);
  const tokConfig = tokenizerConfigJson(dims.maxPositions);
  const tokenizer = new PreTrainedTokenizer(tokJson, tokConfig);
  const encode = (s: string): number[] => tokenizer.encode(s, { add_special_tokens: false });

  const corpusSentences = splitSentences(corpusText);
  const documentSentences = splitSentences(documentText);
  const frame = (s: string): number[] => [BOS_ID, ...encode(s), EOS_ID];
  const fit = fitDemoModels(
    dims,
    corpusSentences.map(frame),
    documentSentences.map(frame),
    DEFAULT_FIT_OPTIONS,
  );

  const docTokens = documentSentences.map(encode);
  const heldTokens = heldOutSentences().map(encode);
  const baseDoc = scoreSentences(dims, fit.base, docTokens);
  const ftDoc = scoreSentences(dims, fit.ft, docTokens);
  const baseHeld = scoreSentences(dims, fit.base, heldTokens);
  const ftHeld = scoreSentences(dims, fit.ft, heldTokens);
  const figures: DemoFigures = {
    documentBase: baseDoc.meanPerToken,
    documentFt: ftDoc.meanPerToken,
    heldOutBase: baseHeld.meanPerToken,
    heldOutFt: ftHeld.meanPerToken,
    corpusSentences: corpusSentences.length,
    documentSentences: documentSentences.length,
    heldOutSentences: heldTokens.length,
  };

  const files = new Map<string, Uint8Array | string>();
  const modelFiles = (kind: 'base' | 'ft', onnx: Uint8Array): void => {
    files.set(`${kind}/config.json`, json(llamaConfigJson(dims)));
    files.set(`${kind}/generation_config.json`, json(generationConfigJson()));
    files.set(`${kind}/tokenizer.json`, json(tokJson));
    files.set(`${kind}/tokenizer_config.json`, json(tokConfig));
    files.set(`${kind}/onnx/model.onnx`, onnx);
  };
  modelFiles(
    'base',
    encodeLlamaOnnx(
      dims,
      fit.base,
      'deltascope demo base: tiny Llama fit to corpus.md. Linear weights are stored [in, out].',
    ),
  );
  modelFiles(
    'ft',
    encodeLlamaOnnx(
      dims,
      fit.ft,
      'deltascope demo fine-tune: base + merged LoRA on lm_head fit to document.md. Linear weights are stored [in, out].',
    ),
  );

  const { rank, alpha, a, b } = fit.lora;
  files.set(
    'adapter/adapter_config.json',
    json({
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: `${MODEL_NAME}/base`,
      bias: 'none',
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: alpha,
      lora_dropout: 0.0,
      modules_to_save: null,
      peft_type: 'LORA',
      r: rank,
      rank_pattern: {},
      revision: null,
      target_modules: ['lm_head'],
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: false,
    }),
  );
  files.set(
    'adapter/adapter_model.safetensors',
    encodeSafetensors(
      new Map([
        ['base_model.model.lm_head.lora_A.weight', { shape: [rank, dims.hiddenSize], data: a }],
        ['base_model.model.lm_head.lora_B.weight', { shape: [dims.vocabSize, rank], data: b }],
      ]),
      { format: 'pt' },
    ),
  );
  files.set('corpus.md', corpusText);
  files.set('document.md', documentText);
  files.set('heldout.md', heldOutText);
  files.set('README.md', renderDemoReadme(dims, DEFAULT_FIT_OPTIONS, figures));

  for (const dir of GENERATED_DIRS) rmSync(join(outDir, dir), { recursive: true, force: true });
  for (const [rel, content] of files) {
    const full = join(outDir, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  const hashes: Record<string, string> = {};
  for (const rel of [...files.keys()].sort()) hashes[rel] = sha256(files.get(rel) as Uint8Array | string);
  writeFileSync(
    join(outDir, 'MANIFEST.json'),
    json({ name: MODEL_NAME, algorithm: 'sha256', files: hashes }),
  );
  return { outDir, files: hashes, figures };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const started = Date.now();
  const outDir = resolve(process.argv[2] ?? DEFAULT_OUT_DIR);
  const { figures, files } = buildDemoModels(outDir);
  const fmt = (v: number): string => v.toFixed(3);
  console.log(
    `Wrote ${Object.keys(files).length + 1} files to ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    `document: base ${fmt(figures.documentBase)} → ft ${fmt(figures.documentFt)} nats/token; ` +
      `held-out: base ${fmt(figures.heldOutBase)} → ft ${fmt(figures.heldOutFt)}`,
  );
}
