#!/usr/bin/env node
// Starts the TypeScript CLI through tsx's loader, resolved from this file's location, so
// `npx deltascope` and `node bin/deltascope.mjs` work from any working directory without a build.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
const { processIo } = await import(new URL('../src/cli/io.ts', import.meta.url).href);

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
