/**
 * The /ready endpoint: 200 `OK` when every plugin that can tell (core's
 * `Readiness`) in the blocks using *ready* says it is ready, else 503 with
 * the names of those that are not (CoreDNS's `ready` and `list`).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pluginLogger, type Logger, type Readiness } from '@tsdns/core';
import { HTTP_TIMEOUT_MS, closeHttp, listenHttp, notFoundBody, requestPath } from '@tsdns/core';

export const log: Logger = pluginLogger('ready');

export type MonitorType = 'until-ready' | 'continuously';

interface Entry {
  name: string;
  r: Readiness;
  /** until-ready: once ready, never asked again. */
  done: boolean;
}

/** The readiness checks of one running configuration. */
export class ReadySet {
  private readonly entries: Entry[] = [];
  /** `continuously` keeps asking plugins that were ready once (last block's setting wins, as in CoreDNS). */
  monitor: MonitorType = 'until-ready';

  /** Adds a plugin (once per handler object). */
  add(name: string, r: Readiness): void {
    if (this.entries.some((e) => e.r === r)) return;
    this.entries.push({ name, r, done: false });
  }

  /** True when all are ready; otherwise the sorted, comma-separated names of those that are not. */
  check(): { ready: boolean; notReady: string } {
    const keep = this.monitor === 'continuously';
    const names = new Set<string>();
    for (const e of this.entries) {
      if (e.done) continue;
      if (e.r.ready()) {
        if (!keep) e.done = true;
        continue;
      }
      names.add(e.name);
    }
    if (names.size === 0) return { ready: true, notReady: '' };
    return { ready: false, notReady: [...names].sort().join(',') };
  }

  get size(): number {
    return this.entries.length;
  }
}

/** The set every /ready listener answers from (the running configuration's). */
let active: ReadySet = new ReadySet();

/** Makes `s` the set the endpoints report. */
export function activate(s: ReadySet): void {
  active = s;
}

export function activeSet(): ReadySet {
  return active;
}

/** A running /ready listener. */
export class ReadyListener {
  readonly addr: string;
  readonly server: http.Server;
  readonly bound: AddressInfo;
  /** False once shutdown began: `503 Shutting down`. */
  private serving = true;

  private constructor(addr: string, server: http.Server, bound: AddressInfo) {
    this.addr = addr;
    this.server = server;
    this.bound = bound;
  }

  static async start(addr: string): Promise<ReadyListener> {
    const holder: { l?: ReadyListener } = {};
    const server = http.createServer({ requestTimeout: HTTP_TIMEOUT_MS, headersTimeout: HTTP_TIMEOUT_MS, keepAliveTimeout: HTTP_TIMEOUT_MS }, (req, res) =>
      handle(holder.l, req, res),
    );
    const bound = await listenHttp(server, addr);
    holder.l = new ReadyListener(addr, server, bound);
    return holder.l;
  }

  get isServing(): boolean {
    return this.serving;
  }

  async close(): Promise<void> {
    this.serving = false;
    await closeHttp(this.server);
  }
}

function handle(l: ReadyListener | undefined, req: IncomingMessage, res: ServerResponse): void {
  if (requestPath(req.url) !== '/ready') {
    const nf = notFoundBody();
    send(res, 404, nf.body, nf.headers);
    return;
  }
  if (l === undefined || !l.isServing) {
    send(res, 503, 'Shutting down');
    return;
  }
  const { ready, notReady } = active.check();
  if (ready) {
    send(res, 200, 'OK');
    return;
  }
  log.info(`Plugins not ready: ${JSON.stringify(notReady)}`);
  send(res, 503, notReady);
}

/** Writes a small text response the way Go's net/http does (with Content-Length). */
function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' }): void {
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const listeners = new Map<string, ReadyListener>();

/**
 * Starts the listener of `addr` unless one runs (CoreDNS's `uniqAddr`). A
 * failure is logged and does not stop the start (CoreDNS ignores it).
 */
export async function ensureReady(addr: string): Promise<void> {
  if (listeners.has(addr)) return;
  let l: ReadyListener;
  try {
    l = await ReadyListener.start(addr);
  } catch (e) {
    log.error(`Failed to start ready handler: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  if (listeners.has(addr)) {
    await l.close();
    return;
  }
  listeners.set(addr, l);
}

/** Stops the listener of `addr`: from now on it answers `503 Shutting down` until closed. */
export async function stopReady(addr: string): Promise<void> {
  const l = listeners.get(addr);
  if (!l) return;
  listeners.delete(addr);
  await l.close();
}

/** The running listener of a configured address. */
export function readyListener(addr: string): ReadyListener | undefined {
  return listeners.get(addr);
}
