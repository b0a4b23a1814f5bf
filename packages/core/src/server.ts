/**
 * One DNS server per (transport, listen address, port): the header filter,
 * EDNS version check, zone routing and the plugin chain call. Transports
 * (UDP, TCP, DoT, DoH) hand it raw messages with a connection writer.
 */
import { Context } from './context.js';
import type { BlockConfig } from './config.js';
import type { ZoneAddr } from './corefile-types.js';
import { log } from './log.js';
import { DROPPED, panicsTotal, report } from './metrics.js';
import { newRcodeReply, opcodeOf, getOpt, newReply } from './msg.js';
import { clientWrite, isPromise, PluginError } from './plugin.js';
import { Request } from './request.js';
import { classCode, RCODE, rcodeToString } from './wire/constants.js';
import { decodeMessage, DecodeError, messageLen, type Msg } from './wire/message.js';
import { lowerName } from './wire/name.js';
import { WrappedWriter, type ResponseWriter } from './writer.js';

/** A transport's writer for one query: sends a message compressed or not. */
export interface ConnWriter extends ResponseWriter {
  /**
   * `len`, when given, is the message's uncompressed length
   * (`messageLen(m, false)`), known to the caller: a hint for sizing the
   * encoded reply of an uncompressed send.
   */
  send(m: Msg, compress: boolean, len?: number): void;
}

/** One key of a block, as placed on a server. */
export interface ZoneConfig {
  addr: ZoneAddr;
  block: BlockConfig;
}

const EMPTY_Q: Msg['questions'] = [];

/** Makes every reply fit the client (EDNS echo, truncation, compression). */
export class ScrubWriter extends WrappedWriter {
  private readonly conn: ConnWriter;
  private readonly state: Request;
  constructor(conn: ConnWriter, state: Request) {
    super(conn);
    this.conn = conn;
    this.state = state;
  }
  override writeMsg(m: Msg): void {
    const state = this.state;
    state.sizeAndDo(m);
    const rl = messageLen(m, false);
    if (state.scrubLen(m, rl)) this.conn.send(m, true);
    else this.conn.send(m, false, rl);
  }
}

export interface ServerOptions {
  /** `dns://:53`, `tls://127.0.0.1:853`, ... */
  addr: string;
  configs: ZoneConfig[];
}

export class Server {
  readonly addr: string;
  readonly zones = new Map<string, ZoneConfig[]>();
  readonly configs: ZoneConfig[];
  /** True when any block on this server enabled `debug`. */
  readonly debug: boolean;
  readonly stacktrace: boolean;
  /** CH (and other non-IN classes) are served only when a forward/proxy/chaos plugin is on this listener. */
  readonly classChaos: boolean;
  readonly readTimeout: number = 3000;
  readonly writeTimeout: number = 5000;
  readonly idleTimeout: number = 10000;
  readonly maxTcpQueries: number = -1;
  /** zoneLen[n] is 1 when some zone name has n characters. */
  private readonly zoneLen: Uint8Array;
  /** The root is the only zone. */
  private readonly rootOnly: boolean;
  constructor(opts: ServerOptions) {
    this.addr = opts.addr;
    this.configs = opts.configs;
    let debug = false;
    let stack = false;
    let chaos = false;
    let rt: number | undefined;
    let wt: number | undefined;
    let it: number | undefined;
    let mq: number | undefined;
    for (const zc of opts.configs) {
      const b = zc.block;
      if (b.debug) debug = true;
      stack = b.stacktrace;
      let l = this.zones.get(zc.addr.zone);
      if (!l) this.zones.set(zc.addr.zone, (l = []));
      l.push(zc);
      if (b.readTimeout) rt = b.readTimeout;
      if (b.writeTimeout) wt = b.writeTimeout;
      if (b.idleTimeout) it = b.idleTimeout;
      if (b.maxTcpQueries !== undefined) mq = b.maxTcpQueries;
      for (const h of b.handlers) if (h.name === 'forward' || h.name === 'proxy' || h.name === 'chaos') chaos = true;
    }
    let maxLen = 0;
    for (const z of this.zones.keys()) maxLen = Math.max(maxLen, z.length);
    this.zoneLen = new Uint8Array(maxLen + 1);
    for (const z of this.zones.keys()) this.zoneLen[z.length] = 1;
    this.rootOnly = this.zones.size === 1 && this.zones.has('.');
    this.debug = debug;
    this.stacktrace = stack;
    this.classChaos = chaos;
    if (rt) this.readTimeout = rt;
    if (wt) this.writeTimeout = wt;
    if (it) this.idleTimeout = it;
    if (mq !== undefined) this.maxTcpQueries = mq;
  }

  /**
   * Serves one raw message. Never throws. Malformed input is dropped or
   * answered FORMERR/NOTIMP exactly as CoreDNS's DNS library does. Returns a
   * promise when the answer comes later (an asynchronous plugin), so that
   * transports know when the query is finished.
   */
  serve(raw: Buffer, w: ConnWriter): Promise<void> | undefined {
    const received = performance.now();
    if (raw.length < 12) return; // can't even read the header: let the client hang
    const bits = (raw[2]! << 8) | raw[3]!;
    if (bits & 0x8000) return; // a response: ignore
    const opcode = (bits >> 11) & 0xf;
    if (opcode !== 0 && opcode !== 4) {
      this.reject(raw, w, EMPTY_Q, RCODE.NOTIMP);
      return;
    }
    const qd = (raw[4]! << 8) | raw[5]!;
    const an = (raw[6]! << 8) | raw[7]!;
    const ns = (raw[8]! << 8) | raw[9]!;
    const ar = (raw[10]! << 8) | raw[11]!;
    if (qd !== 1 || an > 1 || ns > 1 || ar > 2) {
      this.reject(raw, w, EMPTY_Q, RCODE.FORMERR);
      return;
    }
    let r: Msg;
    try {
      r = decodeMessage(raw);
    } catch (e) {
      this.reject(raw, w, e instanceof DecodeError ? e.partial.questions : EMPTY_Q, RCODE.FORMERR);
      return;
    }
    return this.serveMsg(r, w, received);
  }

  /**
   * Serves an already decoded query (DoH, self-lookups and tests enter here).
   * `selfLookups` and `signal` carry over from a query that resolves through
   * the server itself.
   */
  serveMsg(r: Msg, w: ConnWriter, received: number = performance.now(), selfLookups = 0, signal?: AbortSignal): Promise<void> | undefined {
    if (r.questions.length === 0) {
      this.errorAndMetrics(w, r, RCODE.SERVFAIL, received);
      return;
    }
    const q = r.questions[0]!;
    try {
      if (!this.classChaos && q.class !== 'IN') {
        this.errorAndMetrics(w, r, RCODE.REFUSED, received);
        return;
      }
      const opt = getOpt(r);
      if (opt && opt.ednsVersion !== 0) {
        const m = newReply(r);
        m.flags &= ~0xf;
        m.additionals.push({ name: '.', type: 'OPT', udpPayloadSize: 0, extendedRcode: 1, ednsVersion: 0, flags: 0, options: [] });
        w.send(m, false);
        return;
      }
    } catch (e) {
      this.panic(e, w, r, received);
      return;
    }
    const state = new Request(r, w);
    const sw = new ScrubWriter(w, state);
    const isDS = q.type === 'DS';
    let ds: ZoneConfig | undefined;
    // Longest suffix first; the root zone is tried last. Only suffixes as long
    // as some zone are looked up, and a server with just the root zone has
    // nothing to look up for any name but the root itself.
    const name = this.rootOnly && q.name !== '.' ? '' : lowerName(q.name);
    const zoneLen = this.zoneLen;
    let off = 0;
    for (; name !== ''; ) {
      const len = name.length - off;
      const zcs = len < zoneLen.length && zoneLen[len] === 1 ? this.zones.get(off === 0 ? name : name.slice(off)) : undefined;
      if (zcs !== undefined) {
        for (const zc of zcs) {
          const b = zc.block;
          if (b.chain === undefined) {
            this.errorAndMetrics(sw, r, RCODE.REFUSED, received);
            return;
          }
          const ctx = this.context(zc.addr.zone, b, received, selfLookups, signal);
          if (b.filters.length > 0 && !passFilters(b, ctx, state)) continue;
          if (b.viewName) ctx.view = b.viewName;
          if (!isDS) return this.runChain(zc, ctx, sw, r);
          ds = zc;
        }
      }
      const next = nextLabel(name, off);
      if (next < 0) break;
      off = next;
    }
    if (ds !== undefined) {
      const ctx = this.context(ds.addr.zone, ds.block, received, selfLookups, signal);
      if (ds.block.viewName) ctx.view = ds.block.viewName;
      return this.runChain(ds, ctx, sw, r);
    }
    const root = this.zones.get('.');
    if (root !== undefined) {
      for (const zc of root) {
        const b = zc.block;
        if (b.chain === undefined) continue;
        const ctx = this.context('.', b, received, selfLookups, signal);
        if (b.filters.length > 0 && !passFilters(b, ctx, state)) continue;
        if (b.viewName) ctx.view = b.viewName;
        return this.runChain(zc, ctx, sw, r);
      }
    }
    this.errorAndMetrics(sw, r, RCODE.REFUSED, received);
  }

  private context(zone: string, b: BlockConfig, received: number, selfLookups: number, signal: AbortSignal | undefined): Context {
    const ctx = new Context(this.addr, zone, b, received, signal);
    ctx.dnsServer = this;
    ctx.selfLookups = selfLookups;
    return ctx;
  }

  private runChain(zc: ZoneConfig, ctx: Context, w: ResponseWriter, r: Msg): Promise<void> | undefined {
    const chain = zc.block.chain!;
    let res: number | Promise<number>;
    try {
      res = chain.ServeDNS(ctx, w, r);
    } catch (e) {
      this.chainFailed(e, w, r, ctx.received);
      return;
    }
    if (isPromise(res)) {
      return res.then(
        (rc) => this.chainDone(rc, w, r, ctx.received),
        (e: unknown) => this.chainFailed(e, w, r, ctx.received),
      );
    }
    this.chainDone(res, w, r, ctx.received);
    return;
  }

  private chainDone(rc: number, w: ResponseWriter, r: Msg, received: number): void {
    if (clientWrite(rc)) return;
    try {
      const m = newRcodeReply(r, rc);
      w.writeMsg(m);
    } catch (e) {
      this.panic(e, w, r, received);
    }
  }

  private chainFailed(e: unknown, w: ResponseWriter, r: Msg, received: number): void {
    if (e instanceof PluginError) {
      this.chainDone(e.rcode, w, r, received);
      return;
    }
    this.panic(e, w, r, received);
  }

  /** A handler threw: log, count, answer SERVFAIL, keep serving. */
  private panic(e: unknown, w: ResponseWriter, r: Msg, received: number): void {
    const value = e instanceof Error ? e.message : String(e);
    if ((this.stacktrace || this.debug) && e instanceof Error && e.stack) {
      log.error(`Recovered from panic in server: ${JSON.stringify(this.addr)} ${value}\n${e.stack}`);
    } else {
      log.error(`Recovered from panic in server: ${JSON.stringify(this.addr)} ${value}`);
    }
    panicsTotal.inc();
    try {
      this.errorAndMetrics(w, r, RCODE.SERVFAIL, received);
    } catch {
      // nothing more can be done for this query
    }
  }

  /** A reply the server builds itself (no zone, wrong class, ...), reported with zone `dropped`. */
  private errorAndMetrics(w: ResponseWriter, r: Msg, rc: number, received: number): void {
    const state = new Request(r, w);
    const m = newRcodeReply(r, rc);
    state.sizeAndDo(m);
    report(this.addr, state, DROPPED, '', rcodeToString(rc), '', messageLenSafe(m), received);
    w.writeMsg(m);
  }

  /** Header-level rejection (FORMERR/NOTIMP): echo the header, no OPT, no plugins, no metrics. */
  private reject(raw: Buffer, w: ConnWriter, questions: Msg['questions'], rc: number): void {
    const bits = (raw[2]! << 8) | raw[3]!;
    let flags = bits & 0x7fff;
    flags &= ~(0x0400 | 0x0040 | 0xf); // AA and Z cleared, rcode replaced
    if (rc === RCODE.FORMERR) flags &= ~(0xf << 11); // opcode QUERY
    flags |= rc;
    const m: Msg = {
      id: (raw[0]! << 8) | raw[1]!,
      type: 'response',
      flags,
      questions: questions.slice(),
      answers: [],
      authorities: [],
      additionals: [],
    };
    try {
      w.send(m, false);
    } catch {
      // an unencodable echo: nothing to answer
    }
  }

  /** The number of zones served (for banners). */
  zoneNames(): string[] {
    return [...this.zones.keys()].sort();
  }
}

function passFilters(b: BlockConfig, ctx: Context, state: Request): boolean {
  for (const f of b.filters) if (!f(ctx, state)) return false;
  return true;
}

/** Offset of the next label in a presentation name, or -1 at the end (CoreDNS's dns.NextLabel). */
function nextLabel(s: string, off: number): number {
  for (let i = off; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      i++;
      continue;
    }
    if (c === 0x2e) return i + 1;
  }
  return -1;
}

function messageLenSafe(m: Msg): number {
  try {
    return messageLen(m, false);
  } catch {
    return 0;
  }
}

/** For metrics and tests: the opcode of a message. */
export { opcodeOf, classCode };
