/**
 * The /metrics HTTP endpoint: one listener per address, shared by every
 * server block that names it and kept across reloads the way CoreDNS's
 * `uniq` registry does (stopped by the old instance, started by the new
 * one, restarted when the reload fails).
 */
import { existsSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { gzip } from 'node:zlib';
import { log, registry as sharedRegistry, type promClient } from '@tsdns/core';
import { HTTP_TIMEOUT_MS, closeHttp, clusterRegistry, joinHostPort, listenHttp, notFoundBody, requestPath } from '@tsdns/core';
import { loadWebConfig, type WebConfig } from './webconfig.js';

/** The text exposition format (what promhttp negotiates for text). */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores';

/**
 * The registry in the Prometheus text format: families sorted by name (as
 * client_golang does), families without any series left out.
 */
export async function renderMetrics(reg: promClient.Registry = sharedRegistry): Promise<string> {
  const names = reg
    .getMetricsAsArray()
    .map((m) => (m as { name: string }).name)
    .sort();
  const parts: string[] = [];
  for (const n of names) {
    const s = await reg.getSingleMetricAsString(n);
    const first = s.indexOf('\n');
    if (first < 0 || s.indexOf('\n', first + 1) < 0) continue; // HELP and TYPE only: no series
    parts.push(s);
  }
  return parts.length === 0 ? '' : parts.join('\n') + '\n';
}

function acceptsGzip(req: IncomingMessage): boolean {
  const ae = req.headers['accept-encoding'];
  if (typeof ae !== 'string') return false;
  for (const part of ae.split(',')) {
    const [enc, ...params] = part.trim().split(';');
    if (enc!.trim().toLowerCase() !== 'gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

function handle(headers: Record<string, string>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (requestPath(req.url) !== '/metrics') {
      const nf = notFoundBody();
      res.writeHead(404, { ...nf.headers, 'Content-Length': Buffer.byteLength(nf.body) });
      res.end(nf.body);
      return;
    }
    // under -workers N: the sum over every worker (core's clusterRegistry)
    clusterRegistry().then((reg) => renderMetrics(reg)).then(
      (body) => {
        if (acceptsGzip(req)) {
          gzip(body, (err, buf) => {
            if (err) {
              res.writeHead(200, { 'Content-Type': CONTENT_TYPE });
              res.end(body);
              return;
            }
            res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding', 'Content-Length': buf.length });
            res.end(buf);
          });
          return;
        }
        res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
      (e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end(`An error has occurred while serving metrics:\n\n${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  };
}

/** A running /metrics listener. */
export class MetricsListener {
  readonly addr: string;
  readonly server: http.Server;
  readonly bound: AddressInfo;
  readonly tls: boolean;

  private constructor(addr: string, server: http.Server, bound: AddressInfo, tls: boolean) {
    this.addr = addr;
    this.server = server;
    this.bound = bound;
    this.tls = tls;
  }

  /** `host:port` actually bound (the port the kernel picked for `:0`). */
  get listenAddr(): string {
    return joinHostPort(this.bound.address, this.bound.port);
  }

  static async start(addr: string, web: WebConfig | undefined): Promise<MetricsListener> {
    const opts: http.ServerOptions = { requestTimeout: HTTP_TIMEOUT_MS, headersTimeout: HTTP_TIMEOUT_MS, keepAliveTimeout: HTTP_TIMEOUT_MS };
    const h = handle(web?.headers ?? {});
    let server: http.Server;
    if (web?.tls) {
      const s = https.createServer({ ...opts, ...web.tls }, h);
      if (web.requireAnyCert) {
        s.on('secureConnection', (sock: TLSSocket) => {
          const cert = sock.getPeerCertificate();
          if (!cert || Object.keys(cert).length === 0) sock.destroy();
        });
      }
      server = s;
    } else {
      server = http.createServer(opts, h);
    }
    const bound = await listenHttp(server, addr);
    return new MetricsListener(addr, server, bound, web?.tls !== undefined);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }
}

const listeners = new Map<string, MetricsListener>();
let lastListenAddr = '';

/**
 * Starts the listener of `addr` unless one runs already (CoreDNS's
 * `uniq.Set` + `ForEach`). As in CoreDNS a failure is logged and does not
 * stop the server from starting.
 */
export async function ensureListener(addr: string, tlsConfigPath: string): Promise<void> {
  if (listeners.has(addr)) return;
  let web: WebConfig | undefined;
  if (tlsConfigPath !== '') {
    if (!existsSync(tlsConfigPath)) {
      log.error(`TLS config file does not exist: ${tlsConfigPath}`);
      return;
    }
    try {
      web = loadWebConfig(tlsConfigPath);
    } catch (e) {
      log.error(`Failed to start HTTPS metrics server: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
  }
  let l: MetricsListener;
  try {
    l = await MetricsListener.start(addr, web);
  } catch (e) {
    log.error(`Failed to start metrics handler: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  if (listeners.has(addr)) {
    await l.close();
    return;
  }
  listeners.set(addr, l);
  lastListenAddr = l.listenAddr;
  if (tlsConfigPath !== '') log.info('Server is ready and accepting connections');
}

/** Stops the listener of `addr` (CoreDNS's `OnRestart`/`OnFinalShutdown`). */
export async function stopListener(addr: string): Promise<void> {
  const l = listeners.get(addr);
  if (!l) return;
  listeners.delete(addr);
  await l.close();
}

/** The running listener of a configured address (`localhost:9153`), if any. */
export function metricsListener(addr: string): MetricsListener | undefined {
  return listeners.get(addr);
}

/** `host:port` bound by the most recently started listener (CoreDNS's `metrics.ListenAddr`, for tests). */
export function listenAddr(): string {
  return lastListenAddr;
}

/** Configured addresses with a running listener. */
export function runningListeners(): string[] {
  return [...listeners.keys()];
}
