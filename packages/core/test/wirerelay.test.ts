/**
 * Relaying upstream replies as bytes (`scanReply`, `relayWire`,
 * `sameQuestion`) must be invisible: for every reply and every client, the
 * bytes relayed are exactly what the message path sends (decode, `writeMsg`
 * through a recorder and the server's scrub: EDNS normalisation or echo,
 * truncation, compression), the recorder sees the same length and rcode, and
 * anything the relay cannot reproduce falls back. Replies come from a seeded
 * generator (compression pointers, OPT with and without DO, every modelled
 * record type and unknown ones, empty and malformed RDATA, trailing bytes,
 * cut and corrupted messages); a failing case prints its seed and index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  encodeMessage,
  setPlainNameFastPaths,
  getOpt,
  lowerName,
  unpackName,
  messageLen,
  plainCanonicalName,
  rcodeOf,
  Recorder,
  relayWire,
  Request,
  sameQuestion,
  scanReply,
  scrubRequest,
  ScrubWriter,
  WireReply,
  type Address,
  type ConnWriter,
  type Msg,
  type OptRecord,
  type TransportName,
} from '../src/index.js';

// ---------------------------------------------------------------- a seeded generator

/** mulberry32: a tiny deterministic generator; every case is replayable from (seed, index). */
class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** 0 <= x < n */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): number[] {
    return Array.from({ length: n }, () => this.int(256));
  }
}

const LABELS = ['www', 'example', 'org', 'net', 'a', 'mail', 'ns1', 'host-7', 'xn--bcher-kva', '_sip', '_tcp', 'svc', 'cluster', 'local'];
/** Labels whose bytes the name decoder escapes (`\.`, `\032`, `\255`, ...). */
const ODD_LABELS = ['a.b', 'sp ace', 'semi;colon', 'q"uote', 'back\\slash', '(par)', 'at@', "tick'", '\x00nul', '\xffhigh', '\x7fdel'];

function randomCase(r: Rand, s: string): string {
  if (!r.chance(0.3)) return s;
  let out = '';
  for (const ch of s) out += r.chance(0.5) ? ch.toUpperCase() : ch;
  return out;
}

function randomLabels(r: Rand): string[] {
  if (r.chance(0.03)) return []; // the root
  const n = 1 + r.int(4);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(randomCase(r, r.chance(0.06) ? r.pick(ODD_LABELS) : r.pick(LABELS)));
  if (r.chance(0.03)) {
    // close to the 255-octet limit (sometimes over it: a decode error)
    const fill = 'x'.repeat(63);
    while (out.reduce((s, l) => s + l.length + 1, 1) < 250) out.unshift(fill.slice(0, 40 + r.int(24)));
  }
  return out;
}

/** Message bytes under construction, with the offsets of names written (for compression pointers). */
class Builder {
  readonly b: number[] = [];
  /** Suffix (labels joined by '.', exact bytes) to the offset where it was written. */
  private readonly suffixes = new Map<string, number>();
  /** `damage`: now and then a broken compression pointer. */
  constructor(
    private readonly r: Rand,
    private readonly damage = true,
  ) {}

  u8(v: number): void {
    this.b.push(v & 0xff);
  }
  u16(v: number): void {
    this.b.push((v >>> 8) & 0xff, v & 0xff);
  }
  u32(v: number): void {
    this.u16(Math.floor(v / 0x10000));
    this.u16(v % 0x10000);
  }
  raw(xs: readonly number[]): void {
    for (const x of xs) this.b.push(x & 0xff);
  }

  /** A name: labels written plainly until some suffix is replaced by a pointer (when `compress`). */
  name(labels: readonly string[], compress: boolean): void {
    const r = this.r;
    if (compress && this.damage && r.chance(0.01)) {
      // broken pointers: to itself (a loop), past the end, into the header
      const self = this.b.length;
      this.u16(0xc000 | r.pick([self, 0x3fff, 4]));
      return;
    }
    for (let i = 0; i < labels.length; i++) {
      const key = labels.slice(i).join('.');
      const at = this.suffixes.get(key);
      if (compress && at !== undefined && r.chance(0.8)) {
        this.u16(0xc000 | at);
        return;
      }
      if (at === undefined && this.b.length < 0x3fff) this.suffixes.set(key, this.b.length);
      const l = labels[i]!;
      this.u8(l.length);
      for (let k = 0; k < l.length; k++) this.u8(l.charCodeAt(k));
    }
    this.u8(0);
  }

  /** A record with its RDATA written by `rdata` (the length is filled in). */
  record(labels: readonly string[], type: number, klass: number, ttl: number, rdata: () => void): void {
    this.name(labels, true);
    this.u16(type);
    this.u16(klass);
    this.u32(ttl);
    const lenAt = this.b.length;
    this.u16(0);
    rdata();
    const n = this.b.length - lenAt - 2;
    this.b[lenAt] = n >>> 8;
    this.b[lenAt + 1] = n & 0xff;
  }

  bytes(): Buffer {
    return Buffer.from(this.b);
  }
}

const NAME_TYPES = [2, 3, 4, 5, 7, 8, 9, 12, 39];
const MX_TYPES = [15, 18, 21, 36];
const UNKNOWN_TYPES = [46, 47, 35, 52, 64, 65, 65280, 255];

function text(bd: Builder, r: Rand, s: string): void {
  bd.u8(s.length);
  for (let i = 0; i < s.length; i++) bd.u8(s.charCodeAt(i));
  if (r.chance(0.01)) bd.u8(9); // a length that runs past the RDATA
}

function randomRdata(bd: Builder, r: Rand, type: number): void {
  if (r.chance(0.04)) return; // empty RDATA
  const name = (compress: boolean): void => bd.name(randomLabels(r), compress);
  switch (type) {
    case 1:
      bd.raw(r.bytes(r.chance(0.02) ? 3 : 4));
      break;
    case 28:
      bd.raw(r.chance(0.3) ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...r.bytes(4)] : r.bytes(r.chance(0.02) ? 15 : 16));
      break;
    case 6:
      name(true);
      name(true);
      bd.raw(r.bytes(r.chance(0.02) ? 19 : 20));
      break;
    case 33:
      bd.raw(r.bytes(6));
      name(r.chance(0.3));
      break;
    case 14:
      name(true);
      name(true);
      break;
    case 16:
    case 99:
      for (let i = r.int(4); i > 0; i--) text(bd, r, r.pick(['v=spf1 -all', '', 'hello world', 'x'.repeat(r.int(200)), '\x00\xff']));
      break;
    case 13:
      text(bd, r, r.pick(['INTEL-386', '', 'ARM']));
      if (!r.chance(0.02)) text(bd, r, r.pick(['Linux', '', 'UNIX']));
      break;
    case 257: {
      bd.u8(r.pick([0, 0x80, 1]));
      const tag = r.pick(['issue', 'issuewild', 'iodef', '']);
      bd.u8(r.chance(0.02) ? 200 : tag.length);
      for (let i = 0; i < tag.length; i++) bd.u8(tag.charCodeAt(i));
      const value = r.pick(['letsencrypt.org', '', 'mailto:a@b', '\xe9t\xe9']);
      for (let i = 0; i < value.length; i++) bd.u8(value.charCodeAt(i));
      break;
    }
    default:
      if (NAME_TYPES.includes(type)) name(type !== 39 || r.chance(0.3));
      else if (MX_TYPES.includes(type)) {
        bd.u16(r.int(100));
        name(type === 15 || r.chance(0.3));
      } else bd.raw(r.bytes(r.int(40)));
  }
  if (r.chance(0.02)) bd.raw(r.bytes(1 + r.int(3))); // RDATA longer than its fields
}

/** EDNS0 options, valid ones mostly (a malformed known option is a decode error). */
function randomOptions(bd: Builder, r: Rand): void {
  for (let i = r.int(3); i > 0; i--) {
    const opt = r.pick([
      [3, []], // NSID
      [3, r.bytes(6)],
      [8, [0, 1, 24, 0, 192, 0, 2]], // ECS
      [8, [0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0]],
      [8, [0, 1, 40, 0, 1, 2, 3, 4]], // source prefix > 32: malformed
      [9, []], // EXPIRE
      [9, [0, 0, 0x0e, 0x10]],
      [10, r.bytes(8)], // COOKIE
      [10, r.bytes(24)],
      [11, []], // TCP_KEEPALIVE
      [11, [0, 100]],
      [11, [0]], // malformed
      [12, Array(r.int(30)).fill(0)], // PADDING
      [15, [0, 18, ...Buffer.from('blocked')]], // EDE
      [15, [0]], // malformed
      [18, [3, 0x61, 0x67, 0x74, 0]], // REPORTING: a name
      [18, [3, 0x61, 0x67]], // a name cut short: malformed
      [18, [0xc0, 0]], // a pointer out of the option: malformed
      [65001, r.bytes(r.int(10))],
    ] as [number, number[]][]);
    bd.u16(opt[0]);
    bd.u16(opt[1].length);
    bd.raw(opt[1]);
  }
}

function optRecord(bd: Builder, r: Rand, extRcode: number): void {
  bd.name(r.chance(0.02) ? ['x'] : [], false);
  bd.u16(41);
  bd.u16(r.pick([512, 1232, 4096, 1400, 0]));
  bd.u8(extRcode);
  bd.u8(r.chance(0.05) ? 1 : 0); // version
  bd.u16((r.chance(0.5) ? 0x8000 : 0) | (r.chance(0.1) ? r.int(0x8000) : 0)); // DO and Z bits
  const lenAt = bd.b.length;
  bd.u16(0);
  randomOptions(bd, r);
  const n = bd.b.length - lenAt - 2;
  bd.b[lenAt] = n >>> 8;
  bd.b[lenAt + 1] = n & 0xff;
}

/** The presentation form of a name given as labels (as the decoder writes it), or a stand-in when it is too long. */
function presentation(labels: readonly string[]): string {
  const wire: number[] = [];
  for (const l of labels) wire.push(l.length, ...Array.from(l, (ch) => ch.charCodeAt(0)));
  wire.push(0);
  try {
    return unpackName(Buffer.from(wire), 0, { off: 0 });
  } catch {
    return 'too.long.example.';
  }
}

interface Case {
  reply: Buffer;
  /** The question the client asked (possibly not the reply's). */
  qname: string;
  qtype: number;
  qclass: number;
}

function randomReply(r: Rand): Case {
  const bd = new Builder(r);
  bd.u16(r.int(0x10000));
  const qr = r.chance(0.97) ? 0x8000 : 0;
  const opcode = r.chance(0.95) ? 0 : r.int(16);
  const rcode = r.chance(0.6) ? 0 : r.int(16);
  bd.u16(qr | (opcode << 11) | (r.int(0x80) << 4) | rcode); // AA TC RD RA Z AD CD at random
  const qd = r.chance(0.97) ? 1 : r.pick([0, 2]);
  const an = r.int(6);
  const ns = r.chance(0.5) ? 0 : r.int(4);
  const withOpt = r.chance(0.6);
  const extra = r.chance(0.7) ? 0 : r.int(4);
  const ar = extra + (withOpt ? 1 : 0);
  bd.u16(qd);
  bd.u16(an);
  bd.u16(ns);
  bd.u16(ar);
  const qlabels = randomLabels(r);
  const qtype = r.pick([1, 1, 28, 15, 33, 16, 6, 12, 255, 65]);
  const qclass = r.chance(0.95) ? 1 : r.pick([3, 255, 0x1234]);
  for (let i = 0; i < qd; i++) {
    bd.name(qlabels, i > 0);
    bd.u16(qtype);
    bd.u16(qclass);
  }
  const owners: string[][] = [qlabels, randomLabels(r), randomLabels(r)];
  const records = an + ns + extra;
  const optAt = withOpt ? (r.chance(0.95) ? records : r.int(records + 1)) : -1; // mostly last, sometimes misplaced
  for (let i = 0; i <= records; i++) {
    if (i === optAt) optRecord(bd, r, r.chance(0.9) ? 0 : r.int(256));
    if (i === records) break;
    const type = r.pick([1, 1, 1, 28, 5, 5, 2, 6, 15, 33, 16, 13, 14, 257, 39, 12, 99, ...MX_TYPES, ...NAME_TYPES, ...UNKNOWN_TYPES]);
    const owner = r.chance(0.7) ? r.pick(owners) : randomLabels(r);
    if (r.chance(0.3)) owners.push(owner);
    const ttl = r.chance(0.1) ? r.int(0x100000000) : r.int(86400);
    bd.record(owner, type, r.chance(0.95) ? 1 : r.pick([3, 4, 254, 0x8001]), ttl, () => randomRdata(bd, r, type));
  }
  let reply = bd.bytes();
  // damage
  if (r.chance(0.05)) reply = Buffer.concat([reply, Buffer.from(r.bytes(1 + r.int(8)))]); // trailing bytes
  if (r.chance(0.05)) reply = reply.subarray(0, r.int(reply.length + 1)); // cut short
  const countAt = 7 + 2 * r.int(3);
  if (r.chance(0.03) && countAt < reply.length) reply[countAt] = reply[countAt]! + 1; // a count one too high
  if (r.chance(0.05) && reply.length > 12) reply[12 + r.int(reply.length - 12)] = r.int(256); // a byte flipped
  // the client asked for the reply's question, or for something else
  let qname = presentation(qlabels);
  if (r.chance(0.05)) qname = 'other.example.';
  else if (r.chance(0.2)) qname = randomCase(r, qname);
  return { reply, qname, qtype: r.chance(0.97) ? qtype : 1 + (qtype % 50), qclass: r.chance(0.98) ? qclass : 1 };
}

// ---------------------------------------------------------------- clients

interface Client {
  transport: 'udp' | 'tcp';
  family: 4 | 6;
  /** The client's OPT, or undefined. */
  opt: OptRecord | undefined;
}

function randomClient(r: Rand): Client {
  let opt: OptRecord | undefined;
  if (r.chance(0.7)) {
    opt = {
      name: '.',
      type: 'OPT',
      udpPayloadSize: r.pick([0, 100, 512, 1220, 1232, 1480, 1500, 4096, 65535]),
      extendedRcode: r.chance(0.9) ? 0 : r.int(256),
      ednsVersion: r.chance(0.9) ? 0 : 1,
      flags: (r.chance(0.5) ? 0x8000 : 0) | (r.chance(0.1) ? r.int(0x8000) : 0),
      options: [],
    };
    for (let i = r.int(3); i > 0; i--) {
      opt.options.push(
        r.pick([
          { code: 3, data: new Uint8Array(0) },
          { code: 10, data: Uint8Array.from(r.bytes(8)) },
          { code: 9, data: Uint8Array.from([0, 0, 0, 1, 2, 3]) },
          { code: 11, data: Uint8Array.from([0, 0]) },
          { code: 12, data: new Uint8Array(r.int(20)) },
          { code: 65002, data: Uint8Array.from(r.bytes(3)) },
        ]),
      );
    }
  }
  return { transport: r.chance(0.75) ? 'udp' : 'tcp', family: r.chance(0.7) ? 4 : 6, opt };
}

/** The server's connection writer, reduced to what it sends. */
class Capture implements ConnWriter {
  sent: Buffer | undefined = undefined;
  readonly remote: Address;
  readonly local: Address;
  readonly transport: TransportName;
  readonly proto: 'udp' | 'tcp';
  constructor(c: Client) {
    this.transport = c.transport;
    this.proto = c.transport;
    this.remote = c.family === 4 ? { address: '192.0.2.10', port: 40000, family: 4 } : { address: '2001:db8::10', port: 40000, family: 6 };
    this.local = c.family === 4 ? { address: '192.0.2.1', port: 53, family: 4 } : { address: '2001:db8::1', port: 53, family: 6 };
  }
  send(m: Msg, compress: boolean): void {
    this.sent = encodeMessage(m, compress);
  }
  writeMsg(m: Msg): void {
    this.send(m, false);
  }
  write(wire: Uint8Array): void {
    this.sent = Buffer.from(wire);
  }
}

/** The query the client sent, decoded as the server decodes it (each path gets its own copy). */
function clientQuery(c: Client, k: Case): Msg {
  const q: Msg = {
    id: 0xbeef,
    type: 'query',
    flags: 0x0100,
    questions: [{ name: k.qname, type: `TYPE${k.qtype}`, class: `CLASS${k.qclass}` }],
    answers: [],
    authorities: [],
    additionals: c.opt === undefined ? [] : [{ ...c.opt, options: c.opt.options.map((o) => ({ ...o })) }],
  };
  return decodeMessage(encodeMessage(q));
}

/** A recorder in front of the server's scrub, as in a real chain. */
function chain(c: Client, q: Msg): { rec: Recorder; conn: Capture } {
  const conn = new Capture(c);
  return { rec: new Recorder(new ScrubWriter(conn, new Request(q, conn))), conn };
}

interface Outcome {
  bytes: Buffer;
  len: number;
  rcode: number;
}

/** The message path: decode, client ID, writeMsg. Undefined when it throws. */
function messagePath(reply: Buffer, c: Client, k: Case): Outcome | undefined {
  const { rec, conn } = chain(c, clientQuery(c, k));
  try {
    const m = decodeMessage(reply);
    m.id = 0xbeef;
    rec.writeMsg(m);
  } catch {
    return undefined;
  }
  return { bytes: conn.sent!, len: rec.len, rcode: rec.rcode };
}

/** The relay: scan, client ID, relayWire through the same writers. Undefined where it falls back. */
function relayPath(reply: Buffer, c: Client, k: Case): Outcome | undefined {
  const scanned = scanReply(reply);
  if (scanned === undefined) return undefined;
  scanned.id = 0xbeef;
  const { rec, conn } = chain(c, clientQuery(c, k));
  const state = scrubRequest(rec);
  assert.ok(state !== undefined, 'a recorder in front of the scrub passes bytes on');
  const out = relayWire(scanned, state);
  if (out === undefined) return undefined;
  rec.write(out.bytes, out.len);
  return { bytes: conn.sent!, len: rec.len, rcode: rec.rcode };
}

/** The query the forward plugin sends upstream (its question at offset 12, uncompressed). */
function packedQuery(k: Case): Buffer {
  return encodeMessage({
    id: 1,
    type: 'query',
    flags: 0x0100,
    questions: [{ name: k.qname, type: `TYPE${k.qtype}`, class: `CLASS${k.qclass}` }],
    answers: [],
    authorities: [],
    additionals: [],
  });
}

/** request.Match on decoded messages, as the forward plugin checks replies without the wire path. */
function decodedMatch(m: Msg, k: Case): boolean {
  if (m.questions.length !== 1 || m.type !== 'response') return false;
  const q = m.questions[0]!;
  const want = decodeMessage(packedQuery(k)).questions[0]!;
  return lowerName(q.name) === lowerName(want.name) && q.type === want.type && q.class === want.class;
}

// ---------------------------------------------------------------- the properties

const SEED = Number(process.env['WIRERELAY_SEED'] ?? 0x5eed);
const CASES = Number(process.env['WIRERELAY_CASES'] ?? 30000);

test(`relayed bytes are the message path's bytes (${CASES} generated replies × clients, seed ${SEED})`, () => {
  const seen = { scanned: 0, relayed: 0, pointers: 0, replyOpt: 0, echoed: 0, dnssecOk: 0, tcp: 0, v6: 0, trailing: 0, fallbackBig: 0, rejected: 0, sameQ: 0, otherQ: 0 };
  for (let i = 0; i < CASES; i++) {
    const r = new Rand(SEED * 1_000_003 + i);
    const k = randomReply(r);
    const c = randomClient(r);
    const where = `case ${i} (seed ${SEED}): reply ${k.reply.toString('hex')}, client ${JSON.stringify({ ...c, opt: c.opt && { ...c.opt, options: c.opt.options.length } })}`;
    let decoded: Msg | undefined;
    try {
      decoded = decodeMessage(k.reply);
    } catch {
      decoded = undefined;
    }
    const scanned = scanReply(k.reply);
    if (scanned === undefined) {
      seen.rejected++;
    } else {
      // what the scan accepts decodes, as a response with one question, and the scan's figures are the decoder's
      seen.scanned++;
      assert.ok(decoded !== undefined, `scanReply accepted what decodeMessage rejects: ${where}`);
      assert.equal(decoded.type, 'response', where);
      assert.equal(decoded.questions.length, 1, where);
      assert.equal(scanned.ulen, messageLen(decoded, false), `uncompressed length: ${where}`);
      assert.equal(scanned.rcode, rcodeOf(decoded), `rcode: ${where}`);
      assert.equal(scanned.answers, decoded.answers.length, where);
      assert.equal(scanned.authorities, decoded.authorities.length, where);
      assert.equal(scanned.additionals, decoded.additionals.length, where);
      assert.equal(scanned.flags & 0x7fff, decoded.flags, where);
      const m = scanned.toMsg();
      assert.deepEqual(m, { ...decoded, id: scanned.id }, where);
      // the question check on the wire agrees with request.Match on decoded names (for names it is used with)
      if (plainCanonicalName(decodeMessage(packedQuery(k)).questions[0]!.name)) {
        const same = sameQuestion(scanned, packedQuery(k));
        assert.equal(same, decodedMatch(decoded, k), `sameQuestion: ${where}`);
        if (same) seen.sameQ++;
        else seen.otherQ++;
      }
    }
    const relayed = relayPath(k.reply, c, k);
    if (relayed === undefined) {
      if (scanned !== undefined) seen.fallbackBig++;
      continue;
    }
    const expected = messagePath(k.reply, c, k);
    assert.ok(expected !== undefined, `relayed a reply the message path cannot send: ${where}`);
    assert.equal(relayed.bytes.toString('hex'), expected.bytes.toString('hex'), `bytes: ${where}`);
    assert.equal(relayed.len, expected.len, `recorded length: ${where}`);
    assert.equal(relayed.rcode, expected.rcode, `recorded rcode: ${where}`);
    seen.relayed++;
    if (scanned!.pointers) seen.pointers++;
    if (scanned!.optAt >= 0) seen.replyOpt++;
    else if (c.opt !== undefined) seen.echoed++;
    if (c.opt !== undefined && (c.opt.flags & 0x8000) !== 0) seen.dnssecOk++;
    if (c.transport === 'tcp') seen.tcp++;
    if (c.family === 6) seen.v6++;
    if (scanned!.end < k.reply.length) seen.trailing++;
  }
  // the generator reaches every kind of case, and the relay takes most clean replies
  if (process.env['WIRERELAY_STATS']) console.log(seen);
  const min = CASES / 300;
  for (const [what, n] of Object.entries(seen)) assert.ok(n >= min, `only ${n} cases of "${what}" (${JSON.stringify(seen)})`);
  assert.ok(seen.relayed > seen.scanned * 0.6, `relayed ${seen.relayed} of ${seen.scanned} scanned replies`);
});

test(`the encoder's fast paths for plain names give the general path's lengths and bytes (${CASES} generated replies, seed ${SEED})`, () => {
  let compared = 0;
  try {
    for (let i = 0; i < CASES; i++) {
      const k = randomReply(new Rand(SEED * 1_000_003 + i));
      let m: Msg;
      try {
        m = decodeMessage(k.reply);
      } catch {
        continue;
      }
      for (const compress of [true, false]) {
        const encode = (): string => {
          try {
            return `${messageLen(m, compress)} ${encodeMessage(m, compress).toString('hex')}`;
          } catch (e) {
            return `throws ${e instanceof Error ? e.message : String(e)}`;
          }
        };
        setPlainNameFastPaths(true);
        const fast = encode();
        setPlainNameFastPaths(false);
        const general = encode();
        assert.equal(fast, general, `case ${i} (seed ${SEED}), compress ${compress}: reply ${k.reply.toString('hex')}`);
        compared++;
      }
    }
  } finally {
    setPlainNameFastPaths(true);
  }
  assert.ok(compared > CASES, `${compared} encodings compared`);
});

test('random and mutated bytes never make the scan throw, and what it accepts decodes to its figures', () => {
  const r = new Rand(SEED ^ 0xabcdef);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let b: Buffer;
    if (r.chance(0.2)) {
      b = Buffer.from(r.bytes(r.int(80)));
    } else {
      b = Buffer.from(randomReply(r).reply);
      for (let n = 1 + r.int(4); n > 0 && b.length > 0; n--) b[r.int(b.length)] = r.chance(0.3) ? 0xc0 : r.int(256);
    }
    const s = scanReply(b);
    if (s === undefined) continue;
    accepted++;
    const m = decodeMessage(b);
    assert.equal(s.ulen, messageLen(m, false), b.toString('hex'));
    assert.equal(s.rcode, rcodeOf(m), b.toString('hex'));
  }
  assert.ok(accepted > 1000, `only ${accepted} mutated messages scanned`);
});

// ---------------------------------------------------------------- cases spelled out

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** example.org. A with a CNAME answer pointing into the question, and an OPT (DO clear). */
const COMPRESSED = hex(`
  1234 8180 0001 0002 0000 0001
  07 6578616d706c65 03 6f7267 00 0001 0001
  c00c 0005 0001 00000e10 0006 03 777777 c00c
  c029 0001 0001 0000003c 0004 c0000201
  00 0029 1000 00 00 0000 0000`);

test('a compressed reply is expanded; its OPT takes the client size and DO bit; the ID is the client one', () => {
  const s = scanReply(COMPRESSED)!;
  assert.ok(s instanceof WireReply && s.pointers && s.optAt > 0);
  const c: Client = { transport: 'udp', family: 4, opt: { name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0x8000, options: [] } };
  const k: Case = { reply: COMPRESSED, qname: 'example.org.', qtype: 1, qclass: 1 };
  const out = relayPath(COMPRESSED, c, k)!;
  assert.deepEqual(out, messagePath(COMPRESSED, c, k));
  const m = decodeMessage(out.bytes);
  assert.equal(m.id, 0xbeef);
  assert.equal(scanReply(out.bytes)!.pointers, false, 'no pointers left');
  const opt = getOpt(m)!;
  assert.equal(opt.udpPayloadSize, 1232);
  assert.equal(opt.flags & 0x8000, 0x8000, 'DO as the client asked');
  assert.deepEqual(m.answers.map((a) => ('data' in a ? a.data : '')), ['www.example.org.', '192.0.2.1']);
});

test('a client without EDNS gets the upstream OPT as it came; a client with EDNS and a reply without OPT gets its OPT echoed', () => {
  const k: Case = { reply: COMPRESSED, qname: 'example.org.', qtype: 1, qclass: 1 };
  const plain: Client = { transport: 'udp', family: 4, opt: undefined };
  const out = relayPath(COMPRESSED, plain, k)!;
  assert.deepEqual(out, messagePath(COMPRESSED, plain, k));
  assert.equal(getOpt(decodeMessage(out.bytes))!.udpPayloadSize, 4096);

  const noOpt = Buffer.from(COMPRESSED.subarray(0, COMPRESSED.length - 11));
  noOpt[11] = 0;
  const edns: Client = { transport: 'tcp', family: 6, opt: { name: '.', type: 'OPT', udpPayloadSize: 4000, extendedRcode: 0, ednsVersion: 0, flags: 0x8000, options: [{ code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }, { code: 65001, data: Uint8Array.from([1]) }] } };
  const echoed = relayPath(noOpt, edns, { ...k, reply: noOpt })!;
  assert.deepEqual(echoed, messagePath(noOpt, edns, { ...k, reply: noOpt }));
  const opt = getOpt(decodeMessage(echoed.bytes))!;
  assert.deepEqual(opt.options.map((o) => o.code), [10], 'only supported options are echoed');
  assert.equal(echoed.len, 100, 'the recorded length is the reply before the echo, expanded');
});

test('replies the scrub would truncate or compress, and extended rcodes, fall back to the message path', () => {
  const k: Case = { reply: COMPRESSED, qname: 'example.org.', qtype: 1, qclass: 1 };
  // many A records: over 512 bytes for a client without EDNS
  const bd = new Builder(new Rand(1), false);
  bd.raw([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 60, 0, 0, 0, 0]);
  bd.name(['example', 'org'], false);
  bd.u16(1);
  bd.u16(1);
  for (let i = 0; i < 60; i++) bd.record(['example', 'org'], 1, 1, 300, () => bd.raw([10, 0, 0, i]));
  const big = bd.bytes();
  assert.ok(scanReply(big) !== undefined);
  assert.equal(relayPath(big, { transport: 'udp', family: 4, opt: undefined }, { ...k, reply: big }), undefined, 'truncated: message path');
  assert.ok(relayPath(big, { transport: 'tcp', family: 4, opt: undefined }, { ...k, reply: big }) !== undefined, 'over TCP it fits');
  const v6big: Client = { transport: 'udp', family: 6, opt: { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } };
  const huge = Buffer.from(big);
  // 60 records of 27 bytes + header and question: 1649 bytes, over 1220 (IPv6) and 1480 (IPv4) bytes
  assert.equal(relayPath(huge, v6big, { ...k, reply: huge }), undefined, 'compressed over UDP: message path');

  const badvers = Buffer.from(COMPRESSED);
  badvers[badvers.length - 6] = 1; // extended rcode 16 (BADVERS)
  assert.equal(scanReply(badvers)!.rcode, 16);
  assert.equal(relayPath(badvers, { transport: 'udp', family: 4, opt: undefined }, { ...k, reply: badvers }), undefined);
});

test('malformed replies are left to the decoder: cut, wrong counts, pointer loops, two OPTs, bad option', () => {
  const bad = (f: (b: Buffer) => Buffer): Buffer => f(Buffer.from(COMPRESSED));
  const question = '07 6578616d706c65 03 6f7267 00 0001 0001';
  const opt = '00 0029 1000 00 00 0000 0000';
  const cases: [string, Buffer][] = [
    ['cut in a record', bad((b) => b.subarray(0, 40))],
    ['one answer more than there is', bad((b) => ((b[7] = 3), b))],
    ['a query, not a response', bad((b) => ((b[2] = 0x01), b))],
    ['two questions', bad((b) => ((b[5] = 2), b))],
    ['a pointer to itself', bad((b) => ((b[29] = 0xc0), (b[30] = 29), b))],
    ['a pointer past the end', bad((b) => ((b[46] = 0xff), b))],
    ['an OPT in the answer section', hex(`1234 8180 0001 0001 0000 0000 ${question} ${opt}`)],
    ['two OPTs', hex(`1234 8180 0001 0000 0000 0002 ${question} ${opt} ${opt}`)],
    ['an OPT not owned by the root', hex(`1234 8180 0001 0000 0000 0001 ${question} 01 78 00 0029 1000 00 00 0000 0000`)],
    ['a malformed EDNS option', hex(`1234 8180 0001 0000 0000 0001 ${question} 00 0029 1000 00 00 0000 0005 000b0001ff`)],
    ['an A record of 3 bytes', hex(`1234 8180 0001 0001 0000 0000 ${question} c00c 0001 0001 0000003c 0003 c00002`)],
    ['a CNAME with bytes after its name', hex(`1234 8180 0001 0001 0000 0000 ${question} c00c 0005 0001 0000003c 0003 c00c 01`)],
    ['a label of type 0x40', hex(`1234 8180 0001 0001 0000 0000 ${question} 41 0005 0001 0000003c 0002 c00c`)],
  ];
  for (const [what, b] of cases) {
    const s = scanReply(b);
    if (s === undefined) continue;
    // the scan may accept only what decodes exactly as it says
    const m = decodeMessage(b);
    assert.equal(s.ulen, messageLen(m, false), what);
    assert.fail(`${what}: accepted ${b.toString('hex')}`);
  }
});

test('sameQuestion ignores ASCII case only, and compares type and class', () => {
  const s = scanReply(COMPRESSED)!;
  const q = (name: string, type = 'A', klass = 'IN'): Buffer =>
    encodeMessage({ id: 1, type: 'query', flags: 0, questions: [{ name, type, class: klass }], answers: [], authorities: [], additionals: [] });
  assert.equal(sameQuestion(s, q('example.org.')), true);
  assert.equal(sameQuestion(s, q('EXAMPLE.Org.')), true);
  assert.equal(sameQuestion(s, q('example.org.', 'AAAA')), false);
  assert.equal(sameQuestion(s, q('example.org.', 'A', 'CH')), false);
  assert.equal(sameQuestion(s, q('example.or.')), false);
  assert.equal(sameQuestion(s, q('example.org.example.org.')), false);
  assert.equal(sameQuestion(s, q('.')), false);
  // bytes that differ by 0x20 without being letters are different names ('@' and '`', '[' and '{', ...)
  for (const [upstream, asked] of [['@', '`'], ['[', '{'], ['\\', '|'], [']', '}'], ['^', '~'], ['a', 'A']] as const) {
    const bd = new Builder(new Rand(2), false);
    bd.raw([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]);
    bd.name([`x${upstream}y`, 'example'], false);
    bd.raw([0, 1, 0, 1]);
    const reply = scanReply(bd.bytes())!;
    const name = `x${asked}y.example.`;
    assert.equal(plainCanonicalName(name), true, name);
    assert.equal(sameQuestion(reply, q(name)), upstream === 'a', `${upstream} vs ${asked}`);
    assert.equal(lowerName(decodeMessage(bd.bytes()).questions[0]!.name) === lowerName(name), upstream === 'a', `${upstream} vs ${asked} decoded`);
  }
  assert.equal(plainCanonicalName('a.b.'), true);
  assert.equal(plainCanonicalName('a\\.b.'), false);
  assert.equal(plainCanonicalName('a b.'), false);
  assert.equal(plainCanonicalName('a..b.'), false);
  assert.equal(plainCanonicalName('ab'), false);
  assert.equal(plainCanonicalName('.'), true);
});
