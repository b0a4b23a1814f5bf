/**
 * The file handler (CoreDNS plugin/file file.go): finds the zone for the
 * query, looks the name up and writes an authoritative answer.
 */
import {
  AUTHORITATIVE_ANSWER,
  RCODE,
  Request,
  isPromise,
  newReply,
  nextOrFailure,
  opcodeOf,
  pluginLogger,
  setRcode,
  zonesMatch,
  type Context,
  type Handler,
  type Msg,
  type ResponseWriter,
} from '@tsdns/core';
import { Lookup, Result, type LookupResult } from './lookup.js';
import type { Zone } from './zone.js';

const log = pluginLogger('file');

const T_IXFR = 251;
const T_AXFR = 252;
const OPCODE_NOTIFY = 4;

/** The zones of one server block's `file` directives, by origin. */
export interface Zones {
  /** Zone data by origin. */
  z: Map<string, Zone>;
  /** Origins in Corefile order (what queries are matched against). */
  names: string[];
}

export class File implements Handler {
  readonly name = 'file';
  readonly next: Handler | undefined;
  readonly zones: Zones;
  /** Zones for which a miss (NXDOMAIN, or no answer) goes to the next plugin; [] = never. */
  readonly fall: readonly string[];
  private readonly lookups = new Map<Zone, Lookup>();

  constructor(next: Handler | undefined, zones: Zones, fall: readonly string[] = []) {
    this.next = next;
    this.zones = zones;
    this.fall = fall;
    for (const z of zones.z.values()) this.lookups.set(z, new Lookup(z));
  }

  private fallThrough(qname: string): boolean {
    return this.fall.length > 0 && zonesMatch(this.fall, qname) !== '';
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const state = new Request(r, w);
    const qname = state.name();
    const zone = zonesMatch(this.zones.names, qname);
    if (zone === '') {
      // file is authoritative: with nothing after it, a name it does not serve is REFUSED
      if (this.next === undefined) return RCODE.REFUSED;
      return nextOrFailure(this.name, this.next, ctx, w, r);
    }
    const z = this.zones.z.get(zone);
    if (z === undefined) return RCODE.SERVFAIL;

    const qtype = state.qtype();
    if (qtype === T_AXFR || qtype === T_IXFR) return RCODE.REFUSED;

    if (opcodeOf(r) === OPCODE_NOTIFY) {
      // only secondaries act on NOTIFY; a file zone drops it (and writes nothing)
      log.info(`Dropping notify from ${state.ip()} for ${zone}`);
      return RCODE.NOERROR;
    }

    let lk = this.lookups.get(z);
    if (!lk) {
      lk = new Lookup(z);
      this.lookups.set(z, lk);
    }
    const out = lk.lookup(ctx, state, qname);
    if (isPromise(out)) return out.then((x) => this.write(ctx, w, r, qname, x));
    return this.write(ctx, w, r, qname, out);
  }

  private write(ctx: Context, w: ResponseWriter, r: Msg, qname: string, x: LookupResult): number | Promise<number> {
    const { answer, ns, extra, result } = x;
    if (answer.length === 0 && (result === Result.NameError || result === Result.Success) && this.fallThrough(qname)) {
      return nextOrFailure(this.name, this.next, ctx, w, r);
    }
    const m = newReply(r);
    m.flags |= AUTHORITATIVE_ANSWER;
    m.answers = answer.slice();
    m.authorities = ns.slice();
    m.additionals = extra.slice();
    switch (result) {
      case Result.NameError:
        setRcode(m, RCODE.NXDOMAIN);
        break;
      case Result.Delegation:
        // a referral is not authoritative; a partial answer with an alias keeps AA
        if (m.answers.length === 0) m.flags &= ~AUTHORITATIVE_ANSWER;
        break;
      case Result.ServerFailure:
        // with an answer, the SERVFAIL came from resolving a CNAME target: send the CNAME
        if (m.answers.length === 0) return RCODE.SERVFAIL;
        setRcode(m, RCODE.SERVFAIL);
        break;
    }
    w.writeMsg(m);
    return RCODE.NOERROR;
  }
}
