/**
 * Request: the query plus the writer it arrived on, with the helpers CoreDNS
 * plugins use (`request.Request`): names, types, client address, EDNS size and
 * DO bit, and the scrub that makes a reply fit the client.
 */
import { classToPresentation, DNSSEC_OK, EDNS, typeToString } from './wire/constants.js';
import { lowerName } from './wire/name.js';
import { messageLen, truncateMessage, type EdnsOption, type Msg, type OptRecord } from './wire/message.js';
import { classCode, typeCode } from './wire/constants.js';
import { getOpt } from './msg.js';
import type { ResponseWriter } from './writer.js';

/** EDNS0 options echoed back to clients besides the built-in ones (plugins add to it). */
const supportedOptions = new Set<number>();

/** Lets the server echo an EDNS0 option code back to clients (CoreDNS's `edns.SetSupportedOption`). */
export function setSupportedOption(code: number): void {
  supportedOptions.add(code);
}

function optionSupported(code: number): boolean {
  return (
    code === EDNS.NSID || code === EDNS.EXPIRE || code === EDNS.COOKIE || code === EDNS.TCP_KEEPALIVE || code === EDNS.PADDING || supportedOptions.has(code)
  );
}

/** Option as CoreDNS re-packs it when echoing (EXPIRE keeps 4 bytes; KEEPALIVE 0 is empty). */
function repack(o: EdnsOption): EdnsOption {
  if (o.code === EDNS.EXPIRE && o.data.length > 4) return { code: o.code, data: o.data.subarray(0, 4) };
  if (o.code === EDNS.TCP_KEEPALIVE && o.data.length === 2 && o.data[0] === 0 && o.data[1] === 0) return { code: o.code, data: new Uint8Array(0) };
  return o;
}

export class Request {
  readonly req: Msg;
  readonly w: ResponseWriter;
  private _name: string | undefined;
  private _size = 0;

  constructor(req: Msg, w: ResponseWriter) {
    this.req = req;
    this.w = w;
  }

  /** The question name as sent (case preserved); `.` without a question. */
  qname(): string {
    return this.req.questions[0]?.name ?? '.';
  }

  /** The question name lower-cased (CoreDNS's `state.Name()`); `.` without a question. */
  name(): string {
    return (this._name ??= lowerName(this.qname()));
  }

  /** Question type code (0 without a question). */
  qtype(): number {
    const q = this.req.questions[0];
    return q ? (typeCode(q.type) ?? 0) : 0;
  }

  /** Question type mnemonic (`A`, `TYPE65280`); '' without a question. */
  type(): string {
    return this.req.questions.length === 0 ? '' : typeToString(this.qtype());
  }

  /** Question class code (0 without a question). */
  qclass(): number {
    const q = this.req.questions[0];
    return q ? (classCode(q.class) ?? 0) : 0;
  }

  /** Question class mnemonic as CoreDNS prints it (`IN`, `CH`, `CLASS255`); '' without a question. */
  class(): string {
    return this.req.questions.length === 0 ? '' : classToPresentation(this.qclass());
  }

  /** Client IP. */
  ip(): string {
    return this.w.remote.address;
  }

  /** Client port as a string. */
  port(): string {
    return String(this.w.remote.port);
  }

  /** The server's IP the query arrived on. */
  localIp(): string {
    return this.w.local.address;
  }

  localPort(): string {
    return String(this.w.local.port);
  }

  /** `udp` or `tcp`. */
  proto(): 'udp' | 'tcp' {
    return this.w.proto;
  }

  /** 1 for IPv4 clients (incl. IPv4-mapped), 2 for IPv6. */
  family(): 1 | 2 {
    return this.w.remote.family === 6 ? 2 : 1;
  }

  /** The DO bit. */
  do(): boolean {
    const o = getOpt(this.req);
    return o !== undefined && (o.flags & DNSSEC_OK) !== 0;
  }

  /** Reply size limit: 65535 for TCP; EDNS buffer size (at least 512) or 512 for UDP. */
  size(): number {
    if (this._size !== 0) return this._size;
    let size = 0;
    const o = getOpt(this.req);
    if (o) size = o.udpPayloadSize;
    if (this.w.proto === 'tcp') size = 65535;
    else if (size < 512) size = 512;
    this._size = size;
    return size;
  }

  /** Uncompressed wire length of the request (CoreDNS's `Len()`). */
  len(): number {
    return messageLen(this.req, false);
  }

  /**
   * CoreDNS's SizeAndDo: if the request had an OPT, make the reply carry one
   * with the client's buffer size and DO bit — the reply's own OPT normalised,
   * or else the request's OPT (its options filtered to the supported ones).
   * Returns false when the request had no OPT.
   */
  sizeAndDo(m: Msg): boolean {
    const o = getOpt(this.req);
    if (!o) return false;
    const mo = getOpt(m);
    if (mo) {
      mo.name = '.';
      mo.ednsVersion = 0;
      mo.udpPayloadSize = o.udpPayloadSize;
      mo.flags &= 0xff00;
      if (o.flags & DNSSEC_OK) mo.flags |= DNSSEC_OK;
      return true;
    }
    normaliseRequestOpt(o);
    m.additionals.push(o);
    return true;
  }

  /**
   * CoreDNS's Scrub: truncate to the client's size; returns whether the reply
   * must be sent compressed (it was truncated, or it is a large UDP reply).
   */
  scrub(m: Msg): boolean {
    return this.scrubLen(m, messageLen(m, false));
  }

  /** `scrub` of a message whose uncompressed length (`messageLen(m, false)`) is already known. */
  scrubLen(m: Msg, rl: number): boolean {
    if (truncateMessage(m, this.size(), rl)) return true;
    if (this.w.proto === 'udp') {
      if (rl > 1480 && this.family() === 1) return true;
      if (rl > 1220 && this.family() === 2) return true;
    }
    return false;
  }
}

/** The request's OPT, as CoreDNS reuses it for the reply (mutated in place, as CoreDNS does). */
function normaliseRequestOpt(o: OptRecord): void {
  o.name = '.';
  o.ednsVersion = 0;
  o.extendedRcode = 0;
  o.flags &= 0xff00;
  if (o.options.length > 0) {
    const kept: EdnsOption[] = [];
    for (const opt of o.options) if (optionSupported(opt.code)) kept.push(repack(opt));
    o.options = kept;
  }
}
