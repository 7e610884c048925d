import { boundDownloadOptions, download, type DownloadOptions } from './download.ts';
import { ModelLoadError } from './errors.ts';

/**
 * Read access to one model folder, whatever holds it: a hub repo, a same-origin static folder, files
 * the user picked, or (in Node) a directory. Used to validate a model before transformers.js loads
 * it, so that errors name the missing file instead of surfacing as a bare 404.
 */
export interface ModelFiles {
  /** For messages: e.g. `hub model org/name@main` or `folder ./models/base`. */
  readonly label: string;
  /** The file as an HTTP response: 404 when it does not exist. `HEAD` skips the body. */
  fetch(path: string, init?: { method?: 'GET' | 'HEAD'; signal?: AbortSignal }): Promise<Response>;
}

export async function fileExists(files: ModelFiles, path: string): Promise<boolean> {
  return (await files.fetch(path, { method: 'HEAD' })).ok;
}

/** The file's text, or null when it does not exist. */
export async function readTextFile(files: ModelFiles, path: string): Promise<string | null> {
  const res = await files.fetch(path);
  return res.ok ? res.text() : null;
}

/** " (404 at <url>)" for a response fetched over HTTP; nothing for one from a folder or picked files. */
export function notFoundDetail(res: Response): string {
  return res.url ? ` (${res.status} at ${res.url})` : '';
}

/** `JSON.parse(text)`, or a `model-load/invalid-file` error naming the model and the file. */
export function parseJsonFile(label: string, path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const html = /^\s*</.test(text)
      ? ': it is an HTML page (a login wall, an error page or a proxy answered instead of the file)'
      : '';
    throw new ModelLoadError(
      'model-load/invalid-file',
      `${label}: ${path} is not valid JSON${html} (${(e as Error).message}).`,
      { input: path },
    );
  }
}

export const notFound = (path: string): Response =>
  new Response(`${path} not found`, { status: 404, statusText: 'Not Found' });

/**
 * Files served over HTTP under `baseUrl` (hub layout `<host>/<repo>/resolve/<rev>/` or a static
 * folder). Every fetch goes through `download` (retries, stall timeout, whole bodies, errors naming
 * the file and the model) with the options of the load in progress (`bindDownloads`), or `options`.
 */
export function httpModelFiles(
  label: string,
  baseUrl: string,
  fetchFn: (url: string, init?: RequestInit) => Promise<Response> = (u, i) => fetch(u, i),
  options?: DownloadOptions,
): ModelFiles {
  const root = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    label,
    fetch(path, init) {
      const opts = { ...boundDownloadOptions(), ...options };
      const signals = [init?.signal, opts.signal].filter((s): s is AbortSignal => s !== undefined);
      const signal = signals.length > 1 && signals[0] !== signals[1] ? AbortSignal.any(signals) : signals[0];
      return download(
        fetchFn,
        { file: path, model: label, url: new URL(path, root).href },
        { method: init?.method ?? 'GET' },
        { ...opts, ...(signal !== undefined ? { signal } : {}) },
      );
    },
  };
}

/** Files the user picked in the browser, keyed by their path inside the model folder. */
export function pickedModelFiles(label: string, files: ReadonlyMap<string, Blob>): ModelFiles {
  return {
    label,
    async fetch(path, init) {
      const f = files.get(path);
      if (f === undefined) return notFound(path);
      return new Response(init?.method === 'HEAD' ? null : f, {
        status: 200,
        headers: { 'Content-Length': String(f.size) },
      });
    },
  };
}

/**
 * Indexes files from a folder picker (`webkitRelativePath` is `folder/sub/file`) by their path inside
 * the picked folder. A flat multi-file pick keeps bare names; ONNX files are also reachable under
 * `onnx/` so a user can pick `model.onnx` next to the JSON files.
 */
export function indexPickedFiles(files: Iterable<File>): Map<string, Blob> {
  const out = new Map<string, Blob>();
  for (const file of files) {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    const parts = rel.split('/');
    const inner = parts.length > 1 ? parts.slice(1).join('/') : parts[0]!;
    out.set(inner, file);
    if (inner.endsWith('.onnx') && !inner.includes('/')) out.set(`onnx/${inner}`, file);
  }
  return out;
}

export const SUPPORTED_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const;
export type ModelDtype = (typeof SUPPORTED_DTYPES)[number];

/** transformers.js's file-name suffix per dtype. */
const DTYPE_SUFFIX: Record<ModelDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
};

export function checkDtype(dtype: string): ModelDtype {
  if (!(SUPPORTED_DTYPES as readonly string[]).includes(dtype)) {
    throw new ModelLoadError(
      'model-load/unsupported',
      `Unknown dtype "${dtype}". Supported: ${SUPPORTED_DTYPES.join(', ')} (fp32 is the safe default; ` +
        'fp16 needs a GPU adapter with shader-f16).',
    );
  }
  return dtype as ModelDtype;
}

export function onnxFileFor(dtype: ModelDtype): string {
  return `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** Architectures whose hub exports transformers.js runs as a causal LM. */
const CAUSAL_SUFFIXES = ['ForCausalLM', 'LMHeadModel'];
const CAUSAL_MODEL_TYPES = new Set([
  'llama',
  'mistral',
  'qwen2',
  'qwen3',
  'gemma',
  'gemma2',
  'gemma3_text',
  'phi',
  'phi3',
  'gpt2',
  'gpt_neox',
  'gptj',
  'opt',
  'bloom',
  'falcon',
  'stablelm',
  'olmo',
  'olmo2',
  'granite',
  'smollm3',
  'codegen',
  'gpt_bigcode',
  'mpt',
  'cohere',
  'starcoder2',
  'exaone',
  'helium',
  'glm',
]);

export interface ModelConfigSummary {
  modelType: string;
  architecture: string;
  vocabSize: number;
}

/**
 * Checks a model folder before loading: `config.json` names a causal LM, and the tokenizer files and
 * the ONNX file for the dtype exist. Every error names the model and the file.
 */
export async function validateModelFiles(files: ModelFiles, dtype: ModelDtype): Promise<ModelConfigSummary> {
  const configRes = await files.fetch('config.json');
  if (!configRes.ok) {
    void configRes.body?.cancel().catch(() => {});
    throw new ModelLoadError(
      'model-load/missing-file',
      `${files.label}: config.json is missing${notFoundDetail(configRes)}; a model folder needs it.`,
      { input: 'config.json' },
    );
  }
  const parsed = parseJsonFile(files.label, 'config.json', await configRes.text());
  const config = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  const archs = Array.isArray(config.architectures) ? (config.architectures as unknown[]).map(String) : [];
  const architecture = archs[0] ?? '';
  const causal =
    archs.some((a) => CAUSAL_SUFFIXES.some((s) => a.endsWith(s))) ||
    (archs.length === 0 && CAUSAL_MODEL_TYPES.has(modelType));
  if (!causal) {
    throw new ModelLoadError(
      'model-load/invalid-file',
      `${files.label}: "${architecture || modelType || 'unknown architecture'}" is not a causal language model. ` +
        'deltascope compares causal LMs (architectures ending in ForCausalLM, e.g. LlamaForCausalLM, ' +
        'Qwen2ForCausalLM, GPT2LMHeadModel).',
      { input: 'config.json' },
    );
  }
  const required = ['tokenizer.json', 'tokenizer_config.json', onnxFileFor(dtype)];
  const present = await Promise.all(required.map((f) => fileExists(files, f)));
  const missing = required.filter((_, i) => !present[i]);
  if (missing.length > 0) {
    const onnxHint = missing.includes(onnxFileFor(dtype))
      ? ` (dtype ${dtype} loads ${onnxFileFor(dtype)}; pick a dtype the repo ships, or export the model with Optimum)`
      : '';
    throw new ModelLoadError(
      'model-load/missing-file',
      `${files.label}: missing ${missing.join(', ')}${onnxHint}.`,
      {
        input: missing[0],
      },
    );
  }
  const vocabSize = typeof config.vocab_size === 'number' ? config.vocab_size : 0;
  return { modelType, architecture, vocabSize };
}

/**
 * Refuses a pair whose tokenizers differ: comparing next-token distributions across two vocabularies
 * is meaningless. Compares the tokenizer model (vocab, merges) and the added tokens.
 */
export async function checkSameTokenizer(base: ModelFiles, ft: ModelFiles): Promise<void> {
  const [a, b] = await Promise.all([
    readTextFile(base, 'tokenizer.json'),
    readTextFile(ft, 'tokenizer.json'),
  ]);
  if (a === b) return;
  const essence = (text: string | null) => {
    if (text === null) return null;
    try {
      const j = JSON.parse(text) as { model?: unknown; added_tokens?: unknown };
      return JSON.stringify([j.model, j.added_tokens]);
    } catch {
      return text;
    }
  };
  if (essence(a) !== essence(b)) {
    throw new ModelLoadError(
      'model-load/mismatch',
      `The base (${base.label}) and fine-tuned (${ft.label}) tokenizers differ. deltascope compares the two ` +
        'views token by token, so both must share one tokenizer; load the fine-tune that was trained from this base.',
      { input: 'tokenizer.json' },
    );
  }
}
