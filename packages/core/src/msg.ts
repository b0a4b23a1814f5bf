/**
 * Helpers on messages, mirroring what CoreDNS plugins do with miekg/dns
 * (`SetReply`, `SetRcode`, `IsEdns0`, flag bits).
 */
import {
  AUTHORITATIVE_ANSWER,
  CHECKING_DISABLED,
  DNSSEC_OK,
  RECURSION_DESIRED,
  TRUNCATED_RESPONSE,
} from './wire/constants.js';
import { type DnsRecord, type Msg, type OptRecord, type RR, isOpt } from './wire/message.js';

/** Opcode (0 QUERY, 4 NOTIFY, 5 UPDATE, ...). */
export function opcodeOf(m: Msg): number {
  return (m.flags >> 11) & 0xf;
}

/** The last OPT record of the additional section (CoreDNS's `IsEdns0`). */
export function getOpt(m: Msg): OptRecord | undefined {
  const add = m.additionals;
  for (let i = add.length - 1; i >= 0; i--) {
    const r = add[i]!;
    if (r.type === 'OPT') return r as OptRecord;
  }
  return undefined;
}

/** Full rcode: header nibble plus the OPT's extended bits. */
export function rcodeOf(m: Msg): number {
  const opt = getOpt(m);
  return (m.flags & 0xf) | (opt ? (opt.extendedRcode & 0xff) << 4 : 0);
}

/**
 * Sets the rcode. Rcodes above 15 need an OPT record (as in CoreDNS); one is
 * added if missing.
 */
export function setRcode(m: Msg, rcode: number): void {
  m.flags = (m.flags & ~0xf) | (rcode & 0xf);
  let opt = getOpt(m);
  if (rcode > 0xf && !opt) {
    opt = newOpt(0);
    m.additionals.push(opt);
  }
  if (opt) opt.extendedRcode = (rcode >> 4) & 0xff;
}

export function hasFlag(m: Msg, bit: number): boolean {
  return (m.flags & bit) !== 0;
}

export function setFlag(m: Msg, bit: number, on = true): void {
  m.flags = on ? m.flags | bit : m.flags & ~bit;
}

/** A new OPT record (name `.`, version 0). */
export function newOpt(udpPayloadSize: number, doBit = false): OptRecord {
  return { name: '.', type: 'OPT', udpPayloadSize, extendedRcode: 0, ednsVersion: 0, flags: doBit ? DNSSEC_OK : 0, options: [] };
}

/**
 * CoreDNS's `SetReply`: same ID, QR set, opcode copied, RD and CD copied for
 * QUERY, rcode NOERROR, the first question, empty sections.
 */
export function newReply(req: Msg): Msg {
  const opcode = opcodeOf(req);
  let flags = opcode << 11;
  if (opcode === 0) flags |= req.flags & (RECURSION_DESIRED | CHECKING_DISABLED);
  const q = req.questions[0];
  return {
    id: req.id,
    type: 'response',
    flags,
    questions: q ? [q] : [],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/** CoreDNS's `SetRcode(req, rcode)`: a reply to `req` with that rcode. */
export function newRcodeReply(req: Msg, rcode: number): Msg {
  const m = newReply(req);
  setRcode(m, rcode);
  return m;
}

/** True when the message has the AA bit. */
export function isAuthoritative(m: Msg): boolean {
  return (m.flags & AUTHORITATIVE_ANSWER) !== 0;
}

/** True when the message has the TC bit. */
export function isTruncated(m: Msg): boolean {
  return (m.flags & TRUNCATED_RESPONSE) !== 0;
}

/** The DO bit of the message's OPT record. */
export function doBit(m: Msg): boolean {
  const o = getOpt(m);
  return o !== undefined && (o.flags & DNSSEC_OK) !== 0;
}

/** Records of a section without OPT pseudo-records. */
export function records(section: DnsRecord[]): RR[] {
  const out: RR[] = [];
  for (const r of section) if (!isOpt(r)) out.push(r);
  return out;
}

/** A shallow copy of a message with copied section arrays (records shared). */
export function copyMsg(m: Msg): Msg {
  return {
    id: m.id,
    type: m.type,
    flags: m.flags,
    questions: m.questions.slice(),
    answers: m.answers.slice(),
    authorities: m.authorities.slice(),
    additionals: m.additionals.slice(),
  };
}
