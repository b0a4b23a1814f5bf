/**
 * Byte identity: a hit written as wire bytes must be exactly what the message
 * path (`writeMsg` through the server's scrub: EDNS echo, truncation,
 * compression) produces, for every kind of reply, query and client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTHENTIC_DATA,
  Context,
  Recorder,
  Request,
  ScrubWriter,
  newReply,
  setRcode,
  type Msg,
  type RR,
} from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter, type QueryOptions, type TestWriterOptions } from '@tsdns/testing';
import type { Cache } from '../src/index.js';
import { answer, cacheWith, Clock, fakeNext, rr, serve, SOA_DATA, upstream } from './helpers.js';

/** A reply for a question, by the name's first label. */
type Builder = (q: Msg) => Msg;

function many(q: Msg, n: number, type = 'A'): Msg {
  const name = q.questions[0]!.name;
  const rrs: RR[] = [];
  for (let i = 0; i < n; i++) {
    rrs.push(type === 'A' ? rr(name, 'A', 300, `10.0.${i >> 8}.${i & 255}`) : rr(name, 'AAAA', 300, `2001:db8::${(i + 1).toString(16)}`));
  }
  return answer(q, ...rrs);
}

/**
 * As many A records as fit `limit` bytes (uncompressed, with an OPT of
 * `optLen` bytes), plus `over` more: each is the owner name + 14 bytes.
 */
function fill(q: Msg, limit: number, optLen: number, over: number): Msg {
  const nameLen = q.questions[0]!.name.length + 1;
  const n = Math.floor((limit - 12 - (nameLen + 4) - optLen) / (nameLen + 14));
  return many(q, n + over);
}

const replies: Record<string, Builder> = {
  a: (q) => answer(q, rr(q.questions[0]!.name, 'A', 300, '192.0.2.1')),
  aaaa: (q) => many(q, 3, 'AAAA'),
  cname: (q) =>
    answer(
      q,
      rr(q.questions[0]!.name, 'CNAME', 300, 'first.alias.example.org.'),
      rr('first.alias.example.org.', 'CNAME', 200, 'second.alias.example.net.'),
      rr('second.alias.example.net.', 'A', 100, '192.0.2.7'),
      rr('second.alias.example.net.', 'A', 100, '192.0.2.8'),
    ),
  nxdomain: (q) => {
    const m = newReply(q);
    setRcode(m, 3);
    m.flags |= 0x0080;
    m.authorities.push(rr('example.org.', 'SOA', 900, SOA_DATA));
    return m;
  },
  nodata: (q) => {
    const m = newReply(q);
    m.authorities.push(rr('example.org.', 'SOA', 60, SOA_DATA));
    return m;
  },
  srv: (q) => {
    const m = answer(
      q,
      rr(q.questions[0]!.name, 'SRV', 300, { priority: 10, weight: 5, port: 5060, target: 'sip1.example.org.' }),
      rr(q.questions[0]!.name, 'SRV', 300, { priority: 20, weight: 5, port: 5060, target: 'sip2.example.org.' }),
    );
    m.additionals.push(rr('sip1.example.org.', 'A', 300, '192.0.2.11'), rr('sip2.example.org.', 'AAAA', 300, '2001:db8::11'));
    return m;
  },
  mxtxt: (q) =>
    answer(
      q,
      rr(q.questions[0]!.name, 'MX', 300, { preference: 10, exchange: 'mail.example.org.' }),
      rr(q.questions[0]!.name, 'TXT', 300, [Buffer.from('v=spf1 -all'), Buffer.alloc(200, 0x61)]),
    ),
  delegation: (q) => {
    const m = newReply(q);
    m.authorities.push(rr('sub.example.org.', 'NS', 3600, 'ns1.sub.example.org.'), rr('sub.example.org.', 'NS', 3600, 'ns2.sub.example.org.'));
    m.additionals.push(rr('ns1.sub.example.org.', 'A', 3600, '192.0.2.53'), rr('ns2.sub.example.org.', 'A', 3600, '192.0.2.54'));
    return m;
  },
  servfail: (q) => {
    const m = newReply(q);
    setRcode(m, 2);
    return m;
  },
  dnssec: (q) => {
    const m = answer(q, rr(q.questions[0]!.name, 'A', 300, '192.0.2.1'));
    m.flags |= AUTHENTIC_DATA;
    // an RRSIG as raw RDATA, valid 2020..2100
    const sig = Buffer.alloc(40);
    sig.writeUInt16BE(1, 0);
    sig[2] = 13;
    sig[3] = 3;
    sig.writeUInt32BE(300, 4);
    sig.writeUInt32BE(4102444800, 8);
    sig.writeUInt32BE(1577836800, 12);
    m.answers.push({ name: q.questions[0]!.name, type: 'RRSIG', class: 'IN', ttl: 300, data: sig });
    m.answers.push({ name: q.questions[0]!.name, type: 'TYPE65280', class: 'IN', ttl: 300, data: Buffer.from([1, 2, 3]) });
    return m;
  },
  escaped: (q) => answer(q, rr(q.questions[0]!.name, 'PTR', 300, 'a\\.b\\032c.example.org.'), rr('x\\.y.example.org.', 'A', 300, '192.0.2.3')),
  // A records filling the reply up to a limit exactly (near) or one record beyond (over)
  near512: (q) => fill(q, 512, 0, 0),
  over512: (q) => fill(q, 512, 0, 1),
  near1220: (q) => fill(q, 1220, 11, 0),
  over1220: (q) => fill(q, 1220, 11, 1),
  near1232: (q) => fill(q, 1232, 11, 0),
  over1232: (q) => fill(q, 1232, 11, 1),
  near1480: (q) => fill(q, 1480, 11, 0),
  over1480: (q) => fill(q, 1480, 11, 1),
  big: (q) => many(q, 120, 'AAAA'),
};

interface Client {
  label: string;
  q: QueryOptions;
  w: TestWriterOptions;
  upper?: boolean;
  ad?: boolean;
}

const cookie = { code: 10, data: Buffer.from('0011223344556677', 'hex') };
const ecs = { code: 8, data: Buffer.from([0, 1, 24, 0, 192, 0, 2]) };
const clients: Client[] = [
  { label: 'udp4 no EDNS', q: {}, w: {} },
  { label: 'udp4 EDNS 1232', q: { edns: true }, w: {} },
  { label: 'udp4 EDNS 4096', q: { bufsize: 4096 }, w: {} },
  { label: 'udp6 EDNS 4096 DO', q: { bufsize: 4096, do: true }, w: { remote: '[2001:db8::1]:5353' } },
  { label: 'udp6 EDNS 1232', q: { edns: true }, w: { remote: '[2001:db8::1]:5353' } },
  { label: 'udp4 cookie+ECS+flags, upper case', q: { edns: { udpPayloadSize: 1232, flags: 0x80ff, options: [cookie, ecs, { code: 3, data: Buffer.alloc(0) }] } }, w: {}, upper: true },
  { label: 'udp4 EDNS 100 (raised to 512)', q: { bufsize: 100 }, w: {} },
  { label: 'udp4 AD, CD, no RD', q: { cd: true, rd: false }, w: {}, ad: true },
  { label: 'tcp4 no EDNS', q: {}, w: { proto: 'tcp' } },
  { label: 'tcp6 EDNS DO', q: { do: true }, w: { proto: 'tcp', remote: '[::1]:5353' } },
];

async function hit(c: Cache, name: string, type: string, cl: Client, wire: boolean): Promise<{ raw: Buffer; via: string; compressed: boolean }> {
  c.wireHits = wire;
  const q = makeQuery(cl.upper ? name.toUpperCase() : name, type, { id: 0x4242, ...cl.q });
  if (cl.ad) q.flags |= AUTHENTIC_DATA;
  const w = new TestWriter(cl.w);
  const r = await serveHandler(c, q, { writer: w });
  assert.equal(r.rcode, 0);
  assert.equal(w.written.length, 1);
  const x = w.written[0]!;
  return { raw: x.raw, via: x.via, compressed: x.compressed };
}

test('hits from wire bytes are byte-identical to the message path, for every reply and client', async () => {
  const clock = new Clock();
  let wirePath = 0;
  let fallbacks = 0;
  for (const [kind, build] of Object.entries(replies)) {
    const type = kind === 'aaaa' || kind === 'big' ? 'AAAA' : kind === 'srv' ? 'SRV' : kind === 'mxtxt' ? 'MX' : kind === 'escaped' ? 'PTR' : 'A';
    const name = `${kind}.cache-test.example.org`;
    const c = await cacheWith('.:53 {\n cache\n}', fakeNext(build), clock);
    for (const cl of clients) {
      // fill the entry for this client's key (DO and CD are part of it), then hit it 3 s later
      await hit(c, name, type, cl, true);
      clock.advance(3);
      const fast = await hit(c, name, type, cl, true);
      const slow = await hit(c, name, type, cl, false);
      const what = `${kind} / ${cl.label}`;
      assert.equal(slow.via, 'send', what);
      assert.equal(fast.raw.toString('hex'), slow.raw.toString('hex'), what);
      if (fast.via === 'write') wirePath++;
      else {
        fallbacks++;
        assert.equal(fast.via, 'send');
      }
      clock.advance(-3);
    }
  }
  // most hits take the wire path; truncation and compression fall back
  assert.ok(wirePath > 140, `wire path used ${wirePath} times`);
  assert.ok(fallbacks > 20, `fallbacks ${fallbacks}`);
});

test('which hits fall back to the message path: truncation, compression thresholds, escaped question names', async () => {
  const c = await cacheWith('.:53 {\n cache\n}', fakeNext((q) => (q.questions[0]!.name.startsWith('b') ? many(q, 60) : many(q, 12))));
  const via = async (name: string, cl: Client): Promise<string> => (await hit(c, name, 'A', cl, true)).via;
  await via('small.example.org', clients[8]!);
  await via('big.example.org', clients[8]!);
  assert.equal(await via('small.example.org', clients[0]!), 'write', '405 bytes fit 512');
  assert.equal(await via('big.example.org', clients[0]!), 'send', 'truncated to 512');
  assert.equal(await via('big.example.org', clients[2]!), 'send', '1904 bytes > 1480 over UDP/IPv4: compressed');
  assert.equal(await via('big.example.org', clients[8]!), 'write', 'TCP: no threshold');
  const esc = await cacheWith('.:53 {\n cache\n}', fakeNext((q) => many(q, 1)));
  await hit(esc, 'a\\.b.example.org', 'A', clients[0]!, true);
  assert.equal((await hit(esc, 'a\\.b.example.org', 'A', clients[0]!, true)).via, 'send');
  assert.equal((await hit(esc, 'a\\.b.example.org', 'A', clients[0]!, false)).raw.toString('hex'), (await hit(esc, 'a\\.b.example.org', 'A', clients[0]!, true)).raw.toString('hex'));
});

test('through a Recorder (log, errors) hits are still written as bytes; the recorder sees them', async () => {
  const c = await cacheWith('.:53 {\n cache\n}', fakeNext((q) => many(q, 2)));
  await serveHandler(c, makeQuery('rec.example.org', 'A'));
  const tw = new TestWriter();
  const q = makeQuery('rec.example.org', 'A', { edns: true });
  const rec = new Recorder(new ScrubWriter(tw, new Request(q, tw)));
  c.ServeDNS(Context.background(), rec, q);
  assert.equal(tw.written[0]!.via, 'write');
  assert.equal(rec.wire, tw.written[0]!.raw.length > 0 ? rec.wire : undefined);
  assert.equal(rec.rcode, 0);
  // the recorder counts the reply as CoreDNS's does: before the scrub's OPT echo (11 bytes here)
  assert.equal(rec.len, tw.written[0]!.raw.length - 11);
});

test('over real sockets (UDP and TCP): the wire-path hit is the message-path hit, byte for byte', async () => {
  const up = await upstream((q) => replies['srv']!(q));
  const s = await serve(`.:0 {\n  cache\n  forward . ${up.address}\n}`);
  try {
    for (const tcp of [false, true]) {
      for (const opts of [{}, { edns: true }, { do: true, bufsize: 4096 }] as QueryOptions[]) {
        const q = (): Msg => makeQuery('_sip._udp.Example.org', 'SRV', { id: 7, ...opts });
        await s.server.send(q(), { tcp });
        s.cache.wireHits = true;
        const fast = await s.server.send(q(), { tcp });
        s.cache.wireHits = false;
        const slow = await s.server.send(q(), { tcp });
        assert.equal(fast.raw.toString('hex'), slow.raw.toString('hex'));
        assert.equal(fast.msg.answers.length, 2);
      }
    }
    assert.equal(up.requests.length, 2, 'one miss per key: DO or not (UDP and TCP, EDNS or not, share entries)');
  } finally {
    await s.close();
    await up.close();
  }
});
