import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTLE_RUN_CHAINS_FILE, settleRunChains } from '../../scripts/settleRunChains.ts';

// transformers.js's browser build queues session loads and runs on one promise chain; as shipped, one
// rejected call rejects every later one. The build rewrites the chains (vite.config.ts).

const require = createRequire(import.meta.url);
// The package's Node entry is dist/transformers.node.mjs; the browser build sits beside it.
const pkgDir = join(require.resolve('@huggingface/transformers'), '..', '..');
const webBuild = join(pkgDir, 'dist', 'transformers.web.js');

/** The queue as transformers.js writes it, evaluated as written or as rewritten. */
function queue(rewrite: boolean) {
  const source = `
    let webInitChain = Promise.resolve();
    let webInferenceChain = Promise.resolve();
    return {
      load: (load) => (apis.IS_WEB_ENV ? webInitChain = webInitChain.then(load) : load()),
      run: (run) => (apis.IS_WEB_ENV ? webInferenceChain = webInferenceChain.then(run) : run()),
    };`;
  const body = rewrite ? settleRunChains(source) : source;
  return new Function('apis', body)({ IS_WEB_ENV: true }) as {
    load(fn: () => Promise<string>): Promise<string>;
    run(fn: () => Promise<string>): Promise<string>;
  };
}

describe('settleRunChains', () => {
  it('matches transformers.js’s browser build, and only it', () => {
    expect(SETTLE_RUN_CHAINS_FILE.test(webBuild)).toBe(true);
    expect(SETTLE_RUN_CHAINS_FILE.test(join(pkgDir, 'dist', 'transformers.node.mjs'))).toBe(false);
    const code = readFileSync(webBuild, 'utf8');
    const out = settleRunChains(code);
    expect(out).not.toContain('webInferenceChain = webInferenceChain.then(run)');
    expect(out).not.toContain('webInitChain = webInitChain.then(load)');
    expect(out.length - code.length).toBeGreaterThan(0);
  });

  it('as shipped, one failed run fails every later one (the bug it fixes)', async () => {
    const q = queue(false);
    let ran = 0;
    await expect(
      q.run(() => Promise.reject(new Error('Failed to download data from buffer'))),
    ).rejects.toThrow('download');
    await expect(q.run(async () => `ran ${++ran}`)).rejects.toThrow('download');
    expect(ran).toBe(0);
  });

  it('rewritten, a failed run or load rejects for its caller only, and the queue goes on in order', async () => {
    for (const kind of ['run', 'load'] as const) {
      const q = queue(true);
      const order: string[] = [];
      const slow = q[kind](
        () => new Promise<string>((resolve) => setTimeout(() => (order.push('slow'), resolve('slow')), 20)),
      );
      const failed = q[kind](async () => {
        order.push('failed');
        throw new Error('device lost');
      });
      const after = q[kind](async () => (order.push('after'), 'after'));
      await expect(slow).resolves.toBe('slow');
      await expect(failed).rejects.toThrow('device lost');
      await expect(after).resolves.toBe('after');
      // Still one call at a time, in the order asked.
      expect(order).toEqual(['slow', 'failed', 'after']);
    }
  });

  it('refuses a build whose queue it does not recognise', () => {
    expect(() => settleRunChains('let webInferenceChain = Promise.resolve();', 'x.js')).toThrow(
      /x\.js: expected "webInitChain = webInitChain\.then\(load\)" once, found it 0 times/,
    );
  });
});
