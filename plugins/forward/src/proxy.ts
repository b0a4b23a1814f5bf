/**
 * One upstream (CoreDNS's proxy.Proxy): its address and protocol, its
 * connection cache, health checker and fail count, and `connect`, which sends
 * a query and returns the reply with the client's ID.
 */
import { decodeMessage, encodeMessage, plainCanonicalName, rcodeName, rcodeOf, scanReply, WireError, WireReply, type AbortSource, type Msg } from '@tsdns/core';
import type { Reply, StreamConn, TlsSettings } from './conn.js';
import { randomId } from './ids.js';
import type { MuxSink, UdpMux } from './mux.js';
import { DohClient, type DohMethod } from './doh.js';
import { ERR_INVALID_REQUEST, UpstreamError } from './errors.js';
import { HealthChecker, Probe, type HealthTransport } from './health.js';
import { splitHostPort } from './hostport.js';
import { requestDuration, type HistogramChild } from './metrics.js';
import { ConnPool } from './pool.js';

export type UpstreamProtocol = 'dns' | 'tls' | 'https';

/** DoH requests are bounded by this (CoreDNS's http.Client Timeout). */
export const DOH_TIMEOUT_MS = 2000;
export const DEFAULT_READ_TIMEOUT_MS = 2000;
export const DEFAULT_HC_INTERVAL_MS = 500;

/**
 * A query on its way upstream: the client's message, packed once (with a
 * TCP length prefix; UDP sends the bytes after it) and re-stamped with a new
 * ID for every attempt.
 */
export class Outgoing {
  readonly msg: Msg;
  /** The client's advertised reply size (CoreDNS's `state.Size()`). */
  readonly size: number;
  /** The protocol the client used. */
  readonly proto: 'udp' | 'tcp';
  private frame: Buffer | undefined;
  private udp: Buffer | undefined;
  private packError: string | undefined;
  private canonical: boolean | undefined;

  constructor(msg: Msg, proto: 'udp' | 'tcp', size: number) {
    this.msg = msg;
    this.proto = proto;
    this.size = size;
  }

  private pack(): void {
    if (this.frame !== undefined) return;
    if (this.packError !== undefined) throw new UpstreamError(this.packError, 'invalid-request');
    try {
      this.frame = encodeMessage(this.msg, false, true);
      this.udp = this.frame.subarray(2);
    } catch (e) {
      this.packError = `${ERR_INVALID_REQUEST}: ${e instanceof WireError || e instanceof Error ? e.message : String(e)}`;
      throw new UpstreamError(this.packError, 'invalid-request');
    }
  }

  /** The query with a length prefix, ID set to `id`. Throws an `invalid-request` UpstreamError when it cannot be packed. */
  framed(id: number): Buffer {
    this.pack();
    const f = this.frame!;
    f[2] = id >>> 8;
    f[3] = id & 0xff;
    return f;
  }

  /** The query without the prefix, ID set to `id`. */
  datagram(id: number): Buffer {
    this.framed(id);
    return this.udp!;
  }

  /**
   * The query as packed (question at offset 12), when its name is in the
   * canonical presentation form, so that a reply's question can be compared
   * on the wire (`sameQuestion`) as request.Match compares decoded names.
   * Undefined otherwise, or before the query was packed.
   */
  wireQuestion(): Buffer | undefined {
    if (this.canonical === undefined) {
      const q = this.msg.questions[0];
      this.canonical = q !== undefined && this.msg.questions.length === 1 && plainCanonicalName(q.name);
    }
    return this.canonical ? this.udp : undefined;
  }
}

export interface ProxySettings {
  tls?: TlsSettings | undefined;
  dohMethod?: DohMethod;
  localAddress?: string | undefined;
}

export class Proxy implements MuxSink {
  readonly proxyName: string;
  /** `127.0.0.1:53`, `[::1]:53`: what metrics, metadata and errors show. */
  readonly addr: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: UpstreamProtocol;
  /** Consecutive failed health checks. */
  fails = 0;
  readTimeout = DEFAULT_READ_TIMEOUT_MS;
  dohMethod: DohMethod = 'POST';
  readonly pool: ConnPool;
  readonly doh: DohClient | undefined;
  readonly health: HealthChecker;
  readonly probe: Probe;
  /** For `ctx.setMetadata('forward/upstream', ...)` without a closure per query. */
  readonly addrFn: () => string;
  private readonly portError: string | undefined;
  private readonly durations: (HistogramChild | undefined)[] = [];
  private readonly checkFn: (signal: AbortSource) => Promise<boolean>;

  constructor(proxyName: string, addr: string, protocol: UpstreamProtocol, settings: ProxySettings = {}) {
    this.proxyName = proxyName;
    this.addr = addr;
    this.protocol = protocol;
    const hp = splitHostPort(addr);
    let host = addr;
    let port = 53;
    if (!('err' in hp)) {
      host = hp.host;
      port = /^\d+$/.test(hp.port) ? Number(hp.port) : NaN;
    }
    this.host = host;
    this.port = port;
    this.portError = 'err' in hp ? hp.err : !(port >= 0 && port <= 65535) ? `address ${hp.port}: invalid port` : undefined;
    this.addrFn = () => this.addr;
    const tls = protocol === 'dns' ? undefined : settings.tls;
    this.pool = new ConnPool({ addr, host, port, proxyName, tls: protocol === 'tls' ? tls : undefined, localAddress: settings.localAddress });
    if (protocol === 'https') {
      if (tls === undefined) throw new Error('https upstream needs TLS settings');
      this.doh = new DohClient({ addr, host, port, tls, localAddress: settings.localAddress });
    }
    if (settings.dohMethod !== undefined) this.dohMethod = settings.dohMethod;
    const hcTransport: HealthTransport = protocol === 'https' ? 'https' : protocol === 'tls' ? 'tcp-tls' : 'udp';
    this.health = new HealthChecker(hcTransport);
    this.health.tls = protocol === 'tls' ? tls : undefined;
    this.health.doh = this.doh;
    this.health.localAddress = settings.localAddress;
    this.probe = new Probe(DEFAULT_HC_INTERVAL_MS);
    this.checkFn = (signal) => this.health.check(this, signal);
  }

  /** Sets the source address of queries and health checks. */
  setLocalAddress(a: string | undefined): void {
    this.pool.localAddress = a;
    this.health.localAddress = a;
    if (this.doh !== undefined) this.doh.localAddress = a;
  }

  /** Down when there were more failed health checks than `maxfails` (never with 0). */
  down(maxfails: number): boolean {
    return maxfails !== 0 && this.fails > maxfails;
  }

  /** Kicks off health checking (no-op while a check loop runs). */
  healthcheck(): void {
    this.probe.do(this.checkFn);
  }

  /** Starts the health checker's interval and the connection sweep. */
  start(hcIntervalMs: number): void {
    this.probe.interval = hcIntervalMs;
    this.pool.start();
  }

  /** Stops health checks and closes cached connections. */
  stop(): void {
    this.probe.stop();
    this.pool.stop();
    this.doh?.close();
  }

  /**
   * Sends the query and returns the reply (with the client's ID). The
   * protocol is the client's unless `forceTcp` (TCP) or `preferUdp` (UDP);
   * tls:// always uses TLS, https:// DoH. Records the request duration.
   * Not an async function: a reused connection's exchange promise is
   * returned as is (the connection calls `replied` first).
   */
  connect(out: Outgoing, forceTcp: boolean, preferUdp: boolean, signal?: AbortSource): Promise<Reply> {
    const start = performance.now();
    if (this.protocol === 'https') return this.lookupDoH(out, signal, start);
    try {
      const proto = forceTcp ? 'tcp' : preferUdp ? 'udp' : out.proto;
      const id = randomId();
      const pool = this.pool;
      if (proto === 'udp' && pool.tls === undefined) {
        out.datagram(id); // packed first: a query that cannot be packed is the client's error
        if (this.portError !== undefined) throw new UpstreamError(`dial udp: ${this.portError}`);
        const m = pool.dialUdp();
        if (m instanceof Promise) return m.then((x) => this.udpExchange(x, out, id, signal, start, true));
        return this.udpExchange(m, out, id, signal, start, false);
      }
      const frame = out.framed(id);
      if (this.portError !== undefined) throw new UpstreamError(`dial tcp: ${this.portError}`);
      return pool.dialStream().conn.exchange(frame, id, this.readTimeout, signal, 'strict', this, out.msg.id, start);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Sends the query on a UDP socket under an ID not in flight there; the read buffer is the client's size (at least 512). */
  private udpExchange(m: UdpMux, out: Outgoing, id: number, signal: AbortSource | undefined, start: number, reserved: boolean): Promise<Reply> {
    const free = m.freeId(id);
    const size = out.size > 512 ? out.size : 512;
    return m.exchange(out.datagram(free), free, size, this.readTimeout, signal, this, out.msg.id, start, reserved);
  }

  /** A reply arrived on a UDP socket: client ID back, duration. */
  muxReplied(m: Reply, origId: number, start: number, now: number): void {
    m.id = origId;
    this.observe(m instanceof WireReply ? m.rcode : rcodeOf(m), start, now);
  }

  /** A reply arrived on a TCP/TLS connection: client ID back, duration, connection back to the pool. */
  replied(conn: StreamConn, m: Reply, origId: number, start: number): void {
    m.id = origId;
    this.observe(m instanceof WireReply ? m.rcode : rcodeOf(m), start);
    this.pool.yield(conn);
  }

  private observe(rc: number, start: number, now = performance.now()): void {
    let h = rc < 4096 ? this.durations[rc] : undefined;
    if (h === undefined) {
      h = requestDuration.labels(this.proxyName, this.addr, rcodeName(rc) ?? String(rc));
      if (rc < 4096) this.durations[rc] = h;
    }
    h.observe((now - start) / 1000);
  }

  private async lookupDoH(out: Outgoing, signal: AbortSource | undefined, start: number): Promise<Reply> {
    let wire: Buffer;
    try {
      wire = out.datagram(0); // RFC 8484: ID 0
    } catch (e) {
      throw new UpstreamError((e as Error).message); // CoreDNS treats it as an upstream error here
    }
    const body = await this.doh!.exchange(wire, this.dohMethod, DOH_TIMEOUT_MS, signal);
    const r = scanReply(body);
    if (r !== undefined) {
      r.id = out.msg.id;
      this.observe(r.rcode, start);
      return r;
    }
    let m: Msg;
    try {
      m = decodeMessage(body);
    } catch (e) {
      throw new UpstreamError((e as Error).message);
    }
    m.id = out.msg.id;
    this.observe(rcodeOf(m), start);
    return m;
  }
}
