// Node only: imported by `openPair` only when it runs in Node (it reads the file system).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notFound, type ModelFiles } from './modelFiles.ts';
import type { DemoRoot, ResolveContext } from './modelSource.ts';

/** A model folder on disk. */
export function directoryModelFiles(dir: string, label?: string): ModelFiles & { localDir: string } {
  const root = resolve(dir);
  return {
    label: label ?? `folder ${dir}`,
    localDir: root,
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

/**
 * The size and SHA-256 of a file on disk (its path's segments joined), streamed, never whole in
 * memory; null when there is no such file. For model files onnxruntime-node opens by path, which no
 * fetch ever streams.
 */
export async function hashFileOnDisk(
  ...segments: string[]
): Promise<{ bytes: number; sha256: string } | null> {
  const path = join(...segments);
  try {
    if (!(await stat(path)).isFile()) return null;
  } catch {
    return null;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * The folder of the deltascope package this module belongs to (the repo in development, the
 * installed package for the built CLI): the nearest parent with deltascope's package.json.
 */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'deltascope')
          return dir;
      } catch {
        // An unreadable manifest is not ours; keep looking upward.
      }
    }
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** The demo pair's root in Node: the package's `public/` folder (the app's root in the browser). */
export function nodeDemoRoot(): DemoRoot {
  return { dir: join(packageRoot(), 'public') };
}

/** What `openPair` needs to open folders and the demo in Node. */
export function nodeResolveContext(): Required<ResolveContext> {
  return { readDirectory: directoryModelFiles, demoRoot: nodeDemoRoot() };
}
