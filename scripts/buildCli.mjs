// Bundles the CLI (src/cli/main.ts and everything it imports from src/) into one ES module,
// dist-cli/deltascope.mjs, so the installed package runs on Node with its production dependencies
// only (no tsx). Those dependencies stay external (npm installs them); anything else the source
// imports is bundled, and the build fails if the bundle would import a package npm does not install.
//
//   node scripts/buildCli.mjs            (npm run build:cli; also run by prepack)
//
// The file is written to a temporary name and renamed, so a CLI started while another build runs
// (parallel tests) never reads half a file.
import { builtinModules } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_ENTRY = join(ROOT, 'src/cli/main.ts');
export const CLI_OUTFILE = join(ROOT, 'dist-cli/deltascope.mjs');

/** The package name of a bare import: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (path) => path.split('/', path.startsWith('@') ? 2 : 1).join('/');

const isBuiltin = (path) => path.startsWith('node:') || builtinModules.includes(path.split('/')[0]);

/**
 * Whether the build is missing or older than any file it is built from (src/, package.json): a
 * checkout's bin/deltascope.mjs rebuilds then, so it never runs yesterday's code.
 */
export function cliBuildIsStale({ outfile = CLI_OUTFILE } = {}) {
  let built;
  try {
    built = statSync(outfile).mtimeMs;
  } catch {
    return true;
  }
  const newer = (path) => {
    const st = statSync(path);
    if (!st.isDirectory()) return st.mtimeMs > built;
    return readdirSync(path).some((name) => newer(join(path, name)));
  };
  return newer(join(ROOT, 'src')) || newer(join(ROOT, 'package.json'));
}

/** Builds dist-cli/deltascope.mjs; returns its size in bytes. Throws on a build error. */
export async function buildCli({ outfile = CLI_OUTFILE } = {}) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const deps = Object.keys(pkg.dependencies ?? {});
  const result = await build({
    entryPoints: [CLI_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The production dependencies and their subpaths; everything else is bundled.
    external: deps.flatMap((d) => [d, `${d}/*`]),
    write: false,
    metafile: true,
    outfile,
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: `// deltascope ${pkg.version} CLI, built from src/cli/main.ts by scripts/buildCli.mjs.` },
  });
  const stray = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) {
      if (imp.external && !isBuiltin(imp.path) && !deps.includes(packageOf(imp.path))) stray.add(imp.path);
    }
  }
  if (stray.size > 0) {
    throw new Error(
      `the CLI bundle imports ${[...stray].join(', ')}, which package.json "dependencies" does not list`,
    );
  }
  const file = result.outputFiles.find((f) => f.path === outfile);
  if (file === undefined) throw new Error(`esbuild produced no ${outfile}`);
  mkdirSync(dirname(outfile), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, outfile);
  return file.contents.byteLength;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const bytes = await buildCli();
    if (!process.argv.includes('--quiet')) {
      console.log(`CLI built: dist-cli/deltascope.mjs (${(bytes / 1024).toFixed(0)} KiB)`);
    }
  } catch (e) {
    // esbuild has already printed each error with its file:line; say what failed, without a stack.
    console.error(`CLI build failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    process.exitCode = 1;
  }
}
