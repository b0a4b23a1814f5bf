import {
  AUTHORITATIVE_ANSWER,
  CHECKING_DISABLED,
  RECURSION_DESIRED,
  classCode,
  ipv6Bytes,
  newReply,
  optWireLength,
  plainNameLength,
  requestOptEcho,
  scrubRequest,
  sentUnchanged,
  typeCode,
  writeOptRecord,
  writePlainName,
  type Address,
  type Context,
  type Handler,
  type Msg,
  type Request,
  type ResponseWriter,
  type RR,
} from '@tsdns/core';

/**
 * Answers every query with the client's address (A or AAAA) and an SRV
 * record carrying the client's port and transport, in the additional section.
 */
export class Whoami implements Handler {
  readonly name = 'whoami';

  ServeDNS(_ctx: Context, w: ResponseWriter, r: Msg): number {
    // The reply as bytes when they reach the server's scrub unchanged; the
    // message below otherwise (and for any name or address the byte writer
    // does not take): both give the client the same bytes.
    const state = scrubRequest(w);
    if (state !== undefined && writeWire(w, r, state)) return 0;
    const q = r.questions[0]!;
    const a = newReply(r);
    a.flags |= AUTHORITATIVE_ANSWER;
    const remote = w.remote;
    const addr: RR =
      remote.family === 4
        ? { name: q.name, type: 'A', class: q.class, ttl: 0, data: remote.address }
        : { name: q.name, type: 'AAAA', class: q.class, ttl: 0, data: remote.address };
    const srv: RR = {
      name: q.name === '.' ? `_${w.proto}.` : `_${w.proto}.${q.name}`,
      type: 'SRV',
      class: q.class,
      ttl: 0,
      data: { priority: 0, weight: 0, port: remote.port, target: '.' },
    };
    a.additionals.push(addr, srv);
    w.writeMsg(a);
    return 0;
  }
}

/**
 * Writes the reply as the bytes the message above encodes to after the
 * server's scrub (uncompressed: the reply is sent as is when it fits), with
 * the request's OPT echoed. False, having written nothing, when it cannot be
 * sure of that: names the encoder does not write byte for byte, an address
 * it does not parse, a reply the scrub would truncate or compress.
 */
function writeWire(w: ResponseWriter, r: Msg, state: Request): boolean {
  const q = r.questions[0];
  // DoH decodes raw replies to re-encode them: a message is quicker there
  if (q === undefined || w.transport === 'https') return false;
  const nameLen = plainNameLength(q.name);
  // the SRV owner is the name with a 4-character label in front
  if (nameLen < 0 || q.name.length + 5 > 254) return false;
  const type = typeCode(q.type);
  const klass = classCode(q.class);
  if (type === undefined || klass === undefined) return false;
  const remote = w.remote;
  const ip = addressBytes(remote);
  if (ip === undefined) return false;
  const proto = w.proto;
  // header, question, A/AAAA, SRV (`_udp` + name; priority, weight, port, target `.`)
  const len = 12 + (nameLen + 4) + (nameLen + 10 + ip.length) + (nameLen + 5 + 10 + 7);
  const opt = requestOptEcho(state);
  const total = opt === undefined ? len : len + optWireLength(opt);
  if (!sentUnchanged(state, total)) return false;

  const b = Buffer.allocUnsafe(total);
  const opcode = (r.flags >> 11) & 0xf;
  let flags = 0x8000 | (opcode << 11) | AUTHORITATIVE_ANSWER;
  if (opcode === 0) flags |= r.flags & (RECURSION_DESIRED | CHECKING_DISABLED);
  b[0] = (r.id >>> 8) & 0xff;
  b[1] = r.id & 0xff;
  b[2] = flags >>> 8;
  b[3] = flags & 0xff;
  b[4] = 0;
  b[5] = 1;
  b[6] = 0;
  b[7] = 0;
  b[8] = 0;
  b[9] = 0;
  b[10] = 0;
  b[11] = opt === undefined ? 2 : 3;
  let o = writePlainName(b, 12, q.name);
  o = typeClass(b, o, type, klass);
  // the address record (the name once more: copied from the question)
  o = copyName(b, o, nameLen);
  o = typeClass(b, o, ip.length === 4 ? 1 : 28, klass);
  o = ttlZero(b, o);
  b[o] = 0;
  b[o + 1] = ip.length;
  b.set(ip, o + 2);
  o += 2 + ip.length;
  // the SRV record
  b[o] = 4;
  b[o + 1] = 0x5f; // _
  b[o + 2] = proto.charCodeAt(0);
  b[o + 3] = proto.charCodeAt(1);
  b[o + 4] = proto.charCodeAt(2);
  o = copyName(b, o + 5, nameLen);
  o = typeClass(b, o, 33, klass);
  o = ttlZero(b, o);
  const port = remote.port & 0xffff;
  b[o] = 0;
  b[o + 1] = 7;
  b[o + 2] = 0;
  b[o + 3] = 0;
  b[o + 4] = 0;
  b[o + 5] = 0;
  b[o + 6] = port >>> 8;
  b[o + 7] = port & 0xff;
  b[o + 8] = 0;
  o += 9;
  if (opt !== undefined) o = writeOptRecord(b, o, opt);
  if (o !== total) return false; // cannot happen: the lengths above are the layout
  // `len`: what recorders count for the message, before the scrub's OPT echo
  w.write(b, len);
  return true;
}

/** Copies the question's name (at offset 12, `n` octets) to `o`; returns the offset after it. */
function copyName(b: Buffer, o: number, n: number): number {
  for (let i = 0; i < n; i++) b[o + i] = b[12 + i]!;
  return o + n;
}

function typeClass(b: Buffer, o: number, type: number, klass: number): number {
  b[o] = type >>> 8;
  b[o + 1] = type & 0xff;
  b[o + 2] = klass >>> 8;
  b[o + 3] = klass & 0xff;
  return o + 4;
}

function ttlZero(b: Buffer, o: number): number {
  b[o] = 0;
  b[o + 1] = 0;
  b[o + 2] = 0;
  b[o + 3] = 0;
  return o + 4;
}

const v4 = new Uint8Array(4);

/**
 * The client's address as A (4 bytes, in a buffer reused by the next call) or
 * AAAA (16 bytes) data, as the encoder writes it; undefined if unsure.
 */
function addressBytes(a: Address): Uint8Array | undefined {
  const s = a.address;
  if (a.family === 6) {
    try {
      return ipv6Bytes(s);
    } catch {
      return undefined;
    }
  }
  const out = v4;
  let v = -1;
  let part = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && v === 0) return undefined;
      v = v < 0 ? c - 48 : v * 10 + (c - 48);
      if (v > 255 || ++digits > 3) return undefined;
    } else if (c === 46 && v >= 0 && part < 3) {
      out[part++] = v;
      v = -1;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (part !== 3 || v < 0) return undefined;
  out[3] = v;
  return out;
}
