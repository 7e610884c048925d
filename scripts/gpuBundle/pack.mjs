// Packs `bench:gpu` for a bare x86-64 Linux machine with a GPU and nothing else: no Node, no package
// registry, no network. One archive holds the benchmark bundled into one ES module (bench/gpu.ts with
// the model generator, the suite, transformers.js and onnxruntime-web's JS), a Node binary, the native
// parts trimmed to linux-x64 (onnxruntime-node's binding and libonnxruntime, the `webgpu` package's
// dawn.node, onnxruntime-web's WebGPU .wasm), the Vulkan loader and libglvnd's dispatch library (for
// machines that lack them), and run.sh. The 135M model is generated on the machine.
//
//   npm run bench:gpu:bundle [-- --out FILE] [-- --gzip] [-- --node PATH] [-- --max-mb 60]
//                            [-- --level 9] [-- --no-archive]
//
// Writes .cache/gpu-bundle/deltascope-gpu-bench.tar.xz (git-ignored) and prints its size; fails when
// it is over --max-mb (default 60 MB = 60,000,000 bytes). xz because gzip does not fit: the Node
// binary alone is 32 MB gzipped, 22 MB with xz. --gzip also writes a .tar.gz, to measure. On the GPU
// machine (python3 unpacks it where no `xz` is installed):
//
//   mkdir -p /tmp/dsb && (tar -xJf deltascope-gpu-bench.tar.xz -C /tmp/dsb || python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' deltascope-gpu-bench.tar.xz /tmp/dsb) && /tmp/dsb/run.sh --out "$OUT"
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = join(ROOT, 'scripts/gpuBundle');
export const BUNDLE_NAME = 'deltascope-gpu-bench';
export const DEFAULT_OUT = join(ROOT, '.cache/gpu-bundle', `${BUNDLE_NAME}.tar.xz`);
/** The oldest Node the bundle's code runs on (package.json engines). */
const MIN_NODE = [20, 19];

/**
 * Packages that stay files on disk beside the bundled script, and which of their files are kept.
 * onnxruntime-node and webgpu load native code by paths relative to their own JS; onnxruntime-common
 * is shared by onnxruntime-node's CJS and transformers.js's ESM import exactly as in node_modules;
 * onnxruntime-web's JS is bundled, and only its .wasm (read by path: src/backend/nodeWebgpu.ts) stays.
 */
export const KEPT_PACKAGES = {
  'onnxruntime-node': (p) =>
    p === 'package.json' ||
    p === 'LICENSE' ||
    /^dist\/[^/]+\.js$/.test(p) ||
    /^bin\/napi-v6\/linux\/x64\/(onnxruntime_binding\.node|libonnxruntime\.so[.\d]*)$/.test(p),
  'onnxruntime-common': (p) =>
    p === 'package.json' ||
    p === 'LICENSE' ||
    /^dist\/(cjs|esm)\/.+\.js$/.test(p) ||
    /^dist\/(cjs|esm)\/package\.json$/.test(p),
  webgpu: (p) =>
    p === 'package.json' || p === 'LICENSE.md' || p === 'index.js' || p === 'dist/linux-x64/dawn.node',
  'onnxruntime-web': (p) => p === 'package.json' || p === 'dist/ort-wasm-simd-threaded.asyncify.wasm',
};
const EXTERNAL = ['onnxruntime-node', 'onnxruntime-common', 'webgpu'];

/** System libraries carried for machines without them; run.sh puts each folder on the path only then. */
const CARRIED_LIBS = [
  { dir: 'lib/vulkan', name: 'libvulkan.so.1', deb: 'libvulkan1' },
  { dir: 'lib/glvnd', name: 'libGLdispatch.so.0', deb: 'libglvnd0' },
  // NVIDIA's Vulkan driver (libGLX_nvidia.so.0) found no device on an H200 machine that had only
  // libGLdispatch; with libglvnd's GLX/EGL/GL front ends beside it, the same driver gave Dawn the GPU.
  { dir: 'lib/glvnd', name: 'libGLX.so.0', deb: 'libglx0' },
  { dir: 'lib/glvnd', name: 'libEGL.so.1', deb: 'libegl1' },
  { dir: 'lib/glvnd', name: 'libGL.so.1', deb: 'libgl1' },
  { dir: 'lib/glvnd', name: 'libOpenGL.so.0', deb: 'libopengl0' },
  { dir: 'lib/compat', name: 'libstdc++.so.6', deb: 'libstdc++6' },
];
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64'];

const mb = (bytes) => (bytes / 1e6).toFixed(1);

function log(line) {
  console.log(`[bench:gpu:bundle] ${line}`);
}

/** Lists a folder's files, relative paths with forward slashes. */
function walk(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return walk(full, base);
    return e.isFile() || e.isSymbolicLink() ? [relative(base, full).split('\\').join('/')] : [];
  });
}

/** An ELF file's machine: 0x3e is x86-64. */
function elfMachine(file) {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(20);
  readSync(fd, head, 0, 20, 0);
  closeSync(fd);
  if (head.readUInt32BE(0) !== 0x7f454c46) return null;
  return head.readUInt16LE(18);
}

function copyStripped(from, to, { strip = true } = {}) {
  mkdirSync(dirname(to), { recursive: true });
  if (strip) {
    try {
      // The dynamic symbol table, which the loader and N-API resolve against, stays.
      execFileSync('strip', ['--strip-unneeded', '-o', to, from], { stdio: 'ignore' });
      return;
    } catch {
      // No binutils here: carry the file as it is (only bigger).
    }
  }
  copyFileSync(from, to);
}

/** esbuild: bench/gpu.ts and everything it imports, but the kept packages, into one ES module. */
async function bundleScript(outfile) {
  const result = await build({
    entryPoints: [join(ROOT, 'bench/gpu.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL.flatMap((d) => [d, `${d}/*`]),
    alias: { sharp: join(HERE, 'sharpStub.mjs') },
    // A CJS dependency bundled into ESM calls `require` for Node's built-ins; give it one.
    banner: {
      js: "import { createRequire as __dsbCreateRequire } from 'node:module'; globalThis.require ??= __dsbCreateRequire(import.meta.url);",
    },
    outfile,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const stray = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external) continue;
      const name = imp.path.split('/', imp.path.startsWith('@') ? 2 : 1).join('/');
      const builtin = imp.path.startsWith('node:') || builtinModules.includes(imp.path.split('/')[0]);
      if (!builtin && !EXTERNAL.includes(name)) stray.add(imp.path);
    }
  }
  if (stray.size > 0) throw new Error(`the bundle imports ${[...stray].join(', ')}, which it does not carry`);
  return statSync(outfile).size;
}

/**
 * transformers.js is inlined in bench-gpu.mjs, but src/backend/nodeWebgpu.ts finds the onnxruntime-node
 * that transformers.js uses by resolving `@huggingface/transformers` and requiring from there. This
 * placeholder answers that resolution (it is never loaded): requiring `onnxruntime-node` from it finds
 * the bundle's own copy, the same module instance the inlined transformers.js loads.
 */
function transformersPlaceholder(stage) {
  const dir = join(stage, 'node_modules/@huggingface/transformers');
  mkdirSync(dir, { recursive: true });
  const pkg = { name: '@huggingface/transformers', private: true, main: 'placeholder.cjs' };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(
    join(dir, 'placeholder.cjs'),
    "throw new Error('transformers.js is bundled into bench-gpu.mjs; this folder only lets its onnxruntime-node be found');\n",
  );
}

function copyPackages(stage) {
  for (const [pkg, keep] of Object.entries(KEPT_PACKAGES)) {
    const from = join(ROOT, 'node_modules', pkg);
    if (!existsSync(from)) throw new Error(`node_modules/${pkg} is missing: run npm ci first`);
    const files = walk(from).filter(keep);
    for (const f of files) {
      const native = /\.(node|so[.\d]*)$/.test(f);
      copyStripped(join(from, f), join(stage, 'node_modules', pkg, f), { strip: native });
    }
    const needed =
      pkg === 'webgpu'
        ? 'dist/linux-x64/dawn.node'
        : pkg === 'onnxruntime-node'
          ? 'bin/napi-v6/linux/x64/onnxruntime_binding.node'
          : null;
    if (needed !== null && !files.includes(needed))
      throw new Error(`node_modules/${pkg}/${needed} is missing (an install for another platform?)`);
  }
}

/** A system library by its soname, resolved to the file; from a .deb (`apt-get download`) if absent. */
function findLib(name, deb, scratch) {
  for (const d of LIB_DIRS) {
    const p = join(d, name);
    if (existsSync(p)) return realpathSync(p);
  }
  mkdirSync(scratch, { recursive: true });
  execFileSync('apt-get', ['download', deb], { cwd: scratch, stdio: 'inherit' });
  const file = readdirSync(scratch).find((f) => f.startsWith(`${deb}_`) && f.endsWith('.deb'));
  if (file === undefined) throw new Error(`apt-get download ${deb} gave no .deb`);
  const into = join(scratch, deb);
  execFileSync('dpkg-deb', ['-x', join(scratch, file), into]);
  const hit = walk(into).find((f) => f.endsWith(`/${name}`));
  if (hit === undefined) throw new Error(`${deb} holds no ${name}`);
  return realpathSync(join(into, hit));
}

function nodeBinary(path) {
  if (elfMachine(path) !== 0x3e) throw new Error(`${path} is not an x86-64 Linux executable`);
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  const [maj, min] = version.slice(1).split('.').map(Number);
  if (maj < MIN_NODE[0] || (maj === MIN_NODE[0] && min < MIN_NODE[1])) {
    throw new Error(`${path} is Node ${version}; the bundle needs ${MIN_NODE.join('.')} or later`);
  }
  return version;
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? commit : `${commit}+changes`;
  } catch {
    return 'unknown';
  }
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** tar of the stage, files in a fixed order and owner, then compressed by `compressor`. */
function archive(stage, outfile, compressor) {
  mkdirSync(dirname(outfile), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  const tarArgs = [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-C',
    stage,
    '-cf',
    '-',
    '.',
  ];
  execFileSync('sh', ['-c', `tar ${tarArgs.map((a) => `'${a}'`).join(' ')} | ${compressor} > '${tmp}'`], {
    stdio: 'inherit',
  });
  execFileSync('mv', [tmp, outfile]);
  return statSync(outfile).size;
}

/**
 * Packs the bundle into `out`. `archive: false` stops after staging (the unpacked bundle is left in
 * .cache/gpu-bundle/stage/ to try out quickly); `level` is xz's preset.
 */
export async function pack({
  out = DEFAULT_OUT,
  node = process.execPath,
  gzip = false,
  maxMb = 60,
  level = 9,
  archive: makeArchive = true,
} = {}) {
  const t0 = performance.now();
  const work = join(dirname(out), 'stage');
  rmSync(work, { recursive: true, force: true });
  const stage = join(work, BUNDLE_NAME);
  mkdirSync(stage, { recursive: true });

  const scriptBytes = await bundleScript(join(stage, 'bench-gpu.mjs'));
  log(`bench-gpu.mjs ${mb(scriptBytes)} MB (bench/gpu.ts bundled)`);
  copyPackages(stage);
  transformersPlaceholder(stage);
  const nodeVersion = nodeBinary(node);
  copyStripped(realpathSync(node), join(stage, 'bin/node'));
  chmodSync(join(stage, 'bin/node'), 0o755);
  for (const lib of CARRIED_LIBS) {
    const from = findLib(lib.name, lib.deb, join(work, 'debs'));
    copyStripped(from, join(stage, lib.dir, lib.name));
  }
  copyFileSync(join(HERE, 'run.sh'), join(stage, 'run.sh'));
  chmodSync(join(stage, 'run.sh'), 0o755);
  rmSync(join(work, 'debs'), { recursive: true, force: true });

  const files = walk(stage).sort();
  const manifest = {
    name: BUNDLE_NAME,
    gitCommit: gitCommit(),
    packedAt: new Date().toISOString(),
    node: nodeVersion,
    files: files.map((f) => ({
      path: f,
      bytes: statSync(join(stage, f)).size,
      sha256: sha256(join(stage, f)),
    })),
  };
  writeFileSync(join(stage, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const unpacked = manifest.files.reduce((s, f) => s + f.bytes, 0);
  for (const f of [...manifest.files].sort((a, b) => b.bytes - a.bytes).slice(0, 6))
    log(`  ${f.path} ${mb(f.bytes)} MB`);
  log(
    `${files.length + 1} files, ${mb(unpacked)} MB unpacked${makeArchive ? `; compressing (xz -${level})…` : ''}`,
  );

  if (!makeArchive) {
    log(`staged (not archived): ${stage}`);
    return { out: null, bytes: 0, sizes: {}, unpacked, manifest, stage };
  }
  const bytes = archive(stage, out, `xz -${level} -T0`);
  const sizes = { xz: bytes };
  if (gzip) sizes.gzip = archive(stage, out.replace(/\.tar\.xz$/, '.tar.gz'), 'gzip -9');
  rmSync(work, { recursive: true, force: true });
  log(
    `${relative(ROOT, out)}: ${mb(bytes)} MB${sizes.gzip !== undefined ? ` (as .tar.gz: ${mb(sizes.gzip)} MB)` : ''}, in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (bytes > maxMb * 1e6) throw new Error(`the bundle is ${mb(bytes)} MB, over the ${maxMb} MB limit`);
  return { out, bytes, sizes, unpacked, manifest };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      node: { type: 'string' },
      gzip: { type: 'boolean', default: false },
      'max-mb': { type: 'string', default: '60' },
      level: { type: 'string', default: '9' },
      'no-archive': { type: 'boolean', default: false },
    },
  });
  try {
    await pack({
      out: values.out ?? DEFAULT_OUT,
      node: values.node ?? process.execPath,
      gzip: values.gzip,
      maxMb: Number(values['max-mb']),
      level: Number(values.level),
      archive: !values['no-archive'],
    });
  } catch (e) {
    console.error(`[bench:gpu:bundle] failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
