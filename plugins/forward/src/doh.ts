/**
 * A DNS-over-HTTPS client (RFC 8484) for https:// upstreams: POST (or GET
 * with `?dns=` base64url) to `https://ADDR/dns-query` with
 * `application/dns-message`. HTTP/2 is used when the server offers it by ALPN
 * (one multiplexed session, reused), HTTP/1.1 with keep-alive otherwise, as
 * Go's http.Client does.
 */
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { type AbortSource, type AbortState } from '@tsdns/core';
import { abortError, opError, syscallText, tlsErrorText, UpstreamError } from './errors.js';
import type { TlsSettings } from './conn.js';

export const DOH_PATH = '/dns-query';
export const DOH_MIME = 'application/dns-message';
/** Largest DoH response body read (Go's http.MaxBytesReader limit in CoreDNS). */
const MAX_BODY = 65536;

export type DohMethod = 'GET' | 'POST';

export interface DohOptions {
  /** `127.0.0.1:443`, `[::1]:8443` */
  addr: string;
  host: string;
  port: number;
  tls: TlsSettings;
  localAddress?: string | undefined;
}

type Mode = 'unknown' | 'h2' | 'h1';

export class DohClient {
  readonly addr: string;
  readonly url: string;
  private readonly host: string;
  private readonly port: number;
  private tlsSettings: TlsSettings;
  localAddress: string | undefined;
  private mode: Mode = 'unknown';
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session | undefined> | undefined;
  private agent: https.Agent | undefined;
  private closed = false;

  constructor(o: DohOptions) {
    this.addr = o.addr;
    this.host = o.host;
    this.port = o.port;
    this.tlsSettings = o.tls;
    this.localAddress = o.localAddress;
    this.url = `https://${o.addr}${DOH_PATH}`;
  }

  /**
   * Sends a query (wire format, ID 0) and returns the response body. Errors
   * read as Go's (`Post "https://…/dns-query": …`). `timeoutMs` bounds the
   * whole exchange, like http.Client.Timeout.
   */
  async exchange(wire: Uint8Array, method: DohMethod, timeoutMs: number, signal?: AbortSource): Promise<Buffer> {
    const path = method === 'GET' ? `${DOH_PATH}?dns=${Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength).toString('base64url')}` : DOH_PATH;
    const what = `${method === 'GET' ? 'Get' : 'Post'} "https://${this.addr}${path}"`;
    if (this.closed) throw new UpstreamError(`${what}: proxy: transport stopped`, 'stopped');
    if (signal?.aborted) throw abortError(signal);
    const deadline = performance.now() + timeoutMs;
    let session: http2.ClientHttp2Session | undefined;
    try {
      session = await this.sessionFor(timeoutMs, signal);
    } catch (e) {
      if (e instanceof UpstreamError && e.kind === 'aborted') throw e;
      throw new UpstreamError(`${what}: ${(e as Error).message}`);
    }
    if (this.closed) throw new UpstreamError(`${what}: proxy: transport stopped`, 'stopped');
    const left = Math.max(1, deadline - performance.now());
    const body = method === 'POST' ? Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength) : undefined;
    return session !== undefined ? this.h2(session, method, path, body, left, signal, what) : this.h1(method, path, body, left, signal, what);
  }

  /** The HTTP/2 session, or undefined when the server speaks HTTP/1.1 only. */
  private sessionFor(timeoutMs: number, signal?: AbortSource): Promise<http2.ClientHttp2Session | undefined> {
    if (this.mode === 'h1') return Promise.resolve(undefined);
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) return Promise.resolve(s);
    this.connecting ??= this.connect(timeoutMs).finally(() => {
      this.connecting = undefined;
    });
    if (signal === undefined) return this.connecting;
    return new Promise((resolve, reject) => {
      const w = { onAbort: (): void => reject(abortError(signal)) };
      signal.watch(w);
      this.connecting!.then(
        (v) => {
          signal.unwatch(w);
          resolve(v);
        },
        (e: unknown) => {
          signal.unwatch(w);
          reject(e as Error);
        },
      );
    });
  }

  private connect(timeoutMs: number): Promise<http2.ClientHttp2Session | undefined> {
    return new Promise((resolve, reject) => {
      const opts: tls.ConnectionOptions & { localAddress?: string } = {
        host: this.host,
        port: this.port,
        secureContext: this.tlsSettings.secureContext,
        minVersion: 'TLSv1.2',
        ALPNProtocols: ['h2', 'http/1.1'],
      };
      if (this.tlsSettings.servername !== undefined) opts.servername = this.tlsSettings.servername;
      if (this.localAddress !== undefined) opts.localAddress = this.localAddress;
      const sock = tls.connect(opts);
      let connected = false;
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'));
      }, timeoutMs);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (!connected && e.syscall !== undefined) reject(opError('dial', 'tcp', '', this.addr, syscallText(e, 'connect')));
        else reject(new Error(tlsErrorText(e)));
      });
      sock.once('connect', () => {
        connected = true;
      });
      sock.once('secureConnect', () => {
        clearTimeout(timer);
        if (sock.alpnProtocol !== 'h2' || this.closed) {
          sock.destroy();
          if (!this.closed) this.mode = 'h1';
          resolve(undefined);
          return;
        }
        this.mode = 'h2';
        const session = http2.connect(`https://${this.addr}`, { createConnection: () => sock });
        session.on('error', () => session.destroy());
        session.on('goaway', () => session.close());
        session.on('close', () => {
          if (this.session === session) this.session = undefined;
        });
        session.unref();
        this.session = session;
        resolve(session);
      });
    });
  }

  private headers(method: DohMethod, path: string): http2.OutgoingHttpHeaders {
    return { ':method': method, ':path': path, 'content-type': DOH_MIME, accept: DOH_MIME };
  }

  private h2(
    session: http2.ClientHttp2Session,
    method: DohMethod,
    path: string,
    body: Buffer | undefined,
    timeoutMs: number,
    signal: AbortSource | undefined,
    what: string,
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let done = false;
      let req: http2.ClientHttp2Stream;
      const finish = (e: Error | undefined, b?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (signal !== undefined) signal.unwatch(aborter);
        if (e !== undefined) {
          if (!req.destroyed) req.close(http2.constants.NGHTTP2_CANCEL);
          reject(e);
        } else resolve(b!);
      };
      const aborter = { onAbort: (s: AbortState): void => finish(abortError(s)) };
      const timer = setTimeout(() => finish(new UpstreamError(`${what}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)), timeoutMs);
      try {
        req = session.request(this.headers(method, path), { endStream: body === undefined });
      } catch (e) {
        clearTimeout(timer);
        reject(new UpstreamError(`${what}: ${(e as Error).message}`));
        return;
      }
      if (signal !== undefined) signal.watch(aborter);
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_BODY) finish(new UpstreamError('http: request body too large'));
        else chunks.push(d);
      });
      req.on('end', () => finish(undefined, Buffer.concat(chunks)));
      req.on('error', (e: Error) => finish(new UpstreamError(`${what}: ${e.message}`)));
      req.on('close', () => finish(new UpstreamError(`${what}: unexpected EOF`)));
      if (body !== undefined) req.end(body);
    });
  }

  private h1(method: DohMethod, path: string, body: Buffer | undefined, timeoutMs: number, signal: AbortSource | undefined, what: string): Promise<Buffer> {
    this.agent ??= new https.Agent({
      keepAlive: true,
      secureContext: this.tlsSettings.secureContext,
      minVersion: 'TLSv1.2',
      ...(this.tlsSettings.servername !== undefined ? { servername: this.tlsSettings.servername } : {}),
    });
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (e: Error | undefined, b?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (signal !== undefined) signal.unwatch(aborter);
        if (e !== undefined) {
          req.destroy();
          reject(e);
        } else resolve(b!);
      };
      const aborter = { onAbort: (s: AbortState): void => finish(abortError(s)) };
      const timer = setTimeout(() => finish(new UpstreamError(`${what}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)), timeoutMs);
      const req = https.request({
        host: this.host,
        port: this.port,
        method,
        path,
        agent: this.agent,
        headers: { 'content-type': DOH_MIME, accept: DOH_MIME, ...(body !== undefined ? { 'content-length': body.length } : {}) },
        ...(this.localAddress !== undefined ? { localAddress: this.localAddress } : {}),
      });
      if (signal !== undefined) signal.watch(aborter);
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED' || e.syscall === 'connect') finish(new UpstreamError(`${what}: ${opError('dial', 'tcp', '', this.addr, syscallText(e, 'connect')).message}`));
        else finish(new UpstreamError(`${what}: ${e.message}`));
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_BODY) finish(new UpstreamError('http: request body too large'));
          else chunks.push(d);
        });
        res.on('end', () => finish(undefined, Buffer.concat(chunks)));
        res.on('error', (e: Error) => finish(new UpstreamError(`${what}: ${e.message}`)));
      });
      req.end(body);
    });
  }

  /** Closes the HTTP/2 session and idle HTTP/1.1 connections. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
    this.agent?.destroy();
    this.agent = undefined;
  }
}
