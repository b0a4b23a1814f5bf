/**
 * The cache handler (CoreDNS's plugin/cache handler.go and cache.go): looks
 * a query up in the denial and success caches, answers hits (from wire bytes
 * when they are guaranteed identical to the server's), refreshes popular or
 * stale entries in the background, and on a miss stores what the rest of the
 * chain writes.
 */
import {
  AUTHENTIC_DATA,
  CHECKING_DISABLED,
  Context,
  DNSSEC_OK,
  classCode,
  copyMsg,
  getOpt,
  isPromise,
  lowerName,
  nextOrFailure,
  pluginLogger,
  scrubRequest,
  typeCode,
  zonesMatch,
  type Handler,
  type Logger,
  type Msg,
  type ResponseWriter,
} from '@tsdns/core';
import { MAXIMUM_DEFAULT_TTL, MINIMAL_DEFAULT_TTL } from './classify.js';
import { cacheKey } from './hash.js';
import type { Item } from './item.js';
import { CacheMetrics } from './metrics.js';
import { ShardedCache } from './shards.js';
import { CacheWriter, VerifyStaleWriter, type CacheQuestion } from './writer.js';

/** Default capacity of each cache (9984 entries once divided over 256 shards). */
export const DEFAULT_CAPACITY = 10000;
/** `success`: the positive cache type (metric label, Corefile keyword). */
export const SUCCESS = 'success';
/** `denial`: the negative cache type (metric label, Corefile keyword). */
export const DENIAL = 'denial';

const RCODE_SERVFAIL = 2;

/** Wall-clock milliseconds from a monotonic source (RRSIG validity needs wall time, TTLs need a steady one). */
const ORIGIN = performance.timeOrigin;
const defaultClock = (): number => ORIGIN + performance.now();

/** True when `name` is `zone` or below it; both lower-cased, neither with escapes. */
function underZone(zone: string, name: string): boolean {
  const zl = zone.length;
  const nl = name.length;
  if (zl === 1) return true; // the root
  if (nl < zl || !name.endsWith(zone)) return false;
  return nl === zl || name.charCodeAt(nl - zl - 1) === 0x2e;
}

/** The query the rest of the chain gets on a miss or refresh: a copy with AD set (CoreDNS's authenticatedRefreshState). */
function refreshRequest(r: Msg): Msg {
  const rc = copyMsg(r);
  rc.flags |= AUTHENTIC_DATA;
  return rc;
}

/** Calls `f` and waits for it; errors are returned, never thrown. */
async function settle(f: () => number | Promise<number>): Promise<{ rc: number; err: unknown }> {
  try {
    const res = f();
    return { rc: isPromise(res) ? await res : res, err: undefined };
  } catch (err) {
    return { rc: 0, err };
  }
}

export class Cache implements Handler {
  readonly name = 'cache';
  next: Handler | undefined = undefined;
  /** Zones the cache serves (normalised). */
  zones: string[] = ['.'];
  /** The `zones` metric label: the zones joined with `,`. */
  zonesMetricLabel = '';
  /** The `view` metric label (the block's view name, read at startup). */
  viewMetricLabel = '';

  /** Success cache: capacity, maximum and minimum TTL (seconds). */
  pcap = DEFAULT_CAPACITY;
  pttl = MAXIMUM_DEFAULT_TTL;
  minpttl = MINIMAL_DEFAULT_TTL;
  /** Denial cache: capacity, maximum and minimum TTL (seconds). */
  ncap = DEFAULT_CAPACITY;
  nttl = MAXIMUM_DEFAULT_TTL / 2;
  minnttl = MINIMAL_DEFAULT_TTL;
  /** How long SERVFAIL/NOTIMP responses are cached (seconds, may have a fraction; 0 = not at all). */
  failttl = MINIMAL_DEFAULT_TTL;

  /** Prefetch: hits needed (0 = off), the window they must fall in (ms), the remaining-TTL percentage. */
  prefetch = 0;
  duration = 60_000;
  percentage = 10;

  /** serve_stale: how long an expired entry may still be served (ms; 0 = off). */
  staleUpTo = 0;
  /** `staleUpTo` in whole seconds (Go's int(Duration.Seconds())). */
  staleUpToSeconds = 0;
  /** verify mode (else immediate). */
  verifyStale = false;
  /** How long a verify waits for the upstream before serving stale (ms; 0 = until the upstream gives up). */
  verifyStaleTimeout = 0;
  /** serve_stale_policy prefer_positive. */
  preferPositive = false;
  /** TTL of stale replies (seconds; 0 = 0). */
  staleTTL = 0;
  /** After a failed refresh of a stale entry, no new attempt for this long (ms; 0 = no limit). */
  staleRecheck = 0;

  /** `disable success ZONES` / `disable denial ZONES`. */
  pexcept: string[] = [];
  nexcept: string[] = [];
  /** keepttl: hits carry the stored TTL instead of the remaining one. */
  keepttl = false;

  /**
   * The clock (ms since the epoch); tests inject their own. With the default
   * clock a lookup uses the time the server received the query.
   */
  now: () => number = defaultClock;
  /** Answer hits with wire bytes when they are identical to the message path (tests compare both). */
  wireHits = true;
  log: Logger = pluginLogger('cache');

  pcache: ShardedCache<Item> = new ShardedCache<Item>(DEFAULT_CAPACITY);
  ncache: ShardedCache<Item> = new ShardedCache<Item>(DEFAULT_CAPACITY);

  private readonly metricsByServer = new Map<string, CacheMetrics>();
  private lastMetrics: CacheMetrics | undefined = undefined;
  /** Zone matching needs the label-aware comparison (a zone with an escape). */
  private slowZones = false;
  private allZones = false;
  /** Background refreshes in flight (see `idle()`). */
  private readonly background = new Set<Promise<unknown>>();

  /** Recomputes what depends on the configuration (call after changing zones or capacities). */
  init(): void {
    this.pcache = new ShardedCache<Item>(this.pcap);
    this.ncache = new ShardedCache<Item>(this.ncap);
    this.allZones = this.zones.includes('.');
    this.slowZones = this.zones.some((z) => z.includes('\\'));
  }

  /** Resolves once every background refresh started so far has finished. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private inZones(name: string): boolean {
    if (this.allZones) return true;
    if (this.slowZones || name.includes('\\')) return zonesMatch(this.zones, name) !== '';
    for (const z of this.zones) if (underZone(z, name)) return true;
    return false;
  }

  /** The metric children for a server (kept; no label hashing per query). */
  metricsFor(server: string): CacheMetrics {
    const l = this.lastMetrics;
    if (l !== undefined && l.server === server) return l;
    let m = this.metricsByServer.get(server);
    if (m === undefined) this.metricsByServer.set(server, (m = new CacheMetrics(server, this.zonesMetricLabel, this.viewMetricLabel)));
    this.lastMetrics = m;
    return m;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const question = r.questions[0];
    if (question === undefined) return nextOrFailure(this.name, this.next, ctx, w, r);
    const qname = question.name;
    if (!this.allZones && !this.inZones(lowerName(qname))) return nextOrFailure(this.name, this.next, ctx, w, r);

    const opt = getOpt(r);
    const dnssecOk = opt !== undefined && (opt.flags & DNSSEC_OK) !== 0;
    const cd = (r.flags & CHECKING_DISABLED) !== 0;
    const qtype = typeCode(question.type) ?? 0;
    const qclass = classCode(question.class) ?? 0;
    const key = cacheKey(qname, qtype, qclass, dnssecOk, cd);
    // with the default clock, the time the server received the query (it read the clock already)
    const now = this.now === defaultClock ? ORIGIN + ctx.received : this.now();
    const m = this.metricsFor(ctx.server);

    const i = this.getIfNotStale(now, key, qname, qtype, qclass, m);
    if (i === undefined) {
      const q = this.question(r, qname, qtype, qclass, key, dnssecOk, cd);
      const crw = new CacheWriter(this, w, q, m, { clientReq: r, ctx });
      return nextOrFailure(this.name, this.next, ctx, crw, refreshRequest(r));
    }

    const ttl = i.ttl(now);
    if (ttl > 0) {
      // the common case: a fresh hit
      if (this.prefetch > 0 && this.shouldPrefetch(i, now)) this.tryPrefetch(ctx, i, m, r, this.question(r, qname, qtype, qclass, key, dnssecOk, cd), now, false);
      if (i.wildcard !== '') this.setWildcard(ctx, i.wildcard);
      this.writeItem(w, r, i, this.keepttl ? i.origTTL : ttl, dnssecOk, (r.flags & AUTHENTIC_DATA) !== 0);
      return 0;
    }
    const q = this.question(r, qname, qtype, qclass, key, dnssecOk, cd);
    if (this.verifyStale) {
      const recheck = this.staleRecheck;
      if (recheck <= 0 || i.beginRefresh(now, recheck)) return this.verify(ctx, w, r, q, m, i, now, ttl);
    }
    return this.answer(ctx, w, r, q, m, i, now, ttl);
  }

  /** What a cache writer needs to know about the query. */
  private question(r: Msg, qname: string, qtype: number, qclass: number, key: number, dnssecOk: boolean, cd: boolean): CacheQuestion {
    return { name: lowerName(qname), qtype, qclass, key, do: dnssecOk, cd, ad: (r.flags & AUTHENTIC_DATA) !== 0 };
  }

  private setWildcard(ctx: Context, wildcard: string): void {
    ctx.setMetadata('zone/wildcard', () => wildcard);
  }

  /** Answers from `i` (CoreDNS's handler after the lookup): stale bookkeeping, prefetch, the reply. */
  private answer(ctx: Context, w: ResponseWriter, r: Msg, q: CacheQuestion, m: CacheMetrics, i: Item, now: number, ttl: number): number {
    const stale = ttl <= 0;
    if (stale) {
      // the time at which the item reads 0 seconds left
      const at = now + ttl * 1000;
      if (!this.verifyStale) this.tryPrefetch(ctx, i, m, r, q, at, true);
      m.servedStale.inc();
    } else if (this.shouldPrefetch(i, now)) {
      this.tryPrefetch(ctx, i, m, r, q, now, false);
    }
    if (i.wildcard !== '') this.setWildcard(ctx, i.wildcard);
    let replyTTL: number;
    if (stale && this.staleTTL > 0) replyTTL = this.staleTTL;
    else if (this.keepttl) replyTTL = i.origTTL;
    else replyTTL = stale ? 0 : ttl;
    this.writeItem(w, r, i, replyTTL, q.do, q.ad);
    return 0;
  }

  /**
   * Writes a reply built from `i`: as wire bytes when they are exactly what
   * the server would send for the message (the writer path to the client
   * passes raw bytes on like messages, and the scrub would neither truncate
   * nor compress), else as a message.
   */
  writeItem(w: ResponseWriter, r: Msg, i: Item, ttl: number, dnssecOk: boolean, ad: boolean): void {
    const t = w.transport;
    // DoH (and anything else) re-reads raw replies: only the DNS transports send bytes as they are
    if (this.wireHits && (t === 'udp' || t === 'tcp' || t === 'tls')) {
      const state = scrubRequest(w);
      if (state !== undefined) {
        const b = i.wire(state, r, ttl, dnssecOk, ad);
        if (b !== undefined) {
          w.write(b.bytes, b.len);
          return;
        }
      }
    }
    w.writeMsg(i.toMsg(r, ttl, dnssecOk, ad));
  }

  /** serve_stale verify: ask the rest of the chain first; serve the stale entry only if that gives nothing usable. */
  private async verify(ctx: Context, w: ResponseWriter, r: Msg, q: CacheQuestion, m: CacheMetrics, i: Item, now: number, ttl: number): Promise<number> {
    const recheck = this.staleRecheck;
    const track = recheck > 0;
    const req = refreshRequest(r);
    const crr = new CacheWriter(this, w, q, m, { prefetch: this.verifyStaleTimeout > 0, clientReq: r });
    const cw = new VerifyStaleWriter(this, crr);
    if (this.verifyStaleTimeout <= 0) {
      const res = await settle(() => nextOrFailure(this.name, this.next, ctx, cw, req));
      if (track) i.endRefresh(this.now(), recheck, cw.refreshed);
      if (cw.refreshed) {
        if (res.err !== undefined) throw res.err;
        return res.rc;
      }
    } else {
      const refresh = settle(() => nextOrFailure(this.name, this.next, ctx, cw, req)).then((res) => {
        if (track) i.endRefresh(this.now(), recheck, cw.refreshed);
        return res;
      });
      this.track(refresh);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, this.verifyStaleTimeout, undefined);
      });
      const res = await Promise.race([refresh, timeout]);
      clearTimeout(timer);
      if (res !== undefined && cw.refreshed) {
        if (cw.response === undefined) {
          if (res.err !== undefined) throw res.err;
          return res.rc;
        }
        const fresh = cw.item;
        if (fresh !== undefined) {
          const ttlNow = this.keepttl ? fresh.origTTL : fresh.ttl(this.now());
          this.writeItem(w, r, fresh, ttlNow, q.do, q.ad);
        } else {
          w.writeMsg(cw.response);
        }
        return 0;
      }
    }
    return this.answer(ctx, w, r, q, m, i, now, ttl);
  }

  private shouldPrefetch(i: Item, now: number): boolean {
    if (this.prefetch <= 0) return false;
    i.update(this.duration, now);
    const threshold = Math.ceil((this.percentage / 100) * i.origTTL);
    return i.hits() >= this.prefetch && i.ttl(now) <= threshold;
  }

  /** Starts a background refresh of `i` unless one is in flight (or a failed one is being waited out). */
  private tryPrefetch(ctx: Context, i: Item, m: CacheMetrics, r: Msg, q: CacheQuestion, now: number, stale: boolean): void {
    const recheck = stale ? this.staleRecheck : 0;
    if (!i.beginRefresh(this.now(), recheck)) return;
    const req = refreshRequest(r);
    // its own context: a fresh metadata map and no cancellation tied to the client's query
    const bg = new Context(ctx.server, ctx.zone, ctx.config, performance.now());
    bg.view = ctx.view;
    bg.dnsServer = ctx.dnsServer;
    const p = Promise.resolve()
      .then(() => this.doPrefetch(bg, i, m, req, q, now, stale))
      .then(
        (refreshed) => i.endRefresh(this.now(), recheck, refreshed),
        () => i.endRefresh(this.now(), recheck, false),
      );
    this.track(p);
  }

  private async doPrefetch(ctx: Context, i: Item, m: CacheMetrics, req: Msg, q: CacheQuestion, now: number, stale: boolean): Promise<boolean> {
    m.prefetch.inc();
    const cw = new CacheWriter(this, undefined, q, m, { prefetch: true });
    let refreshed = true;
    if (stale) {
      const vw = new VerifyStaleWriter(this, cw);
      await settle(() => nextOrFailure(this.name, this.next, ctx, vw, req));
      refreshed = vw.refreshed;
    } else {
      await settle(() => nextOrFailure(this.name, this.next, ctx, cw, req));
    }
    if (!refreshed) return false;
    // the new item starts with the popularity the old one had gathered
    const i1 = this.exists(q.key);
    if (i1 !== undefined) i1.reset(now, i.hits());
    return true;
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    const done = (): void => {
      this.background.delete(p);
    };
    p.then(done, done);
  }

  /** The usable entry for a query, counting requests, hits and misses (CoreDNS's getIfNotStale). */
  private getIfNotStale(now: number, key: number, name: string, qtype: number, qclass: number, m: CacheMetrics): Item | undefined {
    m.requests.inc();
    const staleOn = this.staleUpTo > 0;
    const staleSec = this.staleUpToSeconds;

    if (this.preferPositive && staleOn) {
      const p = this.pcache.get(key);
      if (p !== undefined) {
        const a = p.answeringItem(name, qtype, qclass);
        if (a !== undefined) {
          const ttl = a.ttl(now);
          if (ttl > 0 || -ttl < staleSec) {
            m.hitsSuccess.inc();
            return a;
          }
        }
      }
    }

    const n = this.ncache.get(key);
    if (n !== undefined) {
      const ttl = n.ttl(now);
      if (n.matches(name, qtype, qclass) && (ttl > 0 || (staleOn && -ttl < staleSec))) {
        // SERVFAIL is transient: a valid positive entry wins over it
        if (n.rcode === RCODE_SERVFAIL) {
          const p = this.pcache.get(key);
          if (p !== undefined) {
            const pttl = p.ttl(now);
            if (p.matches(name, qtype, qclass) && (pttl > 0 || (staleOn && -pttl < staleSec))) {
              m.hitsSuccess.inc();
              return p;
            }
          }
        }
        m.hitsDenial.inc();
        return n;
      }
    }

    const p = this.pcache.get(key);
    if (p !== undefined) {
      const ttl = p.ttl(now);
      if (p.matches(name, qtype, qclass) && (ttl > 0 || (staleOn && -ttl < staleSec))) {
        m.hitsSuccess.inc();
        return p;
      }
    }
    m.misses.inc();
    return undefined;
  }

  /** The entry under `key` whatever its state (denial cache first). */
  exists(key: number): Item | undefined {
    return this.ncache.get(key) ?? this.pcache.get(key);
  }
}
