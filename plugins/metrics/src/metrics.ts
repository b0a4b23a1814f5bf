/**
 * The prometheus handler: records every query that passes through it with
 * CoreDNS's label values (CoreDNS's `metrics.ServeDNS` + `vars.Report`).
 */
import {
  DNSSEC_OK,
  PluginError,
  WrappedWriter,
  WIRE_TRANSPARENT,
  clientWrite,
  getOpt,
  isPromise,
  messageLen,
  nextOrFailure,
  rcodeOf,
  zoneMetrics,
  type Context,
  type Handler,
  type Msg,
  type ResponseWriter,
  type ZoneMetrics,
} from '@tsdns/core';

/**
 * Records what the chain wrote: whether anything was, its rcode and the
 * summed uncompressed length of the messages (before the server's scrub).
 */
export class MetricsRecorder extends WrappedWriter {
  /** Passes raw replies on unchanged: the cache may answer hits as bytes through it. */
  readonly [WIRE_TRANSPARENT] = true;
  wrote = false;
  rcode = 0;
  len = 0;

  override writeMsg(m: Msg): void {
    this.rcode = rcodeOf(m);
    this.len += messageLen(m, false);
    this.wrote = true;
    this.inner.writeMsg(m);
  }

  override write(wire: Uint8Array, len?: number): void {
    if (wire.length >= 4) this.rcode = wire[3]! & 0xf;
    this.len += len ?? wire.length;
    this.wrote = true;
    this.inner.write(wire, len);
  }
}

const DOT = 0x2e;

/** True when `name` is `zone` or below it (ASCII case-insensitive; both FQDN). */
export function inZone(zone: string, name: string): boolean {
  if (zone === '.') return true;
  const zl = zone.length;
  const nl = name.length;
  if (nl < zl) return false;
  const off = nl - zl;
  if (off > 0 && name.charCodeAt(off - 1) !== DOT) return false;
  for (let i = 0; i < zl; i++) {
    let a = name.charCodeAt(off + i);
    let b = zone.charCodeAt(i);
    if (a >= 0x41 && a <= 0x5a) a += 0x20;
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    if (a !== b) return false;
  }
  return true;
}

/** The prometheus plugin's handler. */
export class Metrics implements Handler {
  readonly name = 'prometheus';
  next: Handler | undefined = undefined;
  /** The block's zones, longest first. */
  readonly zones: readonly string[];
  /** Zones with no other zone of the block below them: a query routed to one of them is labelled with it. */
  private readonly leaf: ReadonlySet<string>;
  private last: ZoneMetrics | undefined = undefined;

  constructor(zones: readonly string[]) {
    const uniq = [...new Set(zones.map((z) => z.toLowerCase()))];
    uniq.sort((a, b) => b.length - a.length);
    this.zones = uniq;
    this.leaf = new Set(uniq.filter((z) => !uniq.some((o) => o !== z && inZone(z, o))));
  }

  /**
   * The `zone` label: the longest zone of the block that contains `qname`,
   * else `.`. `routed` is the zone the server routed the query by; when the
   * query was routed (`trusted`) and no zone of the block lies below it, it
   * is the answer without looking at the name.
   */
  zoneOf(routed: string, qname: string, trusted = false): string {
    if (trusted && this.leaf.has(routed)) return routed;
    for (const z of this.zones) if (inZone(z, qname)) return z;
    return '.';
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const start = performance.now();
    const reqLen = messageLen(r, false); // before any rewrite further down
    const zone = this.zoneOf(ctx.zone, r.questions.length > 0 ? r.questions[0]!.name : '', ctx.config !== undefined);
    const rec = new MetricsRecorder(w);
    let res: number | Promise<number>;
    try {
      res = nextOrFailure(this.name, this.next, ctx, rec, r);
    } catch (e) {
      // a PluginError is CoreDNS's (rcode, err) return: reported; anything
      // else is a panic, which the server reports (zone "dropped")
      if (e instanceof PluginError) this.finish(ctx, w, r, zone, rec, e.rcode, start, reqLen);
      throw e;
    }
    if (isPromise(res)) {
      return res.then(
        (rc) => {
          this.finish(ctx, w, r, zone, rec, rc, start, reqLen);
          return rc;
        },
        (e: unknown) => {
          if (e instanceof PluginError) this.finish(ctx, w, r, zone, rec, e.rcode, start, reqLen);
          throw e;
        },
      );
    }
    this.finish(ctx, w, r, zone, rec, res, start, reqLen);
    return res;
  }

  private finish(ctx: Context, w: ResponseWriter, r: Msg, zone: string, rec: MetricsRecorder, status: number, start: number, reqLen: number): void {
    const rc = clientWrite(status) ? rec.rcode : status;
    const plugin = rec.wrote && this.next !== undefined ? this.next.name : '';
    let zm = this.last;
    if (zm === undefined || zm.zone !== zone || zm.server !== ctx.server || zm.view !== ctx.view) {
      zm = this.last = zoneMetrics(ctx.server, zone, ctx.view);
    }
    const q = r.questions.length > 0 ? r.questions[0]! : undefined;
    const opt = getOpt(r);
    zm.record(
      w.proto,
      w.remote.family === 6 ? 2 : 1,
      q === undefined ? 'TYPE0' : q.type,
      opt !== undefined && (opt.flags & DNSSEC_OK) !== 0,
      rc,
      plugin,
      rec.len,
      reqLen,
      (performance.now() - start) / 1000,
    );
  }
}
