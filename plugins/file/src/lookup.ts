/**
 * The lookup algorithm of CoreDNS's file plugin (lookup.go): walk the name
 * from the apex down looking for delegations and DNAMEs, then answer the
 * name itself (chasing CNAMEs), a wildcard, or NXDOMAIN/NODATA; additional
 * A/AAAA for MX/SRV/SVCB/HTTPS targets in the zone; CNAME targets outside
 * the zone resolved through the server itself.
 */
import {
  RCODE,
  isSubDomain,
  lookupSelf,
  lowerName,
  nextLabel,
  rcodeOf,
  records,
  typeToString,
  unpackName,
  type Context,
  type MxData,
  type RR,
  type Request,
  type SrvData,
} from '@tsdns/core';
import { replaceWithAsteriskLabel, substituteDNAME, canonicalName } from './names.js';
import type { Elem, Tree } from './tree.js';
import type { Apex, Zone } from './zone.js';

export const Result = {
  Success: 0,
  NameError: 1,
  Delegation: 2,
  NoData: 3,
  ServerFailure: 4,
} as const;
export type Result = (typeof Result)[keyof typeof Result];

export interface LookupResult {
  answer: RR[];
  ns: RR[];
  extra: RR[];
  result: Result;
}

const T_NS = 2;
const T_CNAME = 5;
const T_SOA = 6;
const T_DNAME = 39;
const T_DS = 43;

/** Nested lookups allowed before a CNAME/DNAME chain through the server counts as a loop. */
const MAX_LOOP = 8;

function res(answer: RR[], ns: RR[], extra: RR[], result: Result): LookupResult {
  return { answer, ns, extra, result };
}

function soaOf(ap: Apex): RR[] {
  return ap.soa ? [ap.soa] : [];
}

/** A synthesized CNAME for `qname` under a DNAME (owner = qname, TTL of the DNAME), or undefined. */
export function synthesizeCNAME(qname: string, dname: RR): RR | undefined {
  const target = substituteDNAME(qname, dname.name, dname.data as string);
  if (target === '') return undefined;
  return { name: qname, type: 'CNAME', class: 'IN', ttl: dname.ttl ?? 0, data: target };
}

function delegationFromElem(tr: Tree, elem: Elem, qname: string, qtype: number): { ns: RR[]; extra: RR[] } | undefined {
  const ns = elem.type(T_NS);
  if (ns === undefined || (qtype === T_DS && elem.name === qname)) return undefined;
  return { ns: ns.slice(), extra: tr.glue(ns) };
}

/** CoreDNS closerENTExists: an empty non-terminal between the wildcard's parent and qname. */
function closerENTExists(tr: Tree, qname: string, wildcardName: string): boolean {
  if (wildcardName.length < 2 || !wildcardName.startsWith('*.')) return false;
  const parent = wildcardName.slice(2);
  let name = qname;
  let r = nextLabel(name, 0);
  while (!r.end) {
    name = name.slice(r.index);
    if (name === parent || !isSubDomain(parent, name)) return false;
    if (tr.hasDescendant(name)) return true;
    r = nextLabel(name, 0);
  }
  return false;
}

/** The target name of an answer record that gets additional-section addresses. */
function additionalTarget(rr: RR): string {
  switch (rr.type) {
    case 'SRV':
      return (rr.data as SrvData).target;
    case 'MX':
      return (rr.data as MxData).exchange;
    case 'SVCB':
    case 'HTTPS':
      if (rr.data instanceof Uint8Array && rr.data.length >= 3) {
        try {
          return unpackName(Buffer.from(rr.data.buffer, rr.data.byteOffset, rr.data.byteLength), 2, { off: 0 });
        } catch {
          return '';
        }
      }
      return '';
    default:
      return '';
  }
}

export class Lookup {
  private readonly z: Zone;
  constructor(z: Zone) {
    this.z = z;
  }

  /** A/AAAA for in-zone MX/SRV/SVCB/HTTPS targets, each target once. */
  additional(tr: Tree, answer: readonly RR[]): RR[] {
    const extra: RR[] = [];
    let seen: Set<string> | undefined;
    for (const rr of answer) {
      const name = additionalTarget(rr);
      if (name === '' || !isSubDomain(this.z.origin, name)) continue;
      const key = lowerName(canonicalName(name));
      if (seen?.has(key)) continue;
      (seen ??= new Set()).add(key);
      const e = tr.search(name);
      if (!e) continue;
      const a = e.type(1);
      if (a) extra.push(...a);
      const aaaa = e.type(28);
      if (aaaa) extra.push(...aaaa);
    }
    return extra;
  }

  /** The first zone cut between the apex and `qname` (CoreDNS findDelegation). */
  private findDelegation(tr: Tree, qname: string, qtype: number, exact: Elem | undefined): { ns: RR[]; extra: RR[] } | undefined {
    for (let i = 1; ; i++) {
      const { name, shot } = this.z.nameFromRight(qname, i);
      if (shot) return undefined;
      if (name === qname) return exact ? delegationFromElem(tr, exact, qname, qtype) : undefined;
      const elem = tr.search(name);
      if (!elem) continue;
      const d = delegationFromElem(tr, elem, qname, qtype);
      if (d) return d;
    }
  }

  /**
   * Looks up `qname` (lower-cased) for the request's qtype. Synchronous unless
   * a CNAME leads out of the zone (then the target is resolved through the server).
   */
  lookup(ctx: Context, state: Request, qname: string): LookupResult | Promise<LookupResult> {
    const z = this.z;
    const qtype = state.qtype();
    const ap = z.apex;
    const tr = z.tree;
    if (!ap.soa) return res([], [], [], Result.ServerFailure);

    if (qname === z.origin) {
      if (qtype === T_SOA) return res([ap.soa], ap.ns.slice(), [], Result.Success);
      if (qtype === T_NS) return res(ap.ns.slice(), [], tr.glue(ap.ns), Result.Success);
    }

    if (ctx.selfLookups > MAX_LOOP) return res([], [], [], Result.ServerFailure);

    let found = false;
    let shot = false;
    let wildName = '';
    let elem: Elem | undefined;
    let wildElem: Elem | undefined;
    for (let i = 0; ; ) {
      const p = z.nameFromRight(qname, i);
      shot = p.shot;
      if (shot) break;
      const parts = p.name;
      elem = tr.search(parts);
      found = elem !== undefined;
      if (!elem) {
        const wildcard = tr.hasWildcards ? replaceWithAsteriskLabel(parts) : '';
        if (wildcard !== '') {
          const wild = tr.search(wildcard);
          if (wild) {
            wildElem = wild;
            wildName = wild.name;
          } else if (tr.hasDescendant(wildcard)) {
            wildElem = undefined;
            wildName = wildcard;
          }
        }
        i++;
        continue;
      }

      const dnamerrs = elem.type(T_DNAME);
      if (dnamerrs) {
        const cname = synthesizeCNAME(state.name(), dnamerrs[0]!);
        if (cname) {
          if (lowerName(canonicalName(cname.name)) === lowerName(canonicalName(cname.data as string))) return res([], [], [], Result.ServerFailure);
          if (qtype === T_CNAME) return res([...dnamerrs, cname], ap.ns.slice(), [], Result.Success);
          const r = this.externalLookup(ctx, state, tr, ap, [cname]);
          const withDname = (x: LookupResult): LookupResult => ({ ...x, answer: [...dnamerrs, ...x.answer] });
          return r instanceof Promise ? r.then(withDname) : withDname(r);
        }
      }

      const d = delegationFromElem(tr, elem, qname, qtype);
      if (d) return res([], d.ns, d.extra, Result.Delegation);
      i++;
    }

    if (found && shot && elem) {
      const cn = elem.type(T_CNAME);
      if (cn && cn.length > 0 && qtype !== T_CNAME) return this.externalLookup(ctx, state, tr, ap, cn.slice());
      const rrs = elem.type(qtype);
      if (!rrs || rrs.length === 0) return res([], soaOf(ap), [], Result.NoData);
      return res(rrs.slice(), ap.ns.slice(), this.additional(tr, rrs), Result.Success);
    }

    if (wildName !== '' && !closerENTExists(tr, qname, wildName)) {
      const we = wildElem;
      if (!we) return res([], soaOf(ap), [], Result.NoData);
      ctx.setMetadata('zone/wildcard', () => we.name);
      const cn = we.typeForWildcard(T_CNAME, qname);
      if (cn && cn.length > 0 && qtype !== T_CNAME) return this.externalLookup(ctx, state, tr, ap, cn);
      const rrs = we.typeForWildcard(qtype, qname);
      if (!rrs || rrs.length === 0) return res([], soaOf(ap), [], Result.NoData);
      return res(rrs, ap.ns.slice(), this.additional(tr, rrs), Result.Success);
    }

    // an empty non-terminal is NODATA, anything else NXDOMAIN
    const rcode = tr.hasDescendant(qname) ? Result.Success : Result.NameError;
    return res([], soaOf(ap), [], rcode);
  }

  /** Follows the CNAME chain in `rrs` inside the zone, and out of it through the server. */
  private externalLookup(ctx: Context, state: Request, tr: Tree, ap: Apex, rrs: RR[]): LookupResult | Promise<LookupResult> {
    const z = this.z;
    const qtype = state.qtype();
    let targetName = rrs[0]!.data as string;
    let elem = tr.search(targetName);
    let d = this.findDelegation(tr, targetName, qtype, elem);
    if (d) return res(rrs, d.ns, d.extra, Result.Delegation);
    if (!elem || qtype === T_NS || (qtype === T_SOA && targetName === z.origin)) return this.upstream(ctx, state, tr, ap, targetName, qtype, rrs);

    for (let i = 0; ; ) {
      const cname = elem.type(T_CNAME);
      if (cname && cname.length > 0) {
        rrs.push(...cname);
        targetName = cname[0]!.data as string;
        elem = tr.search(targetName);
        d = this.findDelegation(tr, targetName, qtype, elem);
        if (d) return res(rrs, d.ns, d.extra, Result.Delegation);
        if (!elem || qtype === T_NS || (qtype === T_SOA && targetName === z.origin)) return this.upstream(ctx, state, tr, ap, targetName, qtype, rrs);
        i++;
        if (i > 8) return res(rrs, ap.ns.slice(), this.additional(tr, rrs), Result.Success);
        continue;
      }
      const targets = elem.type(qtype);
      if (targets && targets.length > 0) rrs.push(...targets);
      return res(rrs, ap.ns.slice(), this.additional(tr, rrs), Result.Success);
    }
  }

  /** Resolves a CNAME target through the server (CoreDNS doLookup with the upstream package). */
  private async upstream(ctx: Context, state: Request, tr: Tree, ap: Apex, target: string, qtype: number, rrs: RR[]): Promise<LookupResult> {
    let m;
    try {
      m = await lookupSelf(ctx, state, target, typeToString(qtype));
    } catch {
      m = undefined;
    }
    let result: Result;
    let got: RR[] = [];
    if (m === undefined) {
      result = Result.ServerFailure;
    } else {
      const rcode = rcodeOf(m);
      got = records(m.answers);
      if (rcode === RCODE.NXDOMAIN) result = Result.NameError;
      else if (rcode === RCODE.SERVFAIL) result = Result.ServerFailure;
      else if (rcode === RCODE.NOERROR && got.length === 0) result = Result.NoData;
      else result = Result.Success;
    }
    rrs.push(...got);
    const auth = result === Result.NameError || result === Result.NoData ? soaOf(ap) : ap.ns.slice();
    return res(rrs, auth, this.additional(tr, rrs), result);
  }
}
