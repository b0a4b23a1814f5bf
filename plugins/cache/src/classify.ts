/**
 * What the cache decides from a response: its type (CoreDNS's Typify, with
 * the cache's NODATA reclassification), whether it answers its question,
 * whether it is cacheable at all, and its minimal TTL.
 */
import {
  classCode,
  factsOfMsg,
  isOpt,
  lowerName,
  rcodeOf,
  ResponseType,
  typeCode,
  typifyFacts,
  type DnsRecord,
  type Msg,
  type RR,
} from '@tsdns/core';

const TYPE_CNAME = 5;
const TYPE_ANY = 255;
const CLASS_ANY = 255;

/** Seconds: CoreDNS's dnsutil.MinimalDefaultTTL. */
export const MINIMAL_DEFAULT_TTL = 5;
/** Seconds: CoreDNS's dnsutil.MaximumDefaultTTL. */
export const MAXIMUM_DEFAULT_TTL = 3600;

/** True when the authority section has an SOA record. */
export function hasSOA(m: Msg): boolean {
  for (const r of m.authorities) if (r.type === 'SOA') return true;
  return false;
}

function rrClass(r: RR): number {
  return r.class === undefined ? 1 : (classCode(r.class) ?? -1);
}

function classMatches(rrc: number, qclass: number): boolean {
  return qclass === CLASS_ANY || rrc === qclass;
}

function nameEq(a: string, b: string): boolean {
  return a === b || (a.length === b.length && lowerName(a) === lowerName(b));
}

function isCname(r: DnsRecord): r is RR {
  return !isOpt(r) && (r.type === 'CNAME' || typeCode(r.type) === TYPE_CNAME);
}

/**
 * The canonical name `owner` is aliased to by a CNAME in `answer` ('' when
 * none); undefined when `owner` has more than one distinct CNAME target.
 */
function uniqueCnameTarget(answer: readonly DnsRecord[], owner: string, qclass: number): string | undefined {
  let target = '';
  for (const r of answer) {
    if (!isCname(r) || !classMatches(rrClass(r), qclass) || !nameEq(r.name, owner)) continue;
    const t = typeof r.data === 'string' ? r.data : '';
    if (target !== '' && !nameEq(target, t)) return undefined;
    target = t;
  }
  return target;
}

/** Follows the CNAME chain from `name`; undefined for a loop or an ambiguous alias. */
function canonicalName(answer: readonly DnsRecord[], name: string, qclass: number): string | undefined {
  const visited = new Set<string>();
  for (;;) {
    const key = lowerName(name);
    if (visited.has(key)) return undefined;
    visited.add(key);
    const target = uniqueCnameTarget(answer, name, qclass);
    if (target === undefined) return undefined;
    if (target === '') return name;
    name = target;
  }
}

function answerHasType(answer: readonly DnsRecord[], name: string, qtype: number, qclass: number): boolean {
  if (answer.length === 0) return false;
  if (qtype === TYPE_ANY) {
    for (const r of answer) {
      if (isOpt(r)) continue;
      if (classMatches(rrClass(r), qclass) && nameEq(r.name, name)) return true;
    }
    return false;
  }
  if (qtype === TYPE_CNAME) {
    const target = uniqueCnameTarget(answer, name, qclass);
    return target !== undefined && target !== '';
  }
  const terminal = canonicalName(answer, name, qclass);
  if (terminal === undefined) return false;
  for (const r of answer) {
    if (isOpt(r)) continue;
    if (typeCode(r.type) === qtype && classMatches(rrClass(r), qclass) && nameEq(r.name, terminal)) return true;
  }
  return false;
}

/** CoreDNS's answersQuestion: a NOERROR response whose answer reaches the queried type along the CNAME chain. */
export function answersQuestion(m: Msg): boolean {
  const q = m.questions[0];
  if (q === undefined || m.answers.length === 0 || rcodeOf(m) !== 0) return false;
  return answerHasType(m.answers, q.name, typeCode(q.type) ?? 0, classCode(q.class) ?? 0);
}

/** CoreDNS's isNODATA: a non-empty answer that does not answer the question. */
export function isNODATA(m: Msg): boolean {
  if (m.answers.length === 0) return false;
  return !answersQuestion(m);
}

/**
 * CoreDNS's cacheResponseType: Typify, with a NOERROR response that carries an
 * SOA and does not answer its question counted as NODATA. `nowMs` is wall
 * clock time (RRSIG validity).
 */
export function cacheResponseType(m: Msg, nowMs: number, rcode: number = rcodeOf(m)): ResponseType {
  const t = typifyFacts(factsOfMsg(m, rcode), Math.floor(nowMs / 1000));
  if (t === ResponseType.NoError && hasSOA(m) && isNODATA(m)) return ResponseType.NoData;
  return t;
}

/** CoreDNS's usableAnswer: a complete NOERROR response that answers its question. */
export function usableAnswer(m: Msg, nowMs: number): boolean {
  if ((m.flags & 0x0200) !== 0 || cacheResponseType(m, nowMs) !== ResponseType.NoError) return false;
  return answersQuestion(m);
}

/**
 * CoreDNS's `key()` gate: whether a response of type `t` may be cached at all
 * (not truncated, not an error/meta/update, a denial carries an SOA, a
 * NOERROR answer that does not answer the question carries an SOA).
 */
export function cacheable(m: Msg, t: ResponseType): boolean {
  if ((m.flags & 0x0200) !== 0) return false;
  if (t === ResponseType.OtherError || t === ResponseType.Meta || t === ResponseType.Update) return false;
  if (t === ResponseType.NameError && !hasSOA(m)) return false;
  if (t === ResponseType.NoError && !hasSOA(m) && isNODATA(m)) return false;
  return true;
}

function ttlOf(r: DnsRecord): number {
  if (isOpt(r)) return (((r.extendedRcode & 0xff) << 24) | ((r.ednsVersion & 0xff) << 16) | (r.flags & 0xffff)) >>> 0;
  return (r.ttl ?? 0) >>> 0;
}

/**
 * CoreDNS's dnsutil.MinimalTTLWithMaximum, in whole seconds: 5 for anything
 * but NOERROR/NXDOMAIN/NODATA and for messages without records; else the
 * lowest TTL of the answer, authority and additional records (OPT excluded
 * from the additional section), starting from `maxSeconds`.
 */
export function minimalTTL(m: Msg, t: ResponseType, maxSeconds: number): number {
  if (t !== ResponseType.NoError && t !== ResponseType.NameError && t !== ResponseType.NoData) return MINIMAL_DEFAULT_TTL;
  const extra = m.additionals;
  if (m.answers.length + m.authorities.length === 0 && (extra.length === 0 || (extra.length === 1 && isOpt(extra[0]!)))) {
    return MINIMAL_DEFAULT_TTL;
  }
  let min = maxSeconds;
  for (const r of m.answers) {
    const ttl = ttlOf(r);
    if (ttl < min) min = ttl;
  }
  for (const r of m.authorities) {
    const ttl = ttlOf(r);
    if (ttl < min) min = ttl;
  }
  for (const r of extra) {
    if (isOpt(r)) continue;
    const ttl = ttlOf(r);
    if (ttl < min) min = ttl;
  }
  return min;
}

/**
 * CoreDNS's request.Match: the reply has exactly one question, QR set, and
 * the question's name (case-insensitively), type and class are the request's.
 */
export function matchesRequest(m: Msg, name: string, qtype: number, qclass: number): boolean {
  if (m.questions.length !== 1 || m.type !== 'response') return false;
  const q = m.questions[0]!;
  return lowerName(q.name) === name && typeCode(q.type) === qtype && classCode(q.class) === qclass;
}
