/**
 * Building queries for tests: a `Msg` with one question and optional EDNS0,
 * the same shape a real client (dig, a stub resolver) sends.
 */
import {
  CHECKING_DISABLED,
  DNSSEC_OK,
  RECURSION_DESIRED,
  encodeMessage,
  fqdnOf,
  type EdnsOption,
  type Msg,
  type OptRecord,
} from '@tsdns/core';

export interface QueryOptions {
  /** Message ID (default: random). */
  id?: number;
  /** Question class (default `IN`). */
  class?: string;
  /** RD bit (default true, as dig and stub resolvers set it). */
  rd?: boolean;
  /** CD bit (default false). */
  cd?: boolean;
  /** Opcode (default 0 = QUERY). */
  opcode?: number;
  /**
   * Adds an OPT record: `true` for dig's defaults (size 1232, no options), or the
   * fields to use. Default: no EDNS0 (unless `do` or `bufsize` is given).
   */
  edns?: boolean | EdnsOptions;
  /** Sets the DO bit (implies EDNS0). */
  do?: boolean;
  /** EDNS0 UDP payload size (implies EDNS0). */
  bufsize?: number;
}

export interface EdnsOptions {
  /** Advertised UDP payload size (default 1232). */
  udpPayloadSize?: number;
  /** EDNS version (default 0). */
  version?: number;
  /** DO bit. */
  do?: boolean;
  /** Raw 16-bit flags (overrides `do`). */
  flags?: number;
  extendedRcode?: number;
  options?: EdnsOption[];
}

/** A random 16-bit message ID. */
export function randomId(): number {
  return Math.floor(Math.random() * 0x10000);
}

/** An OPT pseudo-record. */
export function makeOpt(o: EdnsOptions = {}): OptRecord {
  return {
    name: '.',
    type: 'OPT',
    udpPayloadSize: o.udpPayloadSize ?? 1232,
    extendedRcode: o.extendedRcode ?? 0,
    ednsVersion: o.version ?? 0,
    flags: o.flags ?? (o.do ? DNSSEC_OK : 0),
    options: o.options ?? [],
  };
}

/**
 * A query for `name` (made fully qualified, case kept) and `type`
 * (a mnemonic such as `A`, `SRV`, `TYPE65280`).
 */
export function makeQuery(name: string, type = 'A', opts: QueryOptions = {}): Msg {
  let flags = ((opts.opcode ?? 0) & 0xf) << 11;
  if (opts.rd ?? true) flags |= RECURSION_DESIRED;
  if (opts.cd) flags |= CHECKING_DISABLED;
  const m: Msg = {
    id: opts.id ?? randomId(),
    type: 'query',
    flags,
    questions: [{ name: fqdnOf(name), type, class: opts.class ?? 'IN' }],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let edns: EdnsOptions | undefined;
  if (opts.edns === true) edns = {};
  else if (opts.edns && typeof opts.edns === 'object') edns = { ...opts.edns };
  if (opts.do !== undefined || opts.bufsize !== undefined) {
    edns ??= {};
    if (opts.do !== undefined) edns.do = opts.do;
    if (opts.bufsize !== undefined) edns.udpPayloadSize = opts.bufsize;
  }
  if (edns) m.additionals.push(makeOpt(edns));
  return m;
}

/**
 * A query as miekg's `SetQuestion` makes it, the way CoreDNS's plugin tests
 * build theirs: RD set, id 29008 unless given; `flags` replaces the header
 * flags, `qclass` the class.
 */
export function setQuestion(name: string, type = 'A', opts: { id?: number; qclass?: string; flags?: number } = {}): Msg {
  const q = makeQuery(name, type, { id: opts.id ?? 29008, ...(opts.qclass ? { class: opts.qclass } : {}) });
  if (opts.flags !== undefined) q.flags = opts.flags;
  return q;
}

/** Wire bytes of a query (uncompressed, as clients send them). */
export function packQuery(name: string, type = 'A', opts: QueryOptions = {}): Buffer {
  return encodeMessage(makeQuery(name, type, opts));
}
