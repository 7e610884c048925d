// Node only: never imported by browser code (it reads the file system).
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { notFound, type ModelFiles } from './modelFiles.ts';
import type { PairRef } from './transformersBackend.ts';

/** A model folder on disk. */
export function directoryModelFiles(dir: string, label = `folder ${dir}`): ModelFiles {
  const root = resolve(dir);
  return {
    label,
    async fetch(path, init) {
      const full = join(root, path);
      if (!full.startsWith(root)) return notFound(path);
      try {
        const info = await stat(full);
        if (!info.isFile()) return notFound(path);
        if (init?.method === 'HEAD') {
          return new Response(null, { status: 200, headers: { 'Content-Length': String(info.size) } });
        }
        return new Response(await readFile(full), { status: 200 });
      } catch {
        return notFound(path);
      }
    },
  };
}

/** A pair of model folders on disk (Node: CLI and tests). */
export function directoryPair(baseDir: string, ftDir: string): PairRef {
  return {
    pairId: `dir:${resolve(baseDir)}|${resolve(ftDir)}`,
    base: { files: directoryModelFiles(baseDir), localDir: resolve(baseDir) },
    ft: { files: directoryModelFiles(ftDir), localDir: resolve(ftDir) },
  };
}

/** The demo pair from the repo's `public/` folder. */
export function demoDirectoryPair(repoRoot = process.cwd()): PairRef {
  const root = join(repoRoot, 'public', 'models', 'deltascope-demo');
  return { ...directoryPair(join(root, 'base'), join(root, 'ft')), pairId: 'demo:deltascope-demo' };
}
