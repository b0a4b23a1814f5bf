/**
 * The writers the cache hands to the plugins after it: CacheWriter stores
 * what they write and rewrites the TTLs of the reply passed on to the client
 * (CoreDNS's cache.ResponseWriter); VerifyStaleWriter only lets a refresh
 * through when it may replace a stale entry (CoreDNS's
 * verifyStaleResponseWriter).
 */
import {
  AUTHENTIC_DATA,
  Request,
  getOpt,
  isOpt,
  rcodeOf,
  requestOptEcho,
  ResponseType,
  TRUNCATED_RESPONSE,
  typifyFacts,
  factsOfMsg,
  zonesMatch,
  type Address,
  type Context,
  type DnsRecord,
  type Msg,
  type ResponseWriter,
  type RR,
  type TransportName,
} from '@tsdns/core';
import { cacheable, cacheResponseType, matchesRequest, minimalTTL, usableAnswer } from './classify.js';
import type { Cache } from './cache.js';
import { Item } from './item.js';
import type { CacheMetrics } from './metrics.js';

/** The question a cache writer stores answers for, and its cache key. */
export interface CacheQuestion {
  /** Lower-cased qname. */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly key: number;
  /** DO bit of the client's request. */
  readonly do: boolean;
  /** CD bit of the client's request. */
  readonly cd: boolean;
  /** AD bit of the client's request. */
  readonly ad: boolean;
}

/** The address a refresh without a client appears to come from (Go's empty TCPAddr: no IP, port 0). */
const NO_CLIENT: Address = { address: '::', port: 0, family: 6 };

/** min(max(msgTTL, minTTL), maxTTL), CoreDNS's computeTTL. */
export function computeTTL(msgTTL: number, minTTL: number, maxTTL: number): number {
  return Math.min(Math.max(msgTTL, minTTL), maxTTL);
}

/** The records without OPT, each a copy with its TTL set (CoreDNS's filterRRSlice). */
function filterRRs(rrs: readonly DnsRecord[], ttl: number): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const r of rrs) if (!isOpt(r)) out.push({ ...r, ttl } as RR);
  return out;
}

export class CacheWriter implements ResponseWriter {
  private readonly cache: Cache;
  /** The writer towards the client; undefined for a background refresh (nothing is written). */
  private readonly inner: ResponseWriter | undefined;
  readonly q: CacheQuestion;
  private readonly metrics: CacheMetrics;
  /** When true nothing is written to the client (prefetch, background verify). */
  prefetch: boolean;
  /** The client's request (for the OPT echo of an extended rcode); undefined without a client. */
  private readonly clientReq: Msg | undefined;
  /** Reads `zone/wildcard` when an item is stored (only for the client's own miss, as CoreDNS). */
  private readonly ctx: Context | undefined;

  /** The last response after the TTL and AD adjustments. */
  lastResponse: Msg | undefined = undefined;
  /** The item the last response was stored as, if it was. */
  lastItem: Item | undefined = undefined;

  constructor(
    cache: Cache,
    inner: ResponseWriter | undefined,
    q: CacheQuestion,
    metrics: CacheMetrics,
    opts: { prefetch?: boolean; clientReq?: Msg; ctx?: Context } = {},
  ) {
    this.cache = cache;
    this.inner = inner;
    this.q = q;
    this.metrics = metrics;
    this.prefetch = opts.prefetch ?? inner === undefined;
    this.clientReq = opts.clientReq;
    this.ctx = opts.ctx;
  }

  get remote(): Address {
    return this.inner?.remote ?? NO_CLIENT;
  }
  get local(): Address {
    return this.inner?.local ?? NO_CLIENT;
  }
  get transport(): TransportName {
    return this.inner?.transport ?? 'tcp';
  }
  get proto(): 'udp' | 'tcp' {
    return this.inner?.proto ?? 'tcp';
  }

  writeMsg(res0: Msg): void {
    this.lastItem = undefined;
    const c = this.cache;
    const now = c.now();
    const rcode = rcodeOf(res0);
    const mt = cacheResponseType(res0, now, rcode);
    const hasKey = res0.questions.length > 0 && cacheable(res0, mt);

    let duration: number;
    switch (mt) {
      case ResponseType.NameError:
      case ResponseType.NoData:
        duration = computeTTL(minimalTTL(res0, mt, c.nttl), c.minnttl, c.nttl);
        break;
      case ResponseType.ServerError:
        duration = c.failttl;
        break;
      default:
        duration = computeTTL(minimalTTL(res0, mt, c.pttl), c.minpttl, c.pttl);
    }

    // the capped TTL goes to this reply too (no jarring 1799 -> 8 on the next hit)
    const ttl = Math.trunc(duration) >>> 0;
    const res: Msg = {
      id: res0.id,
      type: res0.type,
      flags: res0.flags,
      questions: res0.questions.slice(),
      answers: filterRRs(res0.answers, ttl),
      authorities: filterRRs(res0.authorities, ttl),
      additionals: filterRRs(res0.additionals, ttl),
    };

    if (hasKey && duration > 0) {
      const q = this.q;
      if (matchesRequest(res, q.name, q.qtype, q.qclass)) {
        this.set(res, rcode, mt, duration, now);
        this.metrics.sizeSuccess.set(c.pcache.len());
        this.metrics.sizeDenial.set(c.ncache.len());
      } else {
        this.metrics.drops.inc();
      }
    }

    // no AD for a client that did not ask for DNSSEC, unless it set AD itself (RFC 6840 5.7-5.8)
    if (!this.q.do && !this.q.ad) res.flags &= ~AUTHENTIC_DATA;
    this.lastResponse = res;
    if (this.prefetch || this.inner === undefined) return;

    if (rcode > 0xf) {
      // the rcode's upper bits live in the OPT record that was just removed; CoreDNS
      // re-derives them into the OPT the scrub appends (the request's own), and
      // cannot pack the reply at all when the request had none
      const req = this.clientReq;
      if (req === undefined || getOpt(req) === undefined) return;
      const echo = requestOptEcho(new Request(req, this.inner))!;
      res.additionals.push({ ...echo, options: echo.options.slice(), extendedRcode: (rcode >> 4) & 0xff });
    }
    this.inner.writeMsg(res);
  }

  /** Stores `m` (CoreDNS's set): positive types in the success cache, denials and server errors in the denial cache. */
  private set(m: Msg, rcode: number, mt: ResponseType, duration: number, now: number): void {
    const c = this.cache;
    const q = this.q;
    const qname = m.questions[0]!.name;
    switch (mt) {
      case ResponseType.NoError:
      case ResponseType.Delegation: {
        if (c.pexcept.length > 0 && zonesMatch(c.pexcept, qname) !== '') return;
        const i = new Item(m, rcode, now, duration);
        if (this.ctx !== undefined) i.wildcard = this.ctx.metadata('zone/wildcard') ?? '';
        if (c.preferPositive && !i.answering) {
          const previous = c.pcache.get(q.key);
          if (previous !== undefined) i.lastKnownGood = previous.answeringItem(q.name, q.qtype, q.qclass);
        }
        if (c.pcache.add(q.key, i)) this.metrics.evictSuccess.inc();
        this.lastItem = i;
        // a positive refresh is the newest state for this key; under prefer_positive only
        // an answer that answers the question removes the denial
        if ((!c.preferPositive && this.prefetch) || (c.preferPositive && i.answering)) c.ncache.remove(q.key);
        return;
      }
      case ResponseType.NameError:
      case ResponseType.NoData:
      case ResponseType.ServerError: {
        if (c.nexcept.length > 0 && zonesMatch(c.nexcept, qname) !== '') return;
        const i = new Item(m, rcode, now, duration);
        if (this.ctx !== undefined) i.wildcard = this.ctx.metadata('zone/wildcard') ?? '';
        if (c.ncache.add(q.key, i)) this.metrics.evictDenial.inc();
        this.lastItem = i;
        return;
      }
      default:
        c.log.warning(`Caching called with unknown classification: ${mt}`);
    }
  }

  /** Raw bytes are passed on but not cached (CoreDNS logs a warning). */
  write(wire: Uint8Array, len?: number): void {
    this.cache.log.warning('Caching called with Write: not caching reply');
    if (this.prefetch || this.inner === undefined) return;
    this.inner.write(wire, len);
  }
}

/**
 * Lets a refresh of a stale entry through only when it is a complete answer
 * for the question that may replace it (RFC 8767 section 4: NOERROR or
 * NXDOMAIN); under prefer_positive only a usable positive answer goes to the
 * client, other matching responses are cached silently.
 */
export class VerifyStaleWriter implements ResponseWriter {
  private readonly w: CacheWriter;
  private readonly cache: Cache;
  /** The last writeMsg went through to the cache writer. */
  refreshed = false;
  response: Msg | undefined = undefined;
  item: Item | undefined = undefined;

  constructor(cache: Cache, w: CacheWriter) {
    this.cache = cache;
    this.w = w;
  }

  get remote(): Address {
    return this.w.remote;
  }
  get local(): Address {
    return this.w.local;
  }
  get transport(): TransportName {
    return this.w.transport;
  }
  get proto(): 'udp' | 'tcp' {
    return this.w.proto;
  }

  writeMsg(res: Msg): void {
    this.refreshed = false;
    this.response = undefined;
    this.item = undefined;
    const w = this.w;
    const q = w.q;
    if ((res.flags & TRUNCATED_RESPONSE) !== 0 || !matchesRequest(res, q.name, q.qtype, q.qclass)) return;
    const now = this.cache.now();
    if (this.cache.preferPositive) {
      if (usableAnswer(res, now)) {
        this.refreshed = true;
        w.writeMsg(res);
        this.response = w.lastResponse;
        this.item = w.lastItem;
        return;
      }
      const prefetch = w.prefetch;
      w.prefetch = true;
      try {
        w.writeMsg(res);
      } finally {
        w.prefetch = prefetch;
      }
      return;
    }
    const rcode = rcodeOf(res);
    const t = typifyFacts(factsOfMsg(res, rcode), Math.floor(now / 1000));
    if (t === ResponseType.OtherError || t === ResponseType.Meta || t === ResponseType.Update) return;
    if (rcode !== 0 && rcode !== 3) return;
    this.refreshed = true;
    w.writeMsg(res);
    this.response = w.lastResponse;
    this.item = w.lastItem;
  }

  write(wire: Uint8Array, len?: number): void {
    this.w.write(wire, len);
  }
}
