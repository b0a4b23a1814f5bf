/**
 * The header filter and EDNS handling in front of the plugins (runtime.md §2
 * step 1-5 and §5): dropped packets, NOTIMP, FORMERR, SERVFAIL for a
 * header-only query, REFUSED for CH, BADVERS, the OPT echo rules and the
 * 512-byte UDP read buffer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DNSSEC_OK, EDNS, RCODE, decodeMessage, encodeMessage, getOpt, type Msg } from '@tsdns/core';
import {
  DnsTcpClient,
  makeQuery,
  packQuery,
  queryTcp,
  queryUdp,
  udpNoReply,
  type DnsReply,
  type TsdnsProcess,
} from '@tsdns/testing';
import { HOST, assertWhoami, hex, startWhoami } from './helpers.js';

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const Z = 0x0040;
const AD = 0x0020;
const CD = 0x0010;

/** Sets the 16-bit header word at byte `off`. */
function setU16(b: Buffer, off: number, v: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt16BE(v, off);
  return c;
}

function header(r: DnsReply): { id: number; bits: number; qd: number; an: number; ns: number; ar: number } {
  const b = r.raw;
  return { id: b.readUInt16BE(0), bits: b.readUInt16BE(2), qd: b.readUInt16BE(4), an: b.readUInt16BE(6), ns: b.readUInt16BE(8), ar: b.readUInt16BE(10) };
}

/** A valid query, then raw surgery. */
function raw(name = 'hdr.example.', type = 'A', id = 0x1111): Buffer {
  return packQuery(name, type, { id });
}

describe('header filter and EDNS', { concurrency: true }, () => {
  let p: TsdnsProcess;
  let port: number;

  before(async () => {
    ({ p, port } = await startWhoami());
  });
  after(() => {
    p?.kill('SIGKILL');
  });

  /** Sends over UDP and TCP; returns both replies. */
  async function both(b: Buffer): Promise<DnsReply[]> {
    return [await queryUdp(HOST, port, b), await queryTcp(HOST, port, b)];
  }

  /** On TCP, a dropped message is followed by a valid query whose reply must come first. */
  async function tcpDropped(b: Buffer): Promise<void> {
    const c = await DnsTcpClient.connect(HOST, port);
    try {
      c.send(b, makeQuery('after.example.', 'A', { id: 0xabcd }));
      const r = await c.next();
      assert.equal(r.id, 0xabcd, `the dropped message got a reply: ${hex(r.raw)}`);
      assertWhoami(r.msg, { id: 0xabcd, qname: 'after.example.', proto: 'tcp', port: c.localPort });
    } finally {
      c.close();
    }
  }

  it('QR=1 messages are dropped silently (UDP and TCP)', async () => {
    const b = setU16(raw(), 2, QR | RD);
    assert.ok(await udpNoReply(HOST, port, b, 300), 'no UDP reply to a response');
    await tcpDropped(b);
  });

  it('messages shorter than 12 bytes are dropped (UDP and TCP)', async () => {
    for (const n of [0, 1, 2, 5, 11]) {
      const b = raw().subarray(0, n);
      if (n > 0) assert.ok(await udpNoReply(HOST, port, b, 200), `no UDP reply to ${n} bytes`);
      await tcpDropped(b);
    }
  });

  it('opcodes other than QUERY/NOTIFY get NOTIMP: header echoed (opcode, RD, TC, RA, AD, CD), AA and Z cleared, no sections', async () => {
    for (const opcode of [1, 2, 3, 5, 6, 15]) {
      const flags = (opcode << 11) | AA | TC | RD | RA | Z | AD | CD | 3;
      const b = setU16(raw('notimp.example.', 'SOA', 0x2000 + opcode), 2, flags);
      for (const r of await both(b)) {
        const h = header(r);
        assert.equal(h.id, 0x2000 + opcode);
        const want = QR | (opcode << 11) | TC | RD | RA | AD | CD | RCODE.NOTIMP;
        assert.equal(h.bits.toString(16), want.toString(16), `opcode ${opcode} ${r.proto}`);
        assert.deepEqual([h.qd, h.an, h.ns, h.ar], [0, 0, 0, 0], 'no question, no records');
        assert.equal(r.raw.length, 12);
      }
    }
  });

  it('NOTIFY (opcode 4) is routed like a query', async () => {
    const q = makeQuery('notify.example.', 'SOA', { id: 0x4444, opcode: 4 });
    const r = await queryUdp(HOST, port, q);
    assert.equal((r.msg.flags >> 11) & 0xf, 4, 'opcode echoed');
    assertWhoami(r.msg, { id: 0x4444, qname: 'notify.example.', proto: 'udp', port: r.localPort, rd: false });
  });

  it('wrong section counts get FORMERR: opcode QUERY, AA cleared, other bits echoed, no question', async () => {
    const cases: [string, number, number][] = [
      ['QDCOUNT=0', 4, 0],
      ['QDCOUNT=2', 4, 2],
      ['ANCOUNT=2', 6, 2],
      ['NSCOUNT=2', 8, 2],
      ['ARCOUNT=3', 10, 3],
      ['ARCOUNT=65535', 10, 65535],
    ];
    for (const [label, off, v] of cases) {
      const b = setU16(setU16(raw('formerr.example.', 'A', 0x3333), 2, (4 << 11) | AA | RD | CD | AD), off, v);
      for (const r of await both(b)) {
        const h = header(r);
        assert.equal(h.id, 0x3333, label);
        assert.equal(h.bits.toString(16), (QR | RD | CD | AD | RCODE.FORMERR).toString(16), `${label} ${r.proto}`);
        assert.deepEqual([h.qd, h.an, h.ns, h.ar], [0, 0, 0, 0], label);
      }
    }
  });

  it('ANCOUNT=1, NSCOUNT=1, ARCOUNT=2 are accepted', async () => {
    const q: Msg = makeQuery('counts.example.', 'A', { id: 0x5151, edns: true });
    q.answers.push({ name: 'counts.example.', type: 'A', ttl: 10, data: '192.0.2.1' });
    q.authorities.push({ name: 'example.', type: 'NS', ttl: 10, data: 'ns.example.' });
    q.additionals.unshift({ name: 'ns.example.', type: 'A', ttl: 10, data: '192.0.2.2' });
    const r = await queryUdp(HOST, port, q);
    assertWhoami(r.msg, { id: 0x5151, qname: 'counts.example.', proto: 'udp', port: r.localPort });
  });

  it('a body that does not decode gets FORMERR without a question when the question itself is broken', async () => {
    const base = raw('garbage.example.', 'A', 0x6161);
    const broken: [string, Buffer][] = [
      ['label type 0x40', Buffer.concat([base.subarray(0, 12), Buffer.from([0x40, 1, 2, 3, 0, 0, 1, 0, 1])])],
      ['label type 0x80', Buffer.concat([base.subarray(0, 12), Buffer.from([0x80, 1, 0, 0, 1, 0, 1])])],
      ['name cut short', base.subarray(0, 16)],
      ['pointer loop', Buffer.concat([base.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])])],
      ['pointer past the end', Buffer.concat([base.subarray(0, 12), Buffer.from([0xc0, 200, 0, 1, 0, 1])])],
      ['half a type', base.subarray(0, base.length - 3)],
      ['name over 255 octets', Buffer.concat([base.subarray(0, 12), Buffer.from(Array.from({ length: 5 }, () => [63, ...Buffer.alloc(63, 0x61)]).flat()), Buffer.from([0, 0, 1, 0, 1])])],
    ];
    for (const [label, b] of broken) {
      for (const r of await both(b)) {
        const h = header(r);
        assert.equal(h.id, 0x6161, label);
        assert.equal(h.bits & 0xf, RCODE.FORMERR, `${label} ${r.proto}: ${hex(r.raw)}`);
        assert.equal(h.bits & QR, QR);
        assert.deepEqual([h.qd, h.an, h.ns, h.ar], [0, 0, 0, 0], label);
      }
    }
  });

  it('a body that breaks after the question gets FORMERR with the question echoed, no OPT', async () => {
    // EDNS query whose OPT record is cut in the middle of its option data
    const full = encodeMessage(makeQuery('Cut.Example.', 'MX', { id: 0x7171, edns: { options: [{ code: EDNS.COOKIE, data: Buffer.alloc(8, 7) }] } }));
    const b = full.subarray(0, full.length - 4);
    for (const r of await both(b)) {
      const h = header(r);
      assert.equal(h.id, 0x7171);
      assert.equal(h.bits & 0xf, RCODE.FORMERR, r.proto);
      assert.deepEqual([h.qd, h.an, h.ns, h.ar], [1, 0, 0, 0], 'only the question');
      assert.deepEqual(r.msg.questions, [{ name: 'Cut.Example.', type: 'MX', class: 'IN' }]);
    }
    // an answer record with a bad rdlength
    const q = makeQuery('rr.example.', 'A', { id: 0x7272 });
    q.answers.push({ name: 'rr.example.', type: 'A', ttl: 1, data: '192.0.2.1' });
    const w = encodeMessage(q);
    w.writeUInt16BE(5, w.length - 6); // RDLENGTH 5 with 4 bytes left
    for (const r of await both(w)) {
      assert.equal(header(r).bits & 0xf, RCODE.FORMERR, r.proto);
      assert.equal(r.msg.questions[0]!.name, 'rr.example.');
    }
    // a malformed EDNS option (ECS with an unknown family)
    const ecs = makeQuery('ecs.example.', 'A', { id: 0x7373, edns: { options: [{ code: EDNS.SUBNET, data: Buffer.from([0, 9, 0, 0]) }] } });
    for (const r of await both(encodeMessage(ecs))) {
      assert.equal(header(r).bits & 0xf, RCODE.FORMERR, r.proto);
      assert.equal(r.msg.questions[0]!.name, 'ecs.example.');
      assert.equal(getOpt(r.msg), undefined);
    }
  });

  it('a header-only message with QDCOUNT=1 gets SERVFAIL (no question to route)', async () => {
    const b = raw('x.', 'A', 0x8181).subarray(0, 12);
    for (const r of await both(b)) {
      const h = header(r);
      assert.equal(h.id, 0x8181);
      assert.equal(h.bits.toString(16), (QR | RD | RCODE.SERVFAIL).toString(16), r.proto);
      assert.deepEqual([h.qd, h.an, h.ns, h.ar], [0, 0, 0, 0]);
    }
  });

  it('a question cut after its name has type and class 0: REFUSED (not class IN)', async () => {
    const full = raw('cut.example.', 'A', 0x8282);
    const b = full.subarray(0, full.length - 4);
    for (const r of await both(b)) {
      assert.equal(header(r).bits & 0xf, RCODE.REFUSED, r.proto);
      assert.equal(r.msg.questions[0]!.name, 'cut.example.');
    }
  });

  it('class CH is REFUSED when no chaos/forward plugin is on the listener', async () => {
    for (const cls of ['CH', 'HS', 'ANY']) {
      const q = makeQuery('version.bind.', 'TXT', { class: cls, id: 0x9191 });
      for (const r of [await queryUdp(HOST, port, q), await queryTcp(HOST, port, q)]) {
        assert.equal(r.msg.id, 0x9191);
        assert.equal(r.msg.flags & 0xf, RCODE.REFUSED, `${cls} ${r.proto}`);
        assert.equal(r.msg.flags & AA, 0);
        assert.deepEqual(r.msg.questions, [{ name: 'version.bind.', type: 'TXT', class: cls }]);
        assert.equal(r.msg.additionals.length, 0);
      }
    }
  });

  it('EDNS version 1 gets BADVERS: rcode 0 in the header, OPT version 0, extended rcode 1, size 0, no DO', async () => {
    const q = makeQuery('badvers.example.', 'A', {
      id: 0xa1a1,
      edns: { version: 1, udpPayloadSize: 4096, do: true, options: [{ code: EDNS.COOKIE, data: Buffer.alloc(8, 1) }] },
    });
    for (const r of [await queryUdp(HOST, port, q), await queryTcp(HOST, port, q)]) {
      const m = r.msg;
      assert.equal(m.id, 0xa1a1);
      assert.equal(m.flags & 0xf, 0, 'header rcode bits 0');
      assert.equal(m.flags & AA, 0, 'no AA: no plugin ran');
      assert.equal(m.flags & RD, RD, 'RD copied');
      assert.deepEqual(m.questions, [{ name: 'badvers.example.', type: 'A', class: 'IN' }]);
      assert.equal(m.answers.length, 0);
      assert.equal(m.additionals.length, 1, 'only the OPT');
      assert.deepEqual(getOpt(m), { name: '.', type: 'OPT', udpPayloadSize: 0, extendedRcode: 1, ednsVersion: 0, flags: 0, options: [] });
    }
  });

  it('OPT echo: client cookie echoed verbatim, unsupported options dropped, DO echoed, client size echoed, low flag bits cleared', async () => {
    const cookie = Buffer.from('0011223344556677aabbccddeeff0011', 'hex');
    const q = makeQuery('echo.example.', 'A', {
      id: 0xb1b1,
      edns: {
        udpPayloadSize: 1400,
        flags: DNSSEC_OK | 0x00ff,
        extendedRcode: 5,
        options: [
          { code: EDNS.SUBNET, data: Buffer.from([0, 1, 24, 0, 192, 0, 2]) },
          { code: EDNS.COOKIE, data: cookie },
          { code: 65000, data: Buffer.from('x') },
          { code: EDNS.PADDING, data: Buffer.alloc(4) },
        ],
      },
    });
    for (const r of [await queryUdp(HOST, port, q), await queryTcp(HOST, port, q)]) {
      const opt = getOpt(r.msg)!;
      assert.ok(opt, 'OPT echoed');
      assert.equal(opt.udpPayloadSize, 1400, 'client size echoed');
      assert.equal(opt.flags, DNSSEC_OK, 'DO kept, low 8 flag bits cleared');
      assert.equal(opt.extendedRcode, 0);
      assert.equal(opt.ednsVersion, 0);
      assert.deepEqual(
        opt.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]),
        [
          [EDNS.COOKIE, cookie.toString('hex')],
          [EDNS.PADDING, '00000000'],
        ],
      );
      assertWhoami(r.msg, { id: 0xb1b1, qname: 'echo.example.', proto: r.proto, port: r.localPort });
    }
  });

  it('the advertised size is echoed as sent, even below 512', async () => {
    for (const size of [0, 100, 511, 512, 65535]) {
      const r = await queryUdp(HOST, port, makeQuery('size.example.', 'A', { bufsize: size }));
      assert.equal(getOpt(r.msg)!.udpPayloadSize, size, `size ${size}`);
      assert.equal(getOpt(r.msg)!.flags & DNSSEC_OK, 0, 'no DO when not asked');
    }
  });

  it('UDP queries are read into a 512-byte buffer: longer ones are cut (FORMERR), TCP takes them whole', async () => {
    const big = makeQuery('big.example.', 'A', { id: 0xc1c1, edns: { options: [{ code: EDNS.PADDING, data: Buffer.alloc(600) }] } });
    const wire = encodeMessage(big);
    assert.ok(wire.length > 512);
    const u = await queryUdp(HOST, port, wire);
    assert.equal(header(u).bits & 0xf, RCODE.FORMERR, `UDP >512: ${hex(u.raw.subarray(0, 12))}`);
    assert.equal(u.msg.questions[0]!.name, 'big.example.', 'question echoed (decoded before the cut)');
    const t = await queryTcp(HOST, port, wire);
    assertWhoami(t.msg, { id: 0xc1c1, qname: 'big.example.', proto: 'tcp', port: t.localPort });
    assert.equal(getOpt(t.msg)!.options[0]!.data.length, 600, 'padding echoed over TCP');
    // exactly 512 bytes is fine over UDP
    const pad = 512 - (wire.length - 600);
    const exact = encodeMessage(makeQuery('big.example.', 'A', { id: 0xc2c2, edns: { options: [{ code: EDNS.PADDING, data: Buffer.alloc(pad) }] } }));
    assert.equal(exact.length, 512);
    const e = await queryUdp(HOST, port, exact);
    assertWhoami(e.msg, { id: 0xc2c2, qname: 'big.example.', proto: 'udp', port: e.localPort });
  });

  it('trailing garbage after a complete message is ignored', async () => {
    const b = Buffer.concat([raw('trail.example.', 'A', 0xd1d1), Buffer.from('garbage')]);
    for (const r of await both(b)) assertWhoami(r.msg, { id: 0xd1d1, qname: 'trail.example.', proto: r.proto, port: r.localPort });
  });

  it('a header count larger than the records present is tolerated when the message ends on a record boundary', async () => {
    const b = setU16(packQuery('lie.example.', 'A', { id: 0xe1e1, edns: true }), 10, 2);
    for (const r of await both(b)) assertWhoami(r.msg, { id: 0xe1e1, qname: 'lie.example.', proto: r.proto, port: r.localPort });
  });

  it('replies decode and echo the ID for every rejection', async () => {
    // sanity: the replies above are all decodable with the core codec
    const r = await queryUdp(HOST, port, setU16(raw(), 4, 0));
    assert.doesNotThrow(() => decodeMessage(r.raw));
  });
});
