/**
 * The /health endpoint and its once-a-second self probe (CoreDNS's
 * `health.OnStartup` and `overloaded`).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HistogramVec, CounterVec, SLIM_TIME_BUCKETS, formatGoDuration, pluginLogger, registry, type Logger } from '@tsdns/core';
import { HTTP_TIMEOUT_MS, closeHttp, listenHttp, notFoundBody, requestPath, goSplitHostPort as splitHostPort } from '@tsdns/core';

/** `coredns_health_request_duration_seconds` (no labels, SlimTimeBuckets). */
export const healthDuration: HistogramVec = (() => {
  const m = registry.getSingleMetric('coredns_health_request_duration_seconds');
  if (m instanceof HistogramVec) return m;
  return new HistogramVec({
    name: 'coredns_health_request_duration_seconds',
    help: 'Histogram of the time (in seconds) each request took.',
    buckets: SLIM_TIME_BUCKETS,
  });
})();

/** `coredns_health_request_failures_total`. */
export const healthFailures: CounterVec = (() => {
  const m = registry.getSingleMetric('coredns_health_request_failures_total');
  if (m instanceof CounterVec) return m;
  return new CounterVec({ name: 'coredns_health_request_failures_total', help: 'The number of times the health check failed.' });
})();

export const log: Logger = pluginLogger('health');

/** How often the endpoint probes itself, and how long a probe may take (CoreDNS: 1 s, 3 s). */
export const PROBE_INTERVAL_MS = 1000;
export const PROBE_TIMEOUT_MS = 3000;

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (requestPath(req.url) === '/health') {
    // we're always healthy
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    res.end('OK');
    return;
  }
  const nf = notFoundBody();
  res.writeHead(404, { ...nf.headers, 'Content-Length': Buffer.byteLength(nf.body) });
  res.end(nf.body);
}

/** Go's `client.Do` error text for a failed probe. */
function probeError(url: string, target: string, e: NodeJS.ErrnoException, timedOut: boolean): string {
  if (timedOut) return `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `Get "${url}": dial tcp ${target}: connect: connection refused`;
    case 'ECONNRESET':
      return `Get "${url}": read tcp ${target}: read: connection reset by peer`;
    case 'ENOTFOUND':
      return `Get "${url}": dial tcp: lookup ${target.replace(/:\d+$/, '')}: no such host`;
    default:
      return `Get "${url}": ${e.message}`;
  }
}

/**
 * Requests `url` (connecting to `host:port`) every second, observing the
 * duration and counting failures (CoreDNS's `overloaded`).
 */
export class Prober {
  readonly url: string;
  private readonly host: string;
  private readonly port: number;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private timer: NodeJS.Timeout | undefined;
  private inflight: http.ClientRequest | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly logger: Logger;

  constructor(url: string, host: string, port: number, opts: { intervalMs?: number; timeoutMs?: number; logger?: Logger } = {}) {
    this.url = url;
    this.host = host;
    this.port = port;
    this.intervalMs = opts.intervalMs ?? PROBE_INTERVAL_MS;
    this.timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.logger = opts.logger ?? log;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    // a Go ticker: the next tick is skipped while a probe is still running
    this.timer = setInterval(() => {
      if (this.inflight === undefined) void this.probe();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One probe; resolves when it finished (observed, or cancelled by stop()). */
  probe(): Promise<void> {
    const start = performance.now();
    const target = this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
    return new Promise((resolve) => {
      let timedOut = false;
      const req = http.get({ host: this.host, port: this.port, path: '/health', agent: this.agent, headers: { 'User-Agent': 'Go-http-client/1.1' } }, (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(t);
          this.inflight = undefined;
          const elapsed = performance.now() - start;
          healthDuration.observe(elapsed / 1000);
          if (elapsed > 1000) this.logger.warning(`Local health request to ${JSON.stringify(this.url)} took more than 1s: ${formatGoDuration(elapsed)}`);
          resolve();
        });
        res.on('error', () => undefined);
      });
      this.inflight = req;
      const t = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error('timeout'));
      }, this.timeoutMs);
      t.unref();
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        this.inflight = undefined;
        if (this.stopped) {
          resolve(); // cancelled by the parent: not a failure
          return;
        }
        healthDuration.observe((performance.now() - start) / 1000);
        healthFailures.inc();
        this.logger.warning(`Local health request to ${JSON.stringify(this.url)} failed: ${probeError(this.url, target, e, timedOut)}`);
        resolve();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.inflight?.destroy();
    this.inflight = undefined;
    this.agent.destroy();
  }
}

/** A running /health listener with its prober. */
export class HealthListener {
  readonly addr: string;
  readonly server: http.Server;
  readonly bound: AddressInfo;
  readonly prober: Prober;

  private constructor(addr: string, server: http.Server, bound: AddressInfo, prober: Prober) {
    this.addr = addr;
    this.server = server;
    this.bound = bound;
    this.prober = prober;
  }

  static async start(addr: string, opts: { probe?: boolean } = {}): Promise<HealthListener> {
    const server = http.createServer({ requestTimeout: HTTP_TIMEOUT_MS, headersTimeout: HTTP_TIMEOUT_MS, keepAliveTimeout: HTTP_TIMEOUT_MS }, handle);
    const bound = await listenHttp(server, addr);
    const { host, port } = splitHostPort(addr);
    // the URL CoreDNS builds ("http://" + ADDRESS + "/health"); with port 0, the port that was bound
    const shownPort = port === '0' || port === '' ? String(bound.port) : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${shownPort}/health`;
    const connectHost = host === '' ? 'localhost' : host;
    const prober = new Prober(url, connectHost, bound.port);
    if (opts.probe ?? true) prober.start();
    return new HealthListener(addr, server, bound, prober);
  }

  async close(): Promise<void> {
    this.prober.stop();
    await closeHttp(this.server);
  }
}

const listeners = new Map<string, HealthListener>();

/** Starts the /health listener of `addr` unless it runs already. Throws Go's listen error. */
export async function ensureHealth(addr: string): Promise<HealthListener> {
  const have = listeners.get(addr);
  if (have) return have;
  const l = await HealthListener.start(addr);
  const raced = listeners.get(addr);
  if (raced) {
    await l.close();
    return raced;
  }
  listeners.set(addr, l);
  return l;
}

/** Stops the listener of `addr`, if running. */
export async function stopHealth(addr: string): Promise<void> {
  const l = listeners.get(addr);
  if (!l) return;
  listeners.delete(addr);
  await l.close();
}

/** The running listener of a configured address. */
export function healthListener(addr: string): HealthListener | undefined {
  return listeners.get(addr);
}
