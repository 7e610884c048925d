// Node only: imported by `adapterPair.ts` only when it runs in Node (it writes to the file system).
/**
 * In Node, transformers.js hands onnxruntime-node ONNX files by path (it cannot open one from a
 * fetched buffer), so the rewritten base must exist as a model folder on disk: a fresh temporary
 * folder holding the rewritten ONNX file, with every other file of the base hard-linked (a base on
 * disk; copied where the temporary folder is on another file system) or copied (a base over HTTP:
 * config, tokenizer, external weight data). Not symlinked: onnxruntime-node refuses external data
 * whose real path lies outside the model's folder ("External data path escapes model directory").
 * Removed with the model.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ModelRef } from './modelSource.ts';

/** The files transformers.js may read from a causal-LM folder besides the ONNX graph. */
const SIDE_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];

export interface RewrittenFolder {
  dir: string;
  remove(): void;
}

/** A temporary model folder: `base`'s files with `onnxPath` replaced by `pieces` (in order). */
export async function writeRewrittenFolder(
  base: ModelRef,
  onnxPath: string,
  pieces: readonly Uint8Array[],
  parent = tmpdir(),
): Promise<RewrittenFolder> {
  const dir = mkdtempSync(join(parent, 'deltascope-lora-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    mkdirSync(join(dir, dirname(onnxPath)), { recursive: true });
    if (base.localDir !== undefined) {
      linkAllBut(base.localDir, dir, onnxPath);
    } else {
      const wanted = [...SIDE_FILES, `${onnxPath}_data`];
      for (let i = 1; i < 64; i++) wanted.push(`${onnxPath}_data_${i}`);
      for (const path of wanted) {
        const res = await base.files.fetch(path);
        if (!res.ok) continue;
        writeFileSync(join(dir, path), new Uint8Array(await res.arrayBuffer()));
      }
    }
    // Piece by piece: the rewritten model never exists whole in memory.
    const fd = openSync(join(dir, onnxPath), 'w');
    try {
      for (const p of pieces) for (let done = 0; done < p.byteLength;) done += writeSync(fd, p, done);
    } finally {
      closeSync(fd);
    }
    return { dir, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * Hard-links every file under `from` into `to` (folders recreated), except `skip` (relative); a
 * file that cannot be linked (another file system, a file system without links) is copied.
 */
function linkAllBut(from: string, to: string, skip: string, rel = ''): void {
  for (const entry of readdirSync(join(from, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (path === skip) continue;
    if (entry.isDirectory()) {
      if (!existsSync(join(to, path))) mkdirSync(join(to, path));
      linkAllBut(from, to, skip, path);
    } else {
      try {
        linkSync(join(from, path), join(to, path));
      } catch {
        copyFileSync(join(from, path), join(to, path));
      }
    }
  }
}
