/**
 * A seeded generator of DNS query packets, valid and broken: random names,
 * types, classes, flags and EDNS options, then mutations (bit flips,
 * truncation, random counts, compression pointer loops, long labels, bad OPT
 * records, random opcodes, random bytes). Packet i depends only on (seed, i),
 * so any failure can be replayed alone.
 */

/** sfc32: small, fast, good enough for fuzzing; deterministic across platforms. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ seed;
    this.b = 0x243f6a88 ^ stream;
    this.c = 0xb7e15162 ^ Math.imul(seed, 0x85ebca6b);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 0 <= x < n */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  /** lo <= x <= hi */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** A growable byte writer. */
class W {
  private parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v & 0xffff);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  get length(): number {
    return this.parts.reduce((s, p) => s + p.length, 0);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const LABEL_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

/** A wire-format name of random labels. */
function wireName(r: Rng): Buffer {
  const w = new W();
  const n = r.pick([0, 1, 2, 2, 3, 3, 4, 6]);
  for (let i = 0; i < n; i++) {
    const len = r.chance(0.05) ? r.range(40, 63) : r.range(1, 12);
    let label: Buffer;
    if (r.chance(0.1)) label = r.bytes(len); // any octets: dots, backslashes, binary
    else label = Buffer.from(Array.from({ length: len }, () => LABEL_CHARS.charCodeAt(r.int(LABEL_CHARS.length))));
    w.u8(len).raw(label);
  }
  w.u8(0);
  return w.done();
}

const TYPES = [1, 1, 1, 28, 28, 33, 16, 255, 6, 2, 12, 15, 43, 48, 65, 252, 251, 0, 65280, 65535];
const CLASSES = [1, 1, 1, 1, 1, 1, 1, 3, 4, 254, 255, 0];

function option(r: Rng): Buffer {
  const w = new W();
  const kind = r.int(12);
  switch (kind) {
    case 0: // client cookie (8) or client+server cookie
      w.u16(10);
      {
        const l = r.chance(0.7) ? 8 : r.range(0, 48);
        w.u16(l).raw(r.bytes(l));
      }
      break;
    case 1: // NSID
      w.u16(3).u16(0);
      break;
    case 2: { // ECS, sometimes malformed
      const fam = r.pick([1, 2, 1, 0, 3]);
      const src = r.pick([0, 24, 32, 56, 33, 129]);
      const addr = r.bytes(r.range(0, 17));
      w.u16(8).u16(4 + addr.length).u16(fam).u8(src).u8(r.int(3) === 0 ? r.int(256) : 0).raw(addr);
      break;
    }
    case 3: { // padding
      const l = r.chance(0.9) ? r.range(0, 64) : r.range(300, 700);
      w.u16(12).u16(l).raw(Buffer.alloc(l));
      break;
    }
    case 4: // TCP keepalive: 0, 2 (valid) or odd lengths
      {
        const l = r.pick([0, 2, 1, 3]);
        w.u16(11).u16(l).raw(r.bytes(l));
      }
      break;
    case 5: // EXPIRE
      {
        const l = r.pick([0, 4, 2, 8]);
        w.u16(9).u16(l).raw(r.bytes(l));
      }
      break;
    case 6: // EDE / zoneversion / report-channel
      {
        const code = r.pick([15, 19, 18]);
        const l = r.range(0, 6);
        w.u16(code).u16(l).raw(code === 18 && r.chance(0.5) ? Buffer.from([3, 0x61, 0x62, 0x63, 0]) : r.bytes(l));
      }
      break;
    case 7: // LLQ / UL
      {
        const code = r.pick([1, 2]);
        const l = r.pick([4, 8, 18, 3]);
        w.u16(code).u16(l).raw(r.bytes(l));
      }
      break;
    default: { // unknown option
      const l = r.range(0, 20);
      w.u16(r.pick([65001, 20, 100, 0xfdf, r.int(65536)])).u16(l).raw(r.bytes(l));
    }
  }
  return w.done();
}

/** An OPT record (possibly with a non-zero version or odd flags). */
function opt(r: Rng): Buffer {
  const w = new W();
  w.u8(0).u16(41);
  w.u16(r.pick([512, 1232, 4096, 65535, 0, 100, r.int(65536)]));
  const ext = r.chance(0.05) ? r.int(256) : 0;
  const version = r.chance(0.08) ? r.range(1, 255) : 0;
  const flags = (r.chance(0.4) ? 0x8000 : 0) | (r.chance(0.05) ? r.int(0x8000) : 0);
  w.u32(((ext << 24) | (version << 16) | flags) >>> 0);
  const opts: Buffer[] = [];
  const n = r.pick([0, 0, 1, 1, 2, 3]);
  for (let i = 0; i < n; i++) opts.push(option(r));
  const rd = Buffer.concat(opts);
  w.u16(rd.length).raw(rd);
  return w.done();
}

/** A plain A/NS/TXT record with a compressed or plain owner. */
function record(r: Rng): Buffer {
  const w = new W();
  if (r.chance(0.5)) w.u16(0xc00c);
  else w.raw(wireName(r));
  const t = r.pick([1, 2, 16, 6, 28]);
  w.u16(t).u16(1).u32(r.int(86400));
  const rd = t === 1 ? r.bytes(4) : t === 28 ? r.bytes(16) : t === 16 ? Buffer.from([3, 0x61, 0x62, 0x63]) : Buffer.from([0xc0, 0x0c]);
  w.u16(rd.length).raw(rd);
  return w.done();
}

/** A valid-looking query: header, one question, optional records and OPT. */
export function baseQuery(r: Rng): Buffer {
  const an = r.chance(0.05) ? 1 : 0;
  const ns = r.chance(0.05) ? 1 : 0;
  const extra: Buffer[] = [];
  if (r.chance(0.05)) extra.push(record(r));
  if (r.chance(0.55)) extra.push(opt(r));
  let flags = r.chance(0.7) ? 0x0100 : 0; // RD
  if (r.chance(0.1)) flags |= 0x0010; // CD
  if (r.chance(0.1)) flags |= 0x0020; // AD
  if (r.chance(0.05)) flags |= 0x2000; // opcode NOTIFY
  if (r.chance(0.05)) flags |= r.int(0x10000) & 0x06cf; // AA TC RA Z rcode bits
  const w = new W();
  w.u16(r.int(65536)).u16(flags).u16(1).u16(an).u16(ns).u16(extra.length);
  w.raw(wireName(r)).u16(r.pick(TYPES)).u16(r.pick(CLASSES));
  for (let i = 0; i < an + ns; i++) w.raw(record(r));
  for (const e of extra) w.raw(e);
  return w.done();
}

type Mutation = (b: Buffer, r: Rng) => Buffer;

const MUTATIONS: [string, Mutation][] = [
  ['bitflip', (b, r) => {
    const c = Buffer.from(b);
    const n = r.range(1, 8);
    for (let i = 0; i < n && c.length > 0; i++) c[r.int(c.length)]! ^= 1 << r.int(8);
    return c;
  }],
  ['truncate', (b, r) => b.subarray(0, r.int(b.length + 1))],
  ['counts', (b, r) => {
    if (b.length < 12) return b;
    const c = Buffer.from(b);
    const off = r.pick([4, 6, 8, 10]);
    c.writeUInt16BE(r.chance(0.8) ? r.int(4) : r.int(65536), off);
    return c;
  }],
  ['pointer-loop', (b, r) => {
    if (b.length < 12) return b;
    const loops = [
      [0xc0, 12],
      [0xc0, 14, 0xc0, 12],
      [1, 0x61, 0xc0, 12],
      [0xc0, 13],
      [0xc0, r.int(256)],
      [0xff, 0xff],
      [0xc0],
    ];
    return Buffer.concat([b.subarray(0, 12), Buffer.from(r.pick(loops)), Buffer.from([0, 1, 0, 1])]);
  }],
  ['long-name', (b, r) => {
    if (b.length < 12) return b;
    const w = new W();
    let total = 0;
    const target = r.pick([240, 250, 253, 254, 255, 256, 300]);
    while (total < target) {
      const len = Math.min(r.pick([63, 63, 62, 64, 10]), Math.max(1, target - total - 1));
      w.u8(len).raw(Buffer.alloc(len, 0x61 + r.int(26)));
      total += len + 1;
    }
    w.u8(0);
    return Buffer.concat([b.subarray(0, 12), w.done(), Buffer.from([0, 1, 0, 1])]);
  }],
  ['bad-opt', (b, r) => {
    if (b.length < 12) return b;
    const o = Buffer.from(opt(r));
    const how = r.int(5);
    if (how === 0 && o.length >= 11) o.writeUInt16BE(o.readUInt16BE(9) + r.range(1, 20), 9); // rdlen too long
    else if (how === 1 && o.length >= 11 && o.readUInt16BE(9) > 0) o.writeUInt16BE(o.readUInt16BE(9) - 1, 9); // rdlen too short
    else if (how === 2) o[0] = 1; // OPT with a non-root owner (byte 0 is the root label)
    const extra = how === 3 ? Buffer.concat([o, opt(r)]) : how === 4 ? Buffer.concat([o, Buffer.from([0, 0, 41, 2, 0])]) : o;
    const c = Buffer.concat([b, extra]);
    const ar = c.readUInt16BE(10) + (how === 3 ? 2 : 1);
    c.writeUInt16BE(Math.min(ar, 65535), 10);
    return c;
  }],
  ['opcode', (b, r) => {
    if (b.length < 4) return b;
    const c = Buffer.from(b);
    c[2] = (c[2]! & 0x87) | (r.int(16) << 3);
    return c;
  }],
  ['qr', (b) => {
    if (b.length < 3) return b;
    const c = Buffer.from(b);
    c[2]! |= 0x80;
    return c;
  }],
  ['random-bytes', (_b, r) => {
    const n = r.pick([0, 1, 11, 12, 13, 17, 30, 64, 200, 511, 512, 513, 700]);
    const c = r.bytes(n);
    if (n >= 12 && r.chance(0.6)) {
      c[2] = c[2]! & 0x07; // QR=0, opcode QUERY
      c.writeUInt16BE(1, 4);
      c.writeUInt16BE(0, 6);
      c.writeUInt16BE(0, 8);
      c.writeUInt16BE(r.int(3), 10);
    }
    return c;
  }],
  ['splice', (b, r) => {
    if (b.length < 2) return b;
    const at = r.int(b.length);
    return r.chance(0.5) ? Buffer.concat([b.subarray(0, at), r.bytes(r.range(1, 16)), b.subarray(at)]) : Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.range(1, 8)))]);
  }],
  ['append', (b, r) => Buffer.concat([b, r.bytes(r.range(1, 40))])],
  ['oversize', (b, r) => {
    if (b.length < 12) return b;
    const pad = r.range(450, 900);
    const o = new W().u8(0).u16(41).u16(4096).u32(0).u16(pad + 4).u16(12).u16(pad).raw(Buffer.alloc(pad)).done();
    const c = Buffer.concat([b, o]);
    c.writeUInt16BE(Math.min(c.readUInt16BE(10) + 1, 65535), 10);
    return c;
  }],
  ['header-only', (b) => b.subarray(0, Math.min(12, b.length))],
];

export interface Generated {
  bytes: Buffer;
  /** Mutations applied, for failure reports. */
  mutations: string[];
}

/** Packet number `i` of the stream for `seed`. */
export function packet(seed: number, i: number): Generated {
  const r = new Rng(seed, i);
  let b = baseQuery(r);
  const mutations: string[] = [];
  const n = r.chance(0.15) ? 0 : r.pick([1, 1, 1, 2, 2, 3]);
  for (let k = 0; k < n; k++) {
    const [name, f] = r.pick(MUTATIONS);
    b = f(b, r);
    mutations.push(name);
  }
  return { bytes: b, mutations };
}

/** What the header filter must do with a message (runtime.md §2 step 1). */
export type Expectation =
  | { kind: 'drop' }
  | { kind: 'notimp' }
  | { kind: 'formerr' }
  | { kind: 'reply' };

export function expectationOf(b: Uint8Array): Expectation {
  if (b.length < 12) return { kind: 'drop' };
  const bits = (b[2]! << 8) | b[3]!;
  if (bits & 0x8000) return { kind: 'drop' };
  const opcode = (bits >> 11) & 0xf;
  if (opcode !== 0 && opcode !== 4) return { kind: 'notimp' };
  const u16 = (o: number): number => (b[o]! << 8) | b[o + 1]!;
  if (u16(4) !== 1 || u16(6) > 1 || u16(8) > 1 || u16(10) > 2) return { kind: 'formerr' };
  return { kind: 'reply' };
}
