/**
 * The connection cache of one upstream (CoreDNS's proxy.Transport): UDP
 * sockets and TCP/TLS connections kept per protocol, handed out oldest first,
 * closed when idle longer than `expire` or older than `max_age`, swept every
 * 10 s, capped by `max_idle_conns`. A TCP/TLS connection carries one query at
 * a time (taken from the cache, returned after the reply); a UDP socket
 * carries up to MUX_MAX_INFLIGHT at once (see mux.ts). A dial that finds
 * nothing to use opens a new connection (TCP with an adaptive timeout).
 */
import { ERR_TRANSPORT_STOPPED, UpstreamError } from './errors.js';
import { StreamConn, type TlsSettings } from './conn.js';
import { MUX_MAX_INFLIGHT, UdpMux } from './mux.js';
import { connCacheHitsCount, connCacheMissesCount, type CounterChild } from './metrics.js';

/** Idle connections are swept at this interval (CoreDNS's defaultExpire ticker). */
export const SWEEP_INTERVAL_MS = 10_000;
export const DEFAULT_EXPIRE_MS = 10_000;
const MIN_DIAL_TIMEOUT_MS = 1_000;
const MAX_DIAL_TIMEOUT_MS = 30_000;
const AVG_WEIGHT = 4;

/** A FIFO of idle connections (take from the front, return to the back). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Keeps the items for which `keep` is true, in order; returns the others. */
  filter(keep: (x: T) => boolean): T[] {
    const out: T[] = [];
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const x = this.items[i]!;
      if (keep(x)) kept.push(x);
      else out.push(x);
    }
    this.items = kept;
    this.head = 0;
    return out;
  }

  drain(): T[] {
    return this.filter(() => false);
  }
}

export type DialProto = 'udp' | 'tcp';

export interface Dialed<C> {
  conn: C;
  cached: boolean;
}

export interface PoolOptions {
  /** Upstream address (`127.0.0.1:53`): metric label and error texts. */
  addr: string;
  host: string;
  port: number;
  /** Proxy name for metrics (`forward`). */
  proxyName: string;
  /** Set for tls:// upstreams: every dial is TCP+TLS. */
  tls?: TlsSettings | undefined;
  localAddress?: string | undefined;
}

export class ConnPool {
  readonly addr: string;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsSettings | undefined;
  localAddress: string | undefined;
  /** Idle connections older (since last use) than this are closed (ms). */
  expire = DEFAULT_EXPIRE_MS;
  /** Connections older than this are closed (ms); 0 = no limit. */
  maxAge = 0;
  /** Idle connections kept per protocol; 0 = unlimited. */
  maxIdleConns = 0;

  /** UDP sockets, oldest first; none of them dead or retired. */
  private muxes: UdpMux[] = [];
  /** A UDP socket being opened: queries arriving meanwhile wait for it. */
  private opening: Promise<UdpMux> | undefined = undefined;
  private readonly onMuxIdle = (m: UdpMux): void => this.muxIdle(m);
  private readonly stream = new Fifo<StreamConn>();
  private avgDialTime = MAX_DIAL_TIMEOUT_MS / 2;
  private stopped = false;
  private sweeper: NodeJS.Timeout | undefined;
  private tlsSession: Buffer | undefined;
  private readonly hit: Record<'udp' | 'tcp' | 'tcp-tls', CounterChild | undefined> = { udp: undefined, tcp: undefined, 'tcp-tls': undefined };
  private readonly miss: Record<'udp' | 'tcp' | 'tcp-tls', CounterChild | undefined> = { udp: undefined, tcp: undefined, 'tcp-tls': undefined };
  private readonly proxyName: string;
  private readonly onDialDone = (ms: number): void => {
    this.avgDialTime += (ms - this.avgDialTime) / AVG_WEIGHT;
  };
  private readonly onSession = (s: Buffer): void => {
    this.tlsSession = s;
  };

  constructor(o: PoolOptions) {
    this.addr = o.addr;
    this.host = o.host;
    this.port = o.port;
    this.proxyName = o.proxyName;
    this.tls = o.tls;
    this.localAddress = o.localAddress;
  }

  /** Current dial timeout: twice the moving average of dial times, within [1 s, 30 s]. */
  dialTimeout(): number {
    const rt = this.avgDialTime;
    if (rt < MIN_DIAL_TIMEOUT_MS) return MIN_DIAL_TIMEOUT_MS;
    if (rt < MAX_DIAL_TIMEOUT_MS / 2) return 2 * rt;
    return MAX_DIAL_TIMEOUT_MS;
  }

  private count(which: 'hit' | 'miss', proto: 'udp' | 'tcp' | 'tcp-tls'): void {
    const tbl = which === 'hit' ? this.hit : this.miss;
    let c = tbl[proto];
    if (c === undefined) {
      c = (which === 'hit' ? connCacheHitsCount : connCacheMissesCount).labels(this.proxyName, this.addr, proto);
      tbl[proto] = c;
    }
    c.value++;
  }

  private fresh(c: { used: number; created: number; dead: boolean }, now: number): boolean {
    if (c.dead) return false;
    if (now - c.used >= this.expire) return false;
    if (this.maxAge > 0 && c.created < now - this.maxAge) return false;
    return true;
  }

  /**
   * A UDP socket for one more query: the oldest one with room (a cache hit),
   * else a new one (a miss; queries arriving while it opens share it, as
   * hits). A socket idle longer than `expire` or older than `max_age` takes
   * no more queries; with `expire 0` every query has a socket of its own.
   * A socket handed out later (the promise) holds a place for the query:
   * send with `exchange(..., true)`.
   */
  dialUdp(): UdpMux | Promise<UdpMux> {
    if (this.stopped) throw new UpstreamError(ERR_TRANSPORT_STOPPED, 'stopped');
    const muxes = this.muxes;
    for (let i = 0; i < muxes.length; i++) {
      const m = muxes[i]!;
      // (a busy socket is reusable unless max_age applies: no clock read then)
      if (!m.dead && !m.retired && (m.size === 0 || this.maxAge > 0) && !this.reusable(m, performance.now())) this.retire(m);
      if (m.dead || m.retired) {
        muxes.splice(i--, 1);
        continue;
      }
      if (m.size < MUX_MAX_INFLIGHT) {
        this.count('hit', 'udp');
        return m;
      }
    }
    const opening = this.opening;
    if (opening !== undefined) {
      // a place is held at once: the queries waiting are handed the socket before any of them sends
      return opening.then((m) => {
        if (!m.available) {
          const other = this.dialUdp();
          if (other instanceof UdpMux) other.reserve();
          return other;
        }
        m.reserve();
        this.count('hit', 'udp');
        return m;
      });
    }
    this.count('miss', 'udp');
    const start = performance.now();
    const p = UdpMux.open(this.host, this.port, this.addr, this.localAddress).then(
      (m) => {
        this.onDialDone(performance.now() - start);
        if (this.opening === p) this.opening = undefined;
        if (this.stopped || this.expire <= 0) {
          m.retired = true; // closed when its query is settled
        } else {
          m.onIdle = this.onMuxIdle;
          this.muxes.push(m);
        }
        m.reserve();
        return m;
      },
      (e: unknown) => {
        this.onDialDone(performance.now() - start);
        if (this.opening === p) this.opening = undefined;
        throw e;
      },
    );
    if (this.expire > 0) this.opening = p;
    return p;
  }

  /** Takes more queries: younger than `max_age`, and busy or idle for less than `expire`. */
  private reusable(m: UdpMux, now: number): boolean {
    if (this.maxAge > 0 && m.created < now - this.maxAge) return false;
    return m.size > 0 || now - m.used < this.expire;
  }

  /** No more queries on `m`; closed now if idle, else when its last query is settled. */
  private retire(m: UdpMux): void {
    m.retired = true;
    if (m.size === 0) m.close();
  }

  /** A UDP socket went idle: closed when `max_idle_conns` idle ones are kept already (or the pool is stopped). */
  private muxIdle(m: UdpMux): void {
    m.used = performance.now();
    if (this.stopped) {
      this.retire(m);
      return;
    }
    if (this.maxIdleConns <= 0) return;
    let idle = 0;
    for (const x of this.muxes) if (x !== m && !x.dead && !x.retired && x.size === 0) idle++;
    if (idle >= this.maxIdleConns) this.retire(m);
  }

  /** An idle TCP (TLS for tls:// upstreams) connection, or a new one. */
  dialStream(): Dialed<StreamConn> {
    if (this.stopped) throw new UpstreamError(ERR_TRANSPORT_STOPPED, 'stopped');
    const proto = this.tls !== undefined ? 'tcp-tls' : 'tcp';
    const now = performance.now();
    for (let c = this.stream.shift(); c !== undefined; c = this.stream.shift()) {
      if (!this.fresh(c, now)) {
        c.close();
        continue;
      }
      c.cached = true;
      this.count('hit', proto);
      return { conn: c, cached: true };
    }
    this.count('miss', proto);
    const c = StreamConn.dial(this.host, this.port, this.addr, this.localAddress, this.tls, this.dialTimeout(), this.onDialDone, this.tlsSession);
    if (this.tls !== undefined) c.sock.on('session', this.onSession);
    return { conn: c, cached: false };
  }

  /** Returns a TCP/TLS connection after a successful exchange. */
  yield(c: StreamConn): void {
    if (c.dead) return;
    if (this.stopped) {
      c.close();
      return;
    }
    c.used = performance.now();
    if (this.maxIdleConns > 0 && this.stream.length >= this.maxIdleConns) {
      c.close();
      return;
    }
    this.stream.push(c);
  }

  /** Idle connections per protocol (for tests and debugging); a UDP socket is idle when no query is in flight on it. */
  idle(): { udp: number; tcp: number } {
    let udp = 0;
    for (const m of this.muxes) if (!m.dead && !m.retired && m.size === 0) udp++;
    return { udp, tcp: this.stream.length };
  }

  /** UDP sockets open (idle or busy), for tests and debugging. */
  udpSockets(): number {
    let n = 0;
    for (const m of this.muxes) if (!m.dead) n++;
    return n;
  }

  /** Closes stale idle connections (all of them with `all`); busy UDP sockets close when their queries are settled. */
  cleanup(all: boolean): void {
    const now = performance.now();
    this.muxes = this.muxes.filter((m) => {
      if (!m.dead && !m.retired && (all || !this.reusable(m, now))) this.retire(m);
      return !m.dead && !m.retired;
    });
    const stale = all ? this.stream.drain() : this.stream.filter((c) => this.fresh(c, now));
    for (const c of stale) c.close();
  }

  /** Starts the periodic sweep (an unref'd timer). */
  start(): void {
    if (this.sweeper !== undefined || this.stopped) return;
    this.sweeper = setInterval(() => this.cleanup(false), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Stops the sweep and closes every idle connection; later dials fail. */
  stop(): void {
    this.stopped = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.cleanup(true);
  }
}
