/**
 * The forward handler: matches FROM/except, limits concurrency, then tries
 * the upstreams in policy order within a 5 s deadline, skipping the ones
 * that are down, and writes the first acceptable reply.
 */
import {
  isSubDomain,
  lowerName,
  newRcodeReply,
  nextOrFailure,
  PluginError,
  RCODE,
  rcodeOf,
  relayWire,
  getOpt,
  sameQuestion,
  scrubRequest,
  TRUNCATED_RESPONSE,
  WireReply,
  typeCode,
  classCode,
  type Context,
  type Handler,
  type Msg,
  type Question,
  type ResponseWriter,
} from '@tsdns/core';
import { ERR_NO_HEALTHY, UpstreamError } from './errors.js';
import { healthcheckBrokenCount, maxConcurrentRejectCount } from './metrics.js';
import { RandomPolicy, type Policy } from './policy.js';
import { DEFAULT_HC_INTERVAL_MS, DEFAULT_READ_TIMEOUT_MS, Outgoing, type Proxy } from './proxy.js';
import type { DohMethod } from './doh.js';
import type { Reply } from './conn.js';
import { DEFAULT_EXPIRE_MS } from './pool.js';

/** Overall time a query may spend trying upstreams. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Connect attempts per upstream when `max_connect_attempts` is not set. */
export const DEFAULT_CONNECT_ATTEMPTS_PER_UPSTREAM = 2;

/** Protocol and health-check options (CoreDNS's proxy.Options). */
export interface ForwardOptions {
  /** Always TCP upstream; wins over preferUdp. */
  forceTcp: boolean;
  /** UDP first, TCP again when the reply is truncated. */
  preferUdp: boolean;
  /** RD bit of health-check queries. */
  hcRecursionDesired: boolean;
  /** Health-check query name. */
  hcDomain: string;
}

export class Forward implements Handler {
  readonly name = 'forward';
  /** The next handler (the next forward of the block, or the next plugin). */
  next: Handler | undefined = undefined;
  /** Upstreams in configuration order. */
  proxies: Proxy[] = [];
  policy: Policy = new RandomPolicy();
  /** Health-check interval (ms). */
  hcInterval = DEFAULT_HC_INTERVAL_MS;
  /** FROM, normalised. */
  from = '.';
  /** `except` names, normalised. */
  ignored: string[] = [];
  /** `next RCODE...` */
  nextAlternateRcodes: number[] = [];
  nextOnNodata = false;
  tlsServerName = '';
  maxfails = 2;
  expire = DEFAULT_EXPIRE_MS;
  maxAge = 0;
  readTimeout = DEFAULT_READ_TIMEOUT_MS;
  maxIdleConns = 0;
  dohMethod: DohMethod = 'POST';
  maxConcurrent = 0;
  /** `concurrent queries exceeded maximum N` */
  errLimitExceeded = '';
  failfastUnhealthyUpstreams = false;
  /** `failover RCODE...` */
  failoverRcodes: number[] = [];
  maxConnectAttempts = 0;
  maxConnectAttemptsSet = false;
  sourceAddress: string | undefined = undefined;
  /** Host-name TOs are resolved with these (`resolver`), else the system resolver. */
  resolver: string[] = [];
  /** Number of TO entries (a resolv.conf file is one). */
  toEntries = 0;
  opts: ForwardOptions = { forceTcp: false, preferUdp: false, hcRecursionDesired: true, hcDomain: '.' };
  /** Overall time budget of one query (ms); not a Corefile option (CoreDNS's package variable). */
  timeout = DEFAULT_TIMEOUT_MS;
  /**
   * Write upstream replies as the bytes the server would send for them
   * (`relayWire`) when that is exactly what the message path gives; false:
   * always decode and `writeMsg` (tests compare the two).
   */
  wireReplies = true;
  /** Replies written as bytes so far (for tests and debugging). */
  relayed = 0;
  private concurrent = 0;
  private readonly release = (): void => {
    this.concurrent--;
  };

  /** The number of upstreams. */
  len(): number {
    return this.proxies.length;
  }

  /** The upstreams in the order the policy gives for a query. */
  list(): readonly Proxy[] {
    return this.policy.list(this.proxies);
  }

  /** Queries being forwarded now (only counted with `max_concurrent`). */
  get inFlight(): number {
    return this.concurrent;
  }

  /** Starts health checkers' intervals and connection sweeps (OnStartup). */
  onStartup(): void {
    for (const p of this.proxies) p.start(this.hcInterval);
  }

  /** Stops health checks and closes cached connections (OnShutdown). */
  onShutdown(): void {
    for (const p of this.proxies) p.stop();
  }

  /** FROM matches and the name is not excepted (FROM itself never is). */
  match(name: string): boolean {
    if (!isSubDomain(this.from, name)) return false;
    if (this.ignored.length === 0 || name === this.from) return true;
    for (const ig of this.ignored) if (isSubDomain(ig, name)) return false;
    return true;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const q = r.questions[0];
    const name = q === undefined ? '' : lowerName(q.name);
    if (!this.match(name)) return nextOrFailure(this.name, this.next, ctx, w, r);
    if (this.maxConcurrent > 0) {
      if (this.concurrent + 1 > this.maxConcurrent) {
        maxConcurrentRejectCount.inc();
        throw new PluginError(RCODE.REFUSED, this.errLimitExceeded);
      }
      this.concurrent++;
      const p = this.serve(ctx, w, r, q, name);
      p.then(this.release, this.release);
      return p;
    }
    return this.serve(ctx, w, r, q, name);
  }

  private async serve(ctx: Context, w: ResponseWriter, r: Msg, q: Question | undefined, name: string): Promise<number> {
    const proxies = this.proxies;
    const n = proxies.length;
    const list = this.policy.list(proxies);
    const deadline = performance.now() + this.timeout;
    const maxAttempts = this.maxConnectAttemptsSet ? this.maxConnectAttempts : DEFAULT_CONNECT_ATTEMPTS_PER_UPSTREAM * list.length;
    const signal = ctx.abortSource();
    const out = new Outgoing(r, w.proto, clientSize(r, w.proto));
    let attempts = 0;
    let fails = 0;
    let failoverAttempts = 0;
    let i = 0;
    let upstreamErr: UpstreamError | undefined;
    let first = true; // the deadline has not passed yet: no clock read

    while ((first || performance.now() < deadline) && !signal.aborted && (maxAttempts === 0 || attempts < maxAttempts)) {
      first = false;
      if (i >= list.length) {
        i = 0;
        fails = 0;
      }
      let proxy = list[i++]!;
      if (proxy.down(this.maxfails)) {
        fails++;
        if (fails < n) continue;
        healthcheckBrokenCount.inc();
        // every upstream is down: the health checks may be what is broken
        if (this.failfastUnhealthyUpstreams) break;
        proxy = proxies[Math.floor(Math.random() * n)]!;
      }
      ctx.setMetadata('forward/upstream', proxy.addrFn);

      let forceTcp = this.opts.forceTcp;
      const preferUdp = this.opts.preferUdp;
      let ret: Reply | undefined;
      let err: UpstreamError | undefined;
      for (;;) {
        try {
          ret = await proxy.connect(out, forceTcp, preferUdp, signal);
          err = undefined;
        } catch (e) {
          ret = undefined;
          err = e instanceof UpstreamError ? e : new UpstreamError(e instanceof Error ? e.message : String(e));
        }
        if (err !== undefined && err.kind === 'cached-closed') continue; // the peer closed a reused connection
        if (ret !== undefined && !forceTcp && preferUdp && (ret.flags & TRUNCATED_RESPONSE) !== 0) {
          forceTcp = true;
          continue;
        }
        break;
      }

      upstreamErr = err;
      if (err !== undefined) {
        if (err.kind === 'invalid-request') throw new PluginError(RCODE.FORMERR, err.message);
        if (err.kind === 'aborted') break;
        // see whether it is our upstream that is broken
        if (this.maxfails !== 0) proxy.healthcheck();
        if (maxAttempts > 0) {
          attempts++;
          if (attempts >= maxAttempts) break;
        }
        if (fails < n) continue;
        break;
      }

      // the reply as bytes when its question is checked on the wire, else decoded and checked as request.Match
      let wire: WireReply | undefined;
      let m: Msg | undefined;
      const reply = ret!;
      if (reply instanceof WireReply) {
        const query = out.wireQuestion();
        if (query !== undefined && sameQuestion(reply, query)) wire = reply;
        else m = reply.toMsg();
      } else {
        m = reply;
      }
      if (m !== undefined && !matches(m, q, name)) {
        w.writeMsg(newRcodeReply(r, RCODE.FORMERR));
        return 0;
      }
      const rc = wire !== undefined ? wire.rcode : rcodeOf(m!);
      if (this.failoverRcodes.length > 0 && this.failoverRcodes.includes(rc)) {
        failoverAttempts++;
        if (failoverAttempts < n) continue;
      }
      const next = this.next;
      if (next instanceof Forward) {
        if (this.nextAlternateRcodes.includes(rc)) return nextOrFailure(this.name, next, ctx, w, r);
        const noAnswer = wire !== undefined ? wire.answers === 0 : m!.answers.length === 0;
        if (this.nextOnNodata && rc === RCODE.NOERROR && noAnswer) return nextOrFailure(this.name, next, ctx, w, r);
      }
      if (wire !== undefined) this.writeReply(w, wire);
      else w.writeMsg(m!);
      return 0;
    }

    if (upstreamErr !== undefined) throw new PluginError(RCODE.SERVFAIL, upstreamErr.message);
    throw new PluginError(RCODE.SERVFAIL, ERR_NO_HEALTHY);
  }

  /**
   * `w.writeMsg(reply decoded)`, as bytes when they are exactly what the
   * server would send for the message: every writer in front passes raw
   * bytes on like messages, the transport sends them as they are (not DoH),
   * and the scrub would neither truncate nor compress the reply.
   */
  private writeReply(w: ResponseWriter, reply: WireReply): void {
    if (this.wireReplies) {
      const t = w.transport;
      if (t === 'udp' || t === 'tcp' || t === 'tls') {
        const state = scrubRequest(w);
        if (state !== undefined) {
          const b = relayWire(reply, state);
          if (b !== undefined) {
            this.relayed++;
            w.write(b.bytes, b.len);
            return;
          }
        }
      }
    }
    w.writeMsg(reply.toMsg());
  }
}

/** The client's reply size (CoreDNS's `state.Size()`): 65535 over TCP, else its EDNS size, at least 512. */
function clientSize(r: Msg, proto: 'udp' | 'tcp'): number {
  if (proto === 'tcp') return 65535;
  const o = getOpt(r);
  return o !== undefined && o.udpPayloadSize > 512 ? o.udpPayloadSize : 512;
}

/** request.Match: one question, QR set, same name (case-insensitive), type and class. */
function matches(m: Msg, q: Question | undefined, name: string): boolean {
  if (m.questions.length !== 1 || m.type !== 'response' || q === undefined) return false;
  const rq = m.questions[0]!;
  if (lowerName(rq.name) !== name) return false;
  if (rq.type !== q.type && typeCode(rq.type) !== typeCode(q.type)) return false;
  if (rq.class !== q.class && classCode(rq.class) !== classCode(q.class)) return false;
  return true;
}
