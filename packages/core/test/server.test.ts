import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BlockConfig,
  decodeMessage,
  encodeMessage,
  newReply,
  panicsTotal,
  registry,
  Server,
  type Address,
  type ConnWriter,
  type Handler,
  type Msg,
  type ServerBlock,
  type ZoneAddr,
} from '../src/index.js';

class FakeConn implements ConnWriter {
  readonly sent: { msg: Msg; wire: Buffer; compress: boolean }[] = [];
  readonly remote: Address;
  readonly local: Address = { address: '127.0.0.1', port: 53, family: 4 };
  readonly transport = 'udp' as const;
  readonly proto: 'udp' | 'tcp';
  constructor(proto: 'udp' | 'tcp' = 'udp', remote: Address = { address: '192.0.2.9', port: 5300, family: 4 }) {
    this.proto = proto;
    this.remote = remote;
  }
  send(m: Msg, compress: boolean): void {
    const wire = encodeMessage(m, compress);
    this.sent.push({ msg: decodeMessage(wire), wire, compress });
  }
  writeMsg(m: Msg): void {
    this.send(m, false);
  }
  write(wire: Uint8Array): void {
    this.sent.push({ msg: decodeMessage(wire), wire: Buffer.from(wire), compress: false });
  }
}

/** A handler answering NOERROR with one TXT naming the block it belongs to. */
function namer(label: string): Handler {
  return {
    name: 'namer',
    ServeDNS(_ctx, w, r) {
      const m = newReply(r);
      m.answers.push({ name: r.questions[0]!.name, type: 'TXT', class: 'IN', ttl: 0, data: [Buffer.from(label)] });
      w.writeMsg(m);
      return 0;
    },
  };
}

function block(index: number, zones: string[], handler?: Handler): BlockConfig {
  const sb: ServerBlock = { keys: zones, keyTokens: [], tokens: new Map() };
  const addrs: ZoneAddr[] = zones.map((zone) => ({ transport: 'dns', zone, port: '53' }));
  const b = new BlockConfig(index, sb, addrs);
  if (handler) b.plugins.push({ directive: handler.name, plugin: () => handler });
  b.buildChain();
  return b;
}

function serverOf(...blocks: BlockConfig[]): Server {
  return new Server({ addr: 'dns://:53', configs: blocks.flatMap((b) => b.addrs.map((addr) => ({ addr, block: b }))) });
}

function q(name: string, type = 'A', opts: { flags?: number; opt?: Msg['additionals'][number]; klass?: string } = {}): Buffer {
  return encodeMessage({
    id: 4242,
    type: 'query',
    flags: opts.flags ?? 0x0100,
    questions: [{ name, type, class: opts.klass ?? 'IN' }],
    answers: [],
    authorities: [],
    additionals: opts.opt ? [opts.opt] : [],
  });
}

function answerLabel(c: FakeConn): string {
  const rr = c.sent[0]!.msg.answers[0] as unknown as { data: Buffer[] };
  return rr.data[0]!.toString();
}

test('longest matching zone wins; the root block is the last resort', () => {
  const s = serverOf(block(0, ['.'], namer('root')), block(1, ['example.org.'], namer('org')), block(2, ['a.example.org.'], namer('a')));
  for (const [name, want] of [['x.a.example.org.', 'a'], ['b.example.org.', 'org'], ['EXAMPLE.org.', 'org'], ['example.com.', 'root'], ['.', 'root']] as const) {
    const c = new FakeConn();
    s.serve(q(name), c);
    assert.equal(answerLabel(c), want, name);
    assert.equal(c.sent[0]!.msg.questions[0]!.name, name, 'question echoed as sent');
  }
});

test('no matching zone is REFUSED with the question echoed; an empty block is REFUSED', () => {
  const s = serverOf(block(0, ['example.org.'], namer('org')), block(1, ['empty.example.org.']));
  const c = new FakeConn();
  s.serve(q('example.net.'), c);
  assert.equal(c.sent[0]!.msg.flags & 0xf, 5);
  assert.equal(c.sent[0]!.msg.questions[0]!.name, 'example.net.');
  const e = new FakeConn();
  s.serve(q('www.empty.example.org.'), e);
  assert.equal(e.sent[0]!.msg.flags & 0xf, 5, 'empty block does not fall back to the parent zone');
});

test('DS queries go to the parent-most matching zone', () => {
  const s = serverOf(block(0, ['example.org.'], namer('parent')), block(1, ['sub.example.org.'], namer('child')));
  const c = new FakeConn();
  s.serve(q('sub.example.org.', 'DS'), c);
  assert.equal(answerLabel(c), 'parent');
  const a = new FakeConn();
  s.serve(q('sub.example.org.', 'A'), a);
  assert.equal(answerLabel(a), 'child');
});

test('header filter: responses dropped, bad opcode NOTIMP, bad counts FORMERR, short packets dropped', () => {
  const s = serverOf(block(0, ['.'], namer('root')));
  const resp = new FakeConn();
  const qr = Buffer.from(q('example.org.'));
  qr[2]! |= 0x80;
  s.serve(qr, resp);
  assert.equal(resp.sent.length, 0);

  const notimp = new FakeConn();
  s.serve(q('example.org.', 'A', { flags: (2 << 11) | 0x0100 | 0x0400 | 0x0040 }), notimp);
  const m = notimp.sent[0]!.msg;
  assert.equal(m.flags & 0xf, 4);
  assert.equal((m.flags >> 11) & 0xf, 2, 'opcode echoed for NOTIMP');
  assert.equal(m.flags & 0x0400, 0, 'AA cleared');
  assert.equal(m.flags & 0x0040, 0, 'Z cleared');
  assert.equal(m.flags & 0x0100, 0x0100, 'RD kept');
  assert.equal(m.questions.length, 0);
  assert.equal(notimp.sent[0]!.wire.length, 12);

  const two = Buffer.from(q('example.org.'));
  two.writeUInt16BE(2, 4);
  const formerr = new FakeConn();
  s.serve(two, formerr);
  assert.equal(formerr.sent[0]!.msg.flags & 0xf, 1);
  assert.equal(formerr.sent[0]!.wire.length, 12);

  const short = new FakeConn();
  s.serve(Buffer.from([1, 2, 3]), short);
  assert.equal(short.sent.length, 0);
});

test('a body that fails to decode is FORMERR with the question if it was read', () => {
  const s = serverOf(block(0, ['.'], namer('root')));
  const bad = Buffer.concat([q('example.org.'), Buffer.from('c00c00010001000000000010', 'hex')]);
  bad.writeUInt16BE(1, 6); // one answer whose rdata overruns the message
  const c = new FakeConn();
  s.serve(bad, c);
  assert.equal(c.sent[0]!.msg.flags & 0xf, 1);
  assert.equal(c.sent[0]!.msg.questions[0]!.name, 'example.org.');
  assert.equal(c.sent[0]!.msg.additionals.length, 0, 'no OPT on header-level errors');
});

test('a header-only query with QDCOUNT=1 gets SERVFAIL', () => {
  const s = serverOf(block(0, ['.'], namer('root')));
  const c = new FakeConn();
  s.serve(Buffer.from('002a01000001000000000000', 'hex'), c);
  assert.equal(c.sent[0]!.msg.flags & 0xf, 2);
  assert.equal(c.sent[0]!.msg.id, 42);
});

test('non-IN class is REFUSED unless a forward-like plugin is on the listener', () => {
  const s = serverOf(block(0, ['.'], namer('root')));
  const c = new FakeConn();
  s.serve(q('version.bind.', 'TXT', { klass: 'CH' }), c);
  assert.equal(c.sent[0]!.msg.flags & 0xf, 5);
  const fwd = namer('fwd');
  const s2 = serverOf(block(0, ['.'], { ...fwd, name: 'forward' }));
  const c2 = new FakeConn();
  s2.serve(q('version.bind.', 'TXT', { klass: 'CH' }), c2);
  assert.equal(answerLabel(c2), 'fwd');
});

test('EDNS version 1 gets BADVERS with OPT size 0 and no plugin runs', () => {
  let ran = false;
  const h: Handler = { name: 'x', ServeDNS: () => ((ran = true), 0) };
  const s = serverOf(block(0, ['.'], h));
  const c = new FakeConn();
  s.serve(q('example.org.', 'A', { opt: { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 1, flags: 0x8000, options: [] } }), c);
  assert.equal(ran, false);
  const wire = c.sent[0]!.wire;
  // header rcode 0, OPT: name 00, type 0029, class 0000, ttl 01000000, rdlen 0000
  assert.equal(wire.readUInt16BE(2) & 0xf, 0);
  assert.equal(wire.subarray(wire.length - 11).toString('hex'), '0000290000010000000000');
});

test('OPT echo: client size and DO echoed, cookie kept, unsupported option dropped', () => {
  const s = serverOf(block(0, ['.'], namer('root')));
  const c = new FakeConn();
  const opt = {
    name: '.',
    type: 'OPT' as const,
    udpPayloadSize: 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0x8000 | 0x0001,
    options: [
      { code: 10, data: Buffer.from('0102030405060708', 'hex') },
      { code: 8, data: Buffer.from('00011800c0000200', 'hex').subarray(0, 7) },
    ],
  };
  s.serve(q('example.org.', 'A', { opt }), c);
  const o = c.sent[0]!.msg.additionals.at(-1) as { udpPayloadSize: number; flags: number; options: { code: number }[] };
  assert.equal(o.udpPayloadSize, 1232);
  assert.equal(o.flags, 0x8000, 'DO kept, low Z bits cleared');
  assert.deepEqual(
    o.options.map((x) => x.code),
    [10],
  );
});

test('a handler that throws gets SERVFAIL and counts a panic; the server keeps serving', async () => {
  const boom: Handler = {
    name: 'boom',
    ServeDNS(_ctx, _w, r) {
      if (r.questions[0]!.name.startsWith('async')) return Promise.reject(new Error('async boom'));
      throw new Error('boom');
    },
  };
  const s = serverOf(block(0, ['.'], boom));
  const before = (await registry.getSingleMetric('coredns_panics_total')!.get()).values[0]?.value ?? 0;
  const c = new FakeConn();
  s.serve(q('sync.example.'), c);
  assert.equal(c.sent[0]!.msg.flags & 0xf, 2);
  const a = new FakeConn();
  await s.serve(q('async.example.'), a);
  assert.equal(a.sent[0]!.msg.flags & 0xf, 2);
  const after = (await panicsTotal.get()).values[0]!.value;
  assert.equal(after - before, 2);
});

test('large UDP replies are compressed; TCP replies of the same size are not', () => {
  const big: Handler = {
    name: 'big',
    ServeDNS(_ctx, w, r) {
      const m = newReply(r);
      for (let i = 0; i < 100; i++) m.answers.push({ name: r.questions[0]!.name, type: 'A', class: 'IN', ttl: 1, data: `10.0.0.${i}` });
      w.writeMsg(m);
      return 0;
    },
  };
  const s = serverOf(block(0, ['.'], big));
  const opt = { name: '.', type: 'OPT' as const, udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] };
  const u = new FakeConn('udp');
  s.serve(q('a-rather-long-name.example.org.', 'A', { opt }), u);
  assert.equal(u.sent[0]!.compress, true, 'over 1480 bytes uncompressed on IPv4 UDP');
  assert.equal(u.sent[0]!.msg.answers.length, 100);
  const t = new FakeConn('tcp');
  s.serve(q('a-rather-long-name.example.org.', 'A', { opt }), t);
  assert.equal(t.sent[0]!.compress, false);
  const small = new FakeConn('udp');
  s.serve(q('a-rather-long-name.example.org.'), small);
  assert.equal(small.sent[0]!.msg.flags & 0x0200, 0x0200, 'no EDNS: truncated to 512');
  assert.ok(small.sent[0]!.wire.length <= 512);
});

test('lookupSelf resolves through the same server, with a bound on nesting', async () => {
  const { lookupSelf, Request: Req, MAX_SELF_LOOKUPS } = await import('../src/index.js');
  let depthSeen = 0;
  const resolver: Handler = {
    name: 'resolver',
    async ServeDNS(ctx, w, r) {
      const q = r.questions[0]!;
      const m = newReply(r);
      if (q.name === 'target.example.') {
        m.answers.push({ name: q.name, type: 'A', class: 'IN', ttl: 5, data: '192.0.2.53' });
      } else if (q.name === 'loop.example.') {
        depthSeen = Math.max(depthSeen, ctx.selfLookups);
        const inner = await lookupSelf(ctx, new Req(r, w), 'loop.example.', 'A');
        if (inner) m.answers.push(...inner.answers);
      } else {
        const inner = await lookupSelf(ctx, new Req(r, w), 'target.example.', 'A');
        m.answers.push({ name: q.name, type: 'CNAME', class: 'IN', ttl: 5, data: 'target.example.' }, ...(inner?.answers ?? []));
      }
      w.writeMsg(m);
      return 0;
    },
  };
  const s = serverOf(block(0, ['example.'], resolver));
  const c = new FakeConn();
  await s.serve(q('alias.example.'), c);
  const ans = c.sent[0]!.msg.answers as unknown as { type: string; data: string }[];
  assert.deepEqual(
    ans.map((a) => [a.type, a.data]),
    [
      ['CNAME', 'target.example.'],
      ['A', '192.0.2.53'],
    ],
  );
  assert.equal(c.sent.length, 1, 'the inner lookup wrote nothing to the client');
  const l = new FakeConn();
  await s.serve(q('loop.example.'), l);
  assert.equal(depthSeen, MAX_SELF_LOOKUPS);
  assert.equal(l.sent.length, 1);
});
