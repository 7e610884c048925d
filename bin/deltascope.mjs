#!/usr/bin/env node
// Starts the CLI from its bundled build, dist-cli/deltascope.mjs (scripts/buildCli.mjs; `prepack`
// builds it into the package), resolved from this file's location, so `npx deltascope` and
// `node bin/deltascope.mjs` work from any working directory with production dependencies only.
// In a checkout (scripts/buildCli.mjs beside it) a missing or stale build is rebuilt first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist-cli/deltascope.mjs', import.meta.url);
const builder = new URL('../scripts/buildCli.mjs', import.meta.url);
if (existsSync(builder)) {
  // A checkout installed without devDependencies has no esbuild: it runs the build it has.
  const build = await import(builder.href).catch(() => null);
  if (build?.cliBuildIsStale()) {
    try {
      await build.buildCli();
    } catch {
      process.stderr.write('deltascope: the CLI build failed (esbuild printed why above).\n');
      process.exit(4);
    }
  }
}
if (!existsSync(built)) {
  process.stderr.write(
    `deltascope: ${fileURLToPath(built)} is missing; in a checkout run \`npm run build:cli\`, else reinstall the package.\n`,
  );
  process.exit(4);
}
const { runCli, processIo } = await import(built.href);

// Ctrl-C once: stop after the running probe and still print the report; a second Ctrl-C kills.
const controller = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\ncancelling after the current probe (Ctrl-C again to quit)…\n');
  controller.abort();
});

const code = await runCli(process.argv.slice(2), processIo(controller.signal));
// onnxruntime-node can keep the event loop alive after the models are disposed; exit explicitly
// once stdout has drained.
process.stdout.write('', () => process.exit(code));
