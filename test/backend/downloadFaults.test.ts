// Model downloads under injected faults: a loopback server in the hub's URL layout
// (test/helpers/hubServer.ts) serves the demo pair and answers 503 twice, 429 with Retry-After,
// stalls after the headers or mid-body, closes mid-body, 404s, 401s, or sends an HTML page. Through
// openPair (hub sources) and once through the CLI (DELTASCOPE_HUB_HOST). What passes loads and gives
// the local folders' logprobs over the full vocabulary; what does not fails with a message naming the
// file, the repo and the revision, and 401/403/404 are asked exactly once.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPair, type DifferentialBackend, type ModelSource } from '../../src/backend/index.ts';
import type { LoadProgress } from '../../src/backend/transformersPair.ts';
import { ADAPTER_WEIGHTS_FILE } from '../../src/backend/adapterPair.ts';
import {
  describeRetry,
  downloadPolicyFromEnv,
  resolveDownloadPolicy,
  type DownloadPolicy,
} from '../../src/backend/download.ts';
import { CancelledError } from '../../src/core/errors.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import { startHubServer, type HubFault, type HubRequest, type HubServer } from '../helpers/hubServer.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO = join(ROOT, 'public/models/deltascope-demo');
const PROMPTS = ['The keeper of the old lighthouse', 'It was a sunny day and'];
/** Tiny delays so the retries cost nothing (the stall timeout stays long: a busy machine never trips it). */
const FAST: Partial<DownloadPolicy> = { baseDelayMs: 1, maxDelayMs: 4, stallTimeoutMs: 10_000 };
/** For the stall cases: 400 ms without a byte is a stall. */
const STALL: Partial<DownloadPolicy> = { ...FAST, stallTimeoutMs: 400 };
const ONNX = 'onnx/model.onnx';
/** Unique repo ids per run: transformers.js's file cache and memoised metadata never answer for the server. */
const RUN = `f${randomUUID().slice(0, 8)}`;
const REVISION = 'r1';

let server: HubServer;
let scratch = '';
let expected: { base: Float32Array[]; ft: Float32Array[] };

const repoOf = (name: string, side: 'base' | 'ft') => `${RUN}/${name}-${side}`;
const hubSource = (name: string): ModelSource => ({
  kind: 'pair',
  base: { kind: 'hub', id: repoOf(name, 'base'), revision: REVISION, host: server.host },
  ft: { kind: 'hub', id: repoOf(name, 'ft'), revision: REVISION, host: server.host },
});

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'deltascope-faults-'));
  server = await startHubServer({
    repos: (id) => {
      const m = /-(base|ft|adapter)$/.exec(id);
      return id.startsWith(`${RUN}/`) && m ? { dir: join(DEMO, m[1]!) } : undefined;
    },
    revisions: [REVISION, 'main'],
  });
  const local = await openPair({ kind: 'demo' }, { warmup: false });
  try {
    expected = { base: await fullLogprobs(local, 'base'), ft: await fullLogprobs(local, 'ft') };
  } finally {
    await local.dispose();
  }
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Each prompt's next-token logprob of every token, by token id. */
async function fullLogprobs(pair: DifferentialBackend, view: 'base' | 'ft'): Promise<Float32Array[]> {
  const vocab = pair.info.vocabSize;
  const dists = await pair[view].nextTokenDistBatch(PROMPTS, { topK: vocab });
  return dists.map((d) => {
    const out = new Float32Array(vocab);
    d.tokenIds.forEach((id, i) => (out[id] = d.logprobs[i]!));
    return out;
  });
}

/** Opens the case's hub pair under `fault`; checks it scores as the local folders; returns the progress. */
async function loadsThrough(
  name: string,
  fault: (r: HubRequest) => HubFault,
  policy: Partial<DownloadPolicy> = FAST,
): Promise<LoadProgress[]> {
  server.setFault((r) => (r.repo.startsWith(`${RUN}/${name}-`) ? fault(r) : undefined));
  const progress: LoadProgress[] = [];
  const pair = await openPair(hubSource(name), {
    warmup: false,
    cacheDir: join(scratch, name),
    retry: policy,
    onProgress: (p) => progress.push(p),
  });
  try {
    expect(pair.info.baseModel).toBe(`hub model ${repoOf(name, 'base')}@${REVISION}`);
    expect(await fullLogprobs(pair, 'base')).toEqual(expected.base);
    expect(await fullLogprobs(pair, 'ft')).toEqual(expected.ft);
  } finally {
    await pair.dispose();
  }
  return progress;
}

/** The error opening the case's hub pair under `fault` gives (the load must fail). */
async function failsWith(
  name: string,
  fault: (r: HubRequest) => HubFault,
  policy: Partial<DownloadPolicy> = FAST,
  signal?: AbortSignal,
): Promise<Error & { code?: string; input?: string }> {
  server.setFault((r) => (r.repo.startsWith(`${RUN}/${name}-`) ? fault(r) : undefined));
  const opened = openPair(hubSource(name), {
    warmup: false,
    cacheDir: join(scratch, name),
    retry: policy,
    ...(signal !== undefined ? { signal } : {}),
  });
  return opened.then(
    async (p) => {
      await p.dispose();
      throw new Error('the load should have failed');
    },
    (e: Error & { code?: string; input?: string }) => e,
  );
}

const retries = (progress: LoadProgress[]) =>
  progress.flatMap((p) => (p.retry !== undefined ? [{ view: p.view, ...p.retry }] : []));

describe('faults that pass: the pair loads and scores as the local folders', () => {
  it('503 twice, then 200, on every request of every file (ours and transformers.js’s)', async () => {
    const progress = await loadsThrough('s503', (r) =>
      r.nth <= 2 ? { status: 503, body: 'upstream busy' } : undefined,
    );
    const base = repoOf('s503', 'base');
    const ft = repoOf('s503', 'ft');
    // Our validation reads config.json (GET); transformers.js reads the ONNX file (GET, only it does).
    for (const repo of [base, ft]) {
      expect(server.count({ method: 'GET', repo, file: 'config.json' })).toBeGreaterThanOrEqual(3);
      expect(server.count({ method: 'GET', repo, file: ONNX, range: undefined })).toBe(3);
    }
    const seen = retries(progress);
    const config = seen.filter((r) => r.file === 'config.json' && r.model.includes(base));
    expect(config.map((r) => r.attempt)).toEqual([2, 3]);
    expect(config[0]).toMatchObject({ view: 'base', maxAttempts: 5, reason: expect.stringMatching(/503/) });
    expect(describeRetry(config[0]!)).toMatch(/^retrying config\.json in \d+ ms \(attempt 2 of 5\)$/);
    // Every 503 the server sent for ft's ONNX file (our HEAD, transformers.js's range probe and GET)
    // was reported as one retry of ft's file.
    const ftOnnx = seen.filter((r) => r.file === ONNX && r.model.includes(ft));
    expect(ftOnnx.map((r) => r.view)).toEqual(Array<string>(ftOnnx.length).fill('ft'));
    expect(ftOnnx).toHaveLength(
      server.requests.filter((r) => r.repo === ft && r.file === ONNX && r.nth <= 2).length,
    );
    // Never more than the two failures per request kind: each file passed on its third attempt.
    expect(Math.max(...seen.map((r) => r.attempt))).toBe(3);
  });

  it('429 with Retry-After: 1 is waited for (the delay reported is the server’s second)', async () => {
    const progress = await loadsThrough('s429', (r) =>
      r.nth === 1 && r.method === 'GET' && r.file === 'config.json' && r.repo.endsWith('-base')
        ? { status: 429, headers: { 'Retry-After': '1' } }
        : undefined,
    );
    const seen = retries(progress);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ file: 'config.json', attempt: 2, delayMs: 1000 });
    expect(seen[0]!.reason).toMatch(/429/);
  });

  it('a stall after the headers, and one mid-body, are aborted and retried (the body resumed by Range)', async () => {
    const progress = await loadsThrough(
      'stall',
      (r) => {
        if (r.nth !== 1 || r.method !== 'GET' || r.range !== undefined) return undefined;
        if (r.file === 'config.json' && r.repo.endsWith('-base')) return { stallAfter: 0 };
        if (r.file === ONNX && r.repo.endsWith('-ft')) return { stallAfter: 0 };
        if (r.file === ONNX && r.repo.endsWith('-base')) return { stallAfter: 100_000 };
        return undefined;
      },
      STALL,
    );
    const stalls = retries(progress).filter((r) => /no bytes for 400 ms/.test(r.reason));
    expect(stalls.map((r) => `${r.view} ${r.file}`)).toEqual(
      expect.arrayContaining(['base config.json', `base ${ONNX}`, `ft ${ONNX}`]),
    );
    // The mid-body stall kept its 100,000 bytes: the next attempt asked for the rest only.
    const resumed = stalls.find((r) => r.view === 'base' && r.file === ONNX)!;
    expect(resumed.received).toBe(100_000);
    expect(
      server.requests.some(
        (r) => r.repo === repoOf('stall', 'base') && r.file === ONNX && r.range === 'bytes=100000-',
      ),
    ).toBe(true);
  });

  it('a connection closed mid-body (Content-Length longer than what came) is resumed with Range', async () => {
    await loadsThrough('close', (r) => {
      if (r.nth !== 1 || r.method !== 'GET' || r.range !== undefined) return undefined;
      if (r.file === 'tokenizer.json') return { closeAfter: 1000 };
      if (r.file === ONNX) return { closeAfter: 200_000 };
      return undefined;
    });
    for (const side of ['base', 'ft'] as const) {
      const asked = server.requests.filter((r) => r.repo === repoOf('close', side)).map((r) => r.range);
      expect(asked).toContain('bytes=1000-');
      expect(asked).toContain('bytes=200000-');
    }
  });

  it('… and read again from the start (skipping what was passed on) when the server ignores Range', async () => {
    const plain = await startHubServer({
      repos: (id) => {
        const m = /-(base|ft)$/.exec(id);
        return m ? { dir: join(DEMO, m[1]!) } : undefined;
      },
      ranges: false,
      fault: (r) =>
        r.nth === 1 && r.method === 'GET' && !r.range && (r.file === ONNX || r.file === 'tokenizer.json')
          ? { closeAfter: 5000 }
          : undefined,
    });
    try {
      const id = (side: string) => `${RUN}/norange-${side}`;
      const pair = await openPair(
        {
          kind: 'pair',
          base: { kind: 'hub', id: id('base'), host: plain.host },
          ft: { kind: 'hub', id: id('ft'), host: plain.host },
        },
        { warmup: false, cacheDir: join(scratch, 'norange'), retry: FAST },
      );
      try {
        expect(await fullLogprobs(pair, 'base')).toEqual(expected.base);
        expect(await fullLogprobs(pair, 'ft')).toEqual(expected.ft);
      } finally {
        await pair.dispose();
      }
      expect(plain.count({ method: 'GET', repo: id('base'), file: ONNX, range: undefined })).toBe(1);
      expect(plain.count({ method: 'GET', repo: id('base'), file: ONNX, range: 'bytes=5000-' })).toBe(1);
    } finally {
      await plain.close();
    }
  });
});

describe('adapter files (the same ModelFiles.fetch)', () => {
  it('a 503 on adapter_config.json and a cut-off adapter_model.safetensors are retried; ft is the local adapter’s', async () => {
    server.setFault((r) => {
      if (!r.repo.startsWith(`${RUN}/lora-`) || r.method !== 'GET' || r.nth !== 1 || r.range)
        return undefined;
      if (r.file === 'adapter_config.json') return { status: 503 };
      if (r.file === ADAPTER_WEIGHTS_FILE) return { closeAfter: 5000 };
      return undefined;
    });
    const progress: LoadProgress[] = [];
    mkdirSync(join(scratch, 'lora'), { recursive: true });
    const base = { kind: 'hub', id: repoOf('lora', 'base'), revision: REVISION, host: server.host } as const;
    const adapter = {
      kind: 'hub',
      id: `${RUN}/lora-adapter`,
      revision: REVISION,
      host: server.host,
    } as const;
    const fromHub = await openPair(
      { kind: 'pair', base, ft: { kind: 'adapter', base, adapter } },
      { warmup: false, cacheDir: join(scratch, 'lora'), retry: FAST, onProgress: (p) => progress.push(p) },
    );
    const local = await openPair({ kind: 'demo', adapter: true }, { warmup: false });
    try {
      expect(await fullLogprobs(fromHub, 'ft')).toEqual(await fullLogprobs(local, 'ft'));
    } finally {
      await Promise.all([fromHub.dispose(), local.dispose()]);
    }
    expect(retries(progress).map((r) => r.file)).toEqual(['adapter_config.json', ADAPTER_WEIGHTS_FILE]);
    expect(
      server.count({ repo: `${RUN}/lora-adapter`, file: ADAPTER_WEIGHTS_FILE, range: 'bytes=5000-' }),
    ).toBe(1);
  });
});

describe('faults that do not pass: fail fast, naming the file, the repo and the revision', () => {
  const names = (e: Error, name: string, side: 'base' | 'ft', file: string) => {
    expect(e.message).toContain(file);
    expect(e.message).toContain(`${repoOf(name, side)}@${REVISION}`);
  };

  it('404: the file does not exist there; asked once', async () => {
    const e = await failsWith('n404', (r) =>
      r.file === 'config.json' && r.repo.endsWith('-ft')
        ? { status: 404, body: 'Entry not found' }
        : undefined,
    );
    expect(e).toMatchObject({ code: 'model-load/missing-file', input: 'config.json' });
    names(e, 'n404', 'ft', 'config.json');
    expect(e.message).toMatch(
      /config\.json is missing \(404 at http:\/\/127\.0\.0\.1:\d+\/.*\/resolve\/r1\/config\.json\)/,
    );
    expect(server.count({ method: 'GET', repo: repoOf('n404', 'ft'), file: 'config.json' })).toBe(1);
  });

  it.each([401, 403])(
    '%i: the repo may be gated or private, and how to give a token; asked once',
    async (status) => {
      const name = `n${status}`;
      const e = await failsWith(name, () => ({ status }));
      expect(e).toMatchObject({ code: 'model-load/access-denied', input: 'config.json' });
      expect(e.message).toMatch(/gated or private/);
      expect(e.message).toMatch(/HF_TOKEN/);
      const side = e.message.includes(repoOf(name, 'base')) ? 'base' : 'ft';
      names(e, name, side, 'config.json');
      for (const s of ['base', 'ft'] as const) {
        // Each repo's config.json at most once (the other side's validation may not have got there).
        expect(server.count({ repo: repoOf(name, s), file: 'config.json' })).toBeLessThanOrEqual(1);
      }
      expect(server.count({ repo: repoOf(name, side), file: 'config.json' })).toBe(1);
    },
  );

  it('an HTML page with 200 where config.json was expected names the file; asked once', async () => {
    const e = await failsWith('html', (r) =>
      r.file === 'config.json' && r.repo.endsWith('-base')
        ? { html: '<!doctype html><title>Sign in</title><p>Please log in</p>' }
        : undefined,
    );
    expect(e).toMatchObject({ code: 'model-load/invalid-file', input: 'config.json' });
    expect(e.message).toMatch(/HTML page/);
    names(e, 'html', 'base', 'config.json');
    expect(server.count({ method: 'GET', repo: repoOf('html', 'base'), file: 'config.json' })).toBe(1);
  });

  it('503 on every attempt: gives up after maxAttempts, saying so', async () => {
    const e = await failsWith('always503', (r) =>
      r.file === 'config.json' && r.repo.endsWith('-base') ? { status: 503 } : undefined,
    );
    expect(e).toMatchObject({ code: 'model-load/network', input: 'config.json' });
    expect(e.message).toMatch(/failed after 5 attempts; the last: the server answered 503/);
    names(e, 'always503', 'base', 'config.json');
    expect(server.count({ method: 'GET', repo: repoOf('always503', 'base'), file: 'config.json' })).toBe(5);
  });

  it('a body cut short on every attempt is an error, never a model: nothing reaches the file cache', async () => {
    const e = await failsWith('short', (r) =>
      r.file === ONNX && r.method === 'GET' && r.range !== 'bytes=0-0' && r.repo.endsWith('-base')
        ? { closeAfter: 1000 }
        : undefined,
    );
    expect(e).toMatchObject({ code: 'model-load/network', input: ONNX });
    expect(e.message).toMatch(/the body ended after 1000 of 769754 bytes/);
    names(e, 'short', 'base', ONNX);
    // The first GET and four resumes (each answered with the whole file again, cut at 1000 bytes).
    const asked = server.requests.filter(
      (r) =>
        r.repo === repoOf('short', 'base') &&
        r.file === ONNX &&
        r.method === 'GET' &&
        r.range !== 'bytes=0-0',
    );
    expect(asked.map((r) => r.range)).toEqual([undefined, ...Array<string>(4).fill('bytes=1000-')]);
    const cached = join(scratch, 'short', repoOf('short', 'base'), REVISION, ONNX);
    expect(existsSync(join(scratch, 'short', repoOf('short', 'base'), REVISION, 'config.json'))).toBe(true);
    expect(existsSync(cached)).toBe(false);
  });

  it('a server that never sends a byte: each attempt stalls out, then the load fails naming the file', async () => {
    const e = await failsWith(
      'hang',
      (r) => (r.file === 'config.json' && r.repo.endsWith('-ft') ? { stallAfter: 0 } : undefined),
      { ...STALL, maxAttempts: 2 },
    );
    expect(e).toMatchObject({ code: 'model-load/network', input: 'config.json' });
    expect(e.message).toMatch(/failed after 2 attempts; the last: no bytes for 400 ms/);
    names(e, 'hang', 'ft', 'config.json');
    expect(server.count({ method: 'GET', repo: repoOf('hang', 'ft'), file: 'config.json' })).toBe(2);
  });

  it('cancelling during a retry wait stops it at once with the cancellation', async () => {
    const ctl = new AbortController();
    const waiting = failsWith(
      'cancel',
      (r) => {
        if (r.file === 'config.json') setTimeout(() => ctl.abort(), 50);
        return { status: 503 };
      },
      // A one-minute wait: only the cancellation can end this test within its timeout.
      { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      ctl.signal,
    );
    const e = await waiting;
    expect(e).toBeInstanceOf(CancelledError);
    expect(e.message).toBe('Loading cancelled.');
  });
});

describe('the policy', () => {
  it('defaults: 5 attempts, 0.5 s base ×2 up to 30 s, 30 s stall, 30 min per attempt; env and options override', () => {
    expect(resolveDownloadPolicy()).toEqual({
      maxAttempts: 5,
      baseDelayMs: 500,
      factor: 2,
      maxDelayMs: 30_000,
      attemptTimeoutMs: 1_800_000,
      maxRetryAfterMs: 120_000,
      stallTimeoutMs: 30_000,
    });
    const fromEnv = downloadPolicyFromEnv({
      DELTASCOPE_DOWNLOAD_ATTEMPTS: '3',
      DELTASCOPE_DOWNLOAD_STALL_TIMEOUT_MS: '5000',
      HOME: '/x',
    });
    expect(fromEnv).toEqual({ maxAttempts: 3, stallTimeoutMs: 5000 });
    expect(resolveDownloadPolicy({ ...fromEnv, maxAttempts: 2 })).toMatchObject({
      maxAttempts: 2,
      stallTimeoutMs: 5000,
    });
    expect(() => downloadPolicyFromEnv({ DELTASCOPE_DOWNLOAD_ATTEMPTS: 'many' })).toThrow(
      /DELTASCOPE_DOWNLOAD_ATTEMPTS=many is not a number/,
    );
    expect(() => resolveDownloadPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts must be an integer/);
  });
});

describe('the CLI (DELTASCOPE_HUB_HOST)', () => {
  function memoryIo(extra: Record<string, string>): CliIo & { stdout: string; stderr: string } {
    const io = {
      stdout: '',
      stderr: '',
      out: (t: string) => void (io.stdout += t),
      err: (t: string) => void (io.stderr += t),
      cwd: ROOT,
      // The command's own environment sets the download policy (tiny delays here).
      env: {
        DELTASCOPE_HUB_HOST: server.host,
        DELTASCOPE_DOWNLOAD_BASE_DELAY_MS: '1',
        DELTASCOPE_DOWNLOAD_MAX_DELAY_MS: '4',
        ...extra,
      },
    };
    return io;
  }
  let cacheDir: string | null;

  beforeAll(() => {
    cacheDir = env.cacheDir;
    env.cacheDir = join(scratch, 'cli-cache');
  });
  afterAll(() => {
    env.cacheDir = cacheDir;
  });

  it('probe on a hub pair whose every file fails twice with 503 prints what the local folders give', async () => {
    const args = ['--prompt', PROMPTS[0]!, '--top-k', '5', '--json'];
    server.setFault((r) => (r.repo.startsWith(`${RUN}/cli-`) && r.nth <= 2 ? { status: 503 } : undefined));
    const hub = memoryIo({});
    const code = await runCli(
      ['probe', '--base', repoOf('cli', 'base'), '--ft', repoOf('cli', 'ft'), ...args],
      hub,
    );
    // Every retry is said on stderr, naming the model, the file, the attempt and the reason.
    expect(hub.stderr).toMatch(
      new RegExp(
        `hub model ${RUN}/cli-base@main: retrying config\\.json in \\d+ ms \\(attempt 2 of 5\\): .*503`,
      ),
    );
    expect(
      hub.stderr
        .split('\n')
        .filter(Boolean)
        .every((l) => / retrying .* \(attempt [23] of 5\): /.test(l)),
    ).toBe(true);
    expect(code).toBe(0);
    const local = memoryIo({});
    expect(await runCli(['probe', '--base', `${DEMO}/base`, '--ft', `${DEMO}/ft`, ...args], local)).toBe(0);
    expect(JSON.parse(hub.stdout)).toEqual(JSON.parse(local.stdout));
    expect(server.count({ method: 'GET', repo: repoOf('cli', 'base'), file: ONNX, range: undefined })).toBe(
      3,
    );
  });

  it('probe on a repo that answers 401 exits 3 naming the file, the repo and the revision; asked once', async () => {
    server.setFault((r) => (r.repo.startsWith(`${RUN}/cli401-`) ? { status: 401 } : undefined));
    const io = memoryIo({});
    const code = await runCli(
      ['probe', '--base', repoOf('cli401', 'base'), '--ft', repoOf('cli401', 'ft'), '--prompt', 'x'],
      io,
    );
    expect(code).toBe(3);
    expect(io.stderr).toMatch(/config\.json/);
    expect(io.stderr).toMatch(new RegExp(`${RUN}/cli401-(base|ft)@main`));
    expect(io.stderr).toMatch(/gated or private.*HF_TOKEN/s);
    expect(server.count({ repo: repoOf('cli401', 'base'), file: 'config.json' })).toBeLessThanOrEqual(1);
  });
});
