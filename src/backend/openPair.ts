import { isNodeWithoutDom } from './device.ts';
import { createFakeBackend } from './fakeBackend.ts';
import {
  isAdapterSource,
  resolveAdapterPair,
  resolvePair,
  type ModelSource,
  type ResolveContext,
} from './modelSource.ts';
import { loadTransformersPair, type LoadOptions } from './transformersPair.ts';
import type { DifferentialBackend } from './types.ts';

export interface OpenOptions extends LoadOptions, ResolveContext {}

/**
 * The one way to open a pair, whatever the source: the bundled demo, two hub repos, folders on disk
 * (Node), files picked in the browser, any `ModelFiles`, or the deterministic fake. transformers.js
 * has one `from_pretrained` for every model kind; deltascope has this. In Node the folder reader and
 * the demo's location default to the package's own (`nodeModelFiles.ts`); in the browser pass
 * `demoRoot: { url: <app root> }`.
 */
export async function openPair(source: ModelSource, opts: OpenOptions = {}): Promise<DifferentialBackend> {
  if (source.kind === 'fake') {
    return createFakeBackend({
      ...opts,
      ...(source.ftShift !== undefined ? { ftShift: source.ftShift } : {}),
      ...(source.adapterViews !== undefined ? { adapterViews: source.adapterViews } : {}),
      ...(source.pairId !== undefined ? { pairId: source.pairId } : {}),
    });
  }
  let ctx: ResolveContext = opts;
  if (isNodeWithoutDom() && (opts.readDirectory === undefined || opts.demoRoot === undefined)) {
    const { nodeResolveContext } = await import('./nodeModelFiles.ts');
    ctx = { ...nodeResolveContext(), ...definedOnly(opts) };
  }
  if (isAdapterSource(source)) {
    // Runtime LoRA: base + adapter as one rewritten model (loaded on demand: it pulls in the rewriter).
    const { loadAdapterPair } = await import('./adapterPair.ts');
    return loadAdapterPair(resolveAdapterPair(source, ctx), opts);
  }
  return loadTransformersPair(resolvePair(source, ctx), opts);
}

function definedOnly(ctx: ResolveContext): ResolveContext {
  return {
    ...(ctx.readDirectory !== undefined ? { readDirectory: ctx.readDirectory } : {}),
    ...(ctx.demoRoot !== undefined ? { demoRoot: ctx.demoRoot } : {}),
  };
}
