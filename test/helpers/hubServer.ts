// A loopback server in the hub's URL layout, `/<org>/<repo>/resolve/<revision>/<file>` (HEAD, GET,
// byte ranges `bytes=a-b` and `bytes=a-`), serving model folders from disk, with faults injected per
// request: a status (503, 429 with Retry-After, 404, 401), an HTML page, a stall after the headers or
// after some bytes, a connection closed mid-body. Every request is recorded. Like the hub, every file
// response names the commit its revision resolved to (`X-Repo-Commit`, see `hubCommit`).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface HubRequest {
  method: string;
  repo: string;
  revision: string;
  file: string;
  /** The `Range` header, if any. */
  range: string | undefined;
  /** This request's number among those with the same method, repo, file and range (1 for the first). */
  nth: number;
}

/** What the server does with one request; `undefined` serves the file (or 404s what is not there). */
export type HubFault =
  | undefined
  | { status: number; headers?: Record<string, string>; body?: string }
  | { html: string }
  /** Headers of the whole file (200), then `bytes` of the body (default 0), then nothing until closed. */
  | { stallAfter: number }
  /** Headers of the whole file (200), then `bytes` of the body, then the connection is destroyed. */
  | { closeAfter: number };

export interface HubRepo {
  dir: string;
  /** Files this repo lacks (404). */
  without?: string[];
}

export interface HubServerOptions {
  /** Repo id → what it serves (a function: any naming scheme, e.g. unique repo ids per test). */
  repos: Record<string, HubRepo> | ((repo: string) => HubRepo | undefined);
  /** Revisions that exist (default: every one). */
  revisions?: string[];
  /** Ranges honoured (default true); false answers a ranged GET with the whole file (200). */
  ranges?: boolean;
  fault?: (req: HubRequest) => HubFault;
  /**
   * Answer as a cross-origin host a browser page may read (CORS and CORP headers on every response,
   * preflights answered and not recorded): for Playwright tests of a cross-origin-isolated page.
   */
  cors?: boolean;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Retry-After, X-Repo-Commit',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export interface HubServer {
  /** `http://127.0.0.1:<port>/` */
  host: string;
  requests: HubRequest[];
  /** Requests matching every given field (`range: undefined` matches requests without one). */
  count(match: Partial<Pick<HubRequest, 'method' | 'repo' | 'file' | 'revision' | 'range'>>): number;
  setFault(fault: HubServerOptions['fault']): void;
  close(): Promise<void>;
}

const HUB_PATH = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;

/** The commit this server says `revision` of `repo` resolves to (40 hex digits, as the hub's). */
export function hubCommit(repo: string, revision: string): string {
  return createHash('sha1').update(`${repo}@${revision}`).digest('hex');
}

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: HubRequest[] = [];
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  let fault = options.fault;
  const repoOf = (id: string) =>
    typeof options.repos === 'function' ? options.repos(id) : options.repos[id];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (options.cors === true) {
      for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
      if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    }
    const url = decodeURIComponent((req.url ?? '').split('?')[0]!);
    const m = HUB_PATH.exec(url);
    if (!m) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const [, repoId, revision, file] = m as unknown as [string, string, string, string];
    const method = req.method ?? 'GET';
    const key = `${method} ${repoId} ${file} ${req.headers.range ?? ''}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    const request: HubRequest = { method, repo: repoId, revision, file, range: req.headers.range, nth };
    requests.push(request);
    const repo = repoOf(repoId);
    const path = repo !== undefined ? join(repo.dir, file) : '';
    const exists =
      repo !== undefined &&
      (options.revisions === undefined || options.revisions.includes(revision)) &&
      !(repo.without ?? []).includes(file) &&
      isFile(path);
    const f = fault?.(request);
    if (f !== undefined) {
      if ('status' in f) {
        res.writeHead(f.status, f.headers).end(f.body ?? `status ${f.status}`);
        return;
      }
      if ('html' in f) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(f.html);
        return;
      }
      if (!exists) {
        res.writeHead(404).end('Entry not found');
        return;
      }
      const bytes = readFileSync(path);
      res.writeHead(200, { 'Content-Length': bytes.byteLength });
      const n = 'stallAfter' in f ? f.stallAfter : f.closeAfter;
      res.flushHeaders();
      // The connection closes only once the first bytes are handed to the kernel (which still sends
      // them): a close with them buffered in Node would drop some, and the cut would move.
      const close = () => setTimeout(() => req.socket.destroy(), 20);
      if (n > 0 && method !== 'HEAD') res.write(bytes.subarray(0, n), () => 'closeAfter' in f && close());
      else if ('closeAfter' in f) close();
      return; // a stall: nothing more until the client gives up (or the server closes)
    }
    if (!exists) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const bytes = readFileSync(path);
    const size = bytes.byteLength;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && options.ranges !== false) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Content-Length': end - start + 1,
        'X-Repo-Commit': hubCommit(repoId, revision),
      });
      res.end(method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'Content-Length': size, 'X-Repo-Commit': hubCommit(repoId, revision) });
    res.end(method === 'HEAD' ? undefined : bytes);
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `http://127.0.0.1:${port}/`,
    requests,
    count: (match) =>
      requests.filter((r) => (Object.keys(match) as (keyof typeof match)[]).every((k) => r[k] === match[k]))
        .length,
    setFault(f) {
      fault = f;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
