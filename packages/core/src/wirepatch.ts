/**
 * Answering from wire bytes. A plugin that keeps a reply as bytes (a cache)
 * can send it with `ResponseWriter.write` instead of `writeMsg` — skipping the
 * codec — provided the bytes are exactly what the server would have sent for
 * the equivalent message: `writeMsg` passes through the server's scrub (EDNS
 * echo, truncation, compression thresholds), a raw `write` does not. These
 * are the pieces to get that right:
 *
 * - `scrubRequest(w)`: whether raw bytes written to `w` reach the server's
 *   scrub writer unchanged (only through wrappers that treat `write` like
 *   `writeMsg`), and the request the scrub works with;
 * - `packRecords`: records as uncompressed wire bytes plus the offset of every
 *   TTL, to patch per reply;
 * - `plainNameLength`/`writePlainName`: a question name as the encoder writes
 *   it uncompressed;
 * - `requestOptEcho`/`optWireLength`/`writeOptRecord`: the OPT record the scrub
 *   appends to a reply that has none;
 * - `sentUnchanged`: whether the scrub would send a message of that length as
 *   is (no truncation, no compression).
 */
import { Request } from './request.js';
import { ScrubWriter } from './server.js';
import { encodeMessage, messageLen, type DnsRecord, type Msg, type OptRecord } from './wire/message.js';
import { Recorder, WrappedWriter, type ResponseWriter } from './writer.js';

/**
 * Marks a wrapping writer whose `write(bytes)` is equivalent to `writeMsg` of
 * the decoded bytes: it observes both the same way and passes them on
 * unchanged. Set it as an own or prototype property with the value `true`
 * (`readonly [WIRE_TRANSPARENT] = true`). Writers that change messages
 * (shuffling, rewriting, signing) must not carry it.
 */
export const WIRE_TRANSPARENT: unique symbol = Symbol.for('tsdns.wireTransparent');

/**
 * True for writers that pass raw writes on like messages: core's WrappedWriter
 * and Recorder (when they do not override `writeMsg`/`write`) and writers
 * marked with WIRE_TRANSPARENT.
 */
export function isWireTransparent(w: ResponseWriter): boolean {
  if ((w as { [WIRE_TRANSPARENT]?: unknown })[WIRE_TRANSPARENT] === true) return true;
  if (w.writeMsg === Recorder.prototype.writeMsg && w.write === Recorder.prototype.write) return true;
  return w.writeMsg === WrappedWriter.prototype.writeMsg && w.write === WrappedWriter.prototype.write;
}

/**
 * Follows `w` through wire-transparent wrappers to the server's scrub writer
 * and returns the Request the scrub uses (the query as the server received
 * it, and the connection). Undefined when some writer on the way could treat
 * a raw write differently from a message, or when there is no scrub writer:
 * then only `writeMsg` gives the server's bytes.
 */
export function scrubRequest(w: ResponseWriter): Request | undefined {
  let cur: ResponseWriter = w;
  for (let depth = 0; depth < 32; depth++) {
    if (cur instanceof ScrubWriter) {
      if (cur.writeMsg !== ScrubWriter.prototype.writeMsg || cur.write !== WrappedWriter.prototype.write) return undefined;
      // ScrubWriter keeps its Request private; this module is core's own accessor for it
      const state = (cur as unknown as { state: unknown }).state;
      return state instanceof Request ? state : undefined;
    }
    if (!(cur instanceof WrappedWriter) || !isWireTransparent(cur)) return undefined;
    cur = cur.inner;
  }
  return undefined;
}

/** Records as uncompressed wire bytes, ready to be copied into a reply and have their TTLs patched. */
export interface PackedRecords {
  /** The records, uncompressed, in section order (answer, authority, additional). */
  readonly bytes: Uint8Array;
  /** Offset in `bytes` of the 32-bit TTL of every record except OPT records. */
  readonly ttlOffsets: Uint32Array;
  readonly answers: number;
  readonly authorities: number;
  readonly additionals: number;
}

/**
 * Encodes records exactly as `encodeMessage(m, false)` writes them in a
 * message (uncompressed names do not depend on their position), and finds
 * each TTL. Undefined when the records cannot be encoded, or when the length
 * the scrub would compute (`messageLen`) is not the encoded length — a reply
 * assembled from these bytes could then be truncated or compressed
 * differently than its message.
 */
export function packRecords(answers: readonly DnsRecord[], authorities: readonly DnsRecord[], additionals: readonly DnsRecord[]): PackedRecords | undefined {
  const m: Msg = {
    id: 0,
    type: 'response',
    flags: 0,
    questions: [],
    answers: answers as DnsRecord[],
    authorities: authorities as DnsRecord[],
    additionals: additionals as DnsRecord[],
  };
  let wire: Buffer;
  try {
    wire = encodeMessage(m, false);
    if (messageLen(m, false) !== wire.length) return undefined;
  } catch {
    return undefined;
  }
  const n = answers.length + authorities.length + additionals.length;
  const offs = new Uint32Array(n);
  let k = 0;
  let off = 12;
  const end = wire.length;
  for (let i = 0; i < n; i++) {
    for (;;) {
      if (off >= end) return undefined;
      const l = wire[off]!;
      if (l === 0) {
        off++;
        break;
      }
      if (l & 0xc0) return undefined; // no pointers in an uncompressed message
      off += l + 1;
    }
    if (off + 10 > end) return undefined;
    const type = (wire[off]! << 8) | wire[off + 1]!;
    if (type !== 41) offs[k++] = off + 4 - 12;
    off += 10 + ((wire[off + 8]! << 8) | wire[off + 9]!);
  }
  if (off !== end) return undefined;
  // an exact copy: a slice of the encoder's pooled buffer would pin the whole pool slab
  const bytes = new Uint8Array(end - 12);
  bytes.set(wire.subarray(12));
  return {
    bytes,
    ttlOffsets: k === n ? offs : offs.slice(0, k),
    answers: answers.length,
    authorities: authorities.length,
    additionals: additionals.length,
  };
}

/**
 * Wire length of a name made of ASCII characters other than `\` (what the
 * encoder writes byte for byte, and what `messageLen` counts), or -1 for any
 * other name (escapes, non-ASCII, not fully qualified, bad label lengths).
 */
export function plainNameLength(name: string): number {
  const n = name.length;
  if (n === 1 && name.charCodeAt(0) === 0x2e) return 1;
  if (n < 2 || n > 254 || name.charCodeAt(n - 1) !== 0x2e) return -1;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      const l = i - start;
      if (l === 0 || l > 63) return -1;
      start = i + 1;
    } else if (c > 0x7f || c === 0x5c) {
      return -1;
    }
  }
  return n + 1;
}

/** Writes a name accepted by `plainNameLength` at `off`; returns the offset after it. */
export function writePlainName(buf: Uint8Array, off: number, name: string): number {
  const n = name.length;
  if (n === 1) {
    buf[off] = 0;
    return off + 1;
  }
  let lenAt = off;
  let o = off + 1;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      buf[lenAt] = o - lenAt - 1;
      lenAt = o;
      o++;
    } else {
      buf[o++] = c;
    }
  }
  buf[lenAt] = 0;
  return lenAt + 1;
}

const scratch: Msg = { id: 0, type: 'response', flags: 0, questions: [], answers: [], authorities: [], additionals: [] };

/**
 * The OPT record the scrub appends to a reply without one: the request's own
 * OPT, normalised in place exactly as the scrub does it (CoreDNS's SizeAndDo:
 * name `.`, version 0, extended rcode 0, low flag bits cleared, options
 * filtered to the echoed ones). Undefined when the request had no OPT. Doing
 * it ahead of the scrub is harmless: the normalisation is idempotent.
 */
export function requestOptEcho(state: Request): OptRecord | undefined {
  const add = scratch.additionals;
  if (add.length !== 0) add.length = 0;
  if (!state.sizeAndDo(scratch)) return undefined;
  return add.pop() as OptRecord;
}

/** Wire length of an OPT record named `.` (the root), as the encoder writes it. */
export function optWireLength(o: OptRecord): number {
  let l = 11;
  for (const x of o.options) l += 4 + x.data.length;
  return l;
}

/** Writes an OPT record named `.` at `off` (as the encoder does); returns the offset after it. */
export function writeOptRecord(buf: Uint8Array, off: number, o: OptRecord): number {
  buf[off] = 0;
  buf[off + 1] = 0;
  buf[off + 2] = 41;
  const size = o.udpPayloadSize & 0xffff;
  buf[off + 3] = size >>> 8;
  buf[off + 4] = size & 0xff;
  buf[off + 5] = o.extendedRcode & 0xff;
  buf[off + 6] = o.ednsVersion & 0xff;
  buf[off + 7] = (o.flags >>> 8) & 0xff;
  buf[off + 8] = o.flags & 0xff;
  const lenAt = off + 9;
  let p = off + 11;
  for (const x of o.options) {
    buf[p] = x.code >>> 8;
    buf[p + 1] = x.code & 0xff;
    buf[p + 2] = x.data.length >>> 8;
    buf[p + 3] = x.data.length & 0xff;
    buf.set(x.data, p + 4);
    p += 4 + x.data.length;
  }
  const rdlen = p - off - 11;
  buf[lenAt] = rdlen >>> 8;
  buf[lenAt + 1] = rdlen & 0xff;
  return p;
}

/**
 * True when the scrub would send a message of this uncompressed length
 * (OPT included) as it is: it fits the client's size (no truncation) and,
 * over UDP, stays under the lengths above which CoreDNS compresses anyway
 * (1480 bytes for IPv4 clients, 1220 for IPv6).
 */
export function sentUnchanged(state: Request, uncompressedLen: number): boolean {
  if (uncompressedLen > state.size()) return false;
  if (state.proto() === 'udp') {
    if (state.family() === 1 ? uncompressedLen > 1480 : uncompressedLen > 1220) return false;
  }
  return true;
}
