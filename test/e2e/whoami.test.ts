/**
 * whoami end to end: the real tsdns answering real clients over UDP and TCP
 * (raw clients, Node's resolver, dig).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DNSSEC_OK, EDNS, encodeMessage, getOpt, type OptRecord } from '@tsdns/core';
import { DnsTcpClient, freePort, makeQuery, queryTcp, queryUdp, type TsdnsProcess } from '@tsdns/testing';
import { HOST, assertWhoami, dig, requireDig, ipv6Loopback, resolver, resolverCode, startWhoami } from './helpers.js';

describe('whoami over the wire', { concurrency: true }, () => {
  let p: TsdnsProcess;
  let port: number;

  before(async () => {
    ({ p, port } = await startWhoami());
  });
  after(async () => {
    p?.kill('SIGKILL');
  });

  it('UDP: A of the client, SRV _udp. with the source port, AA, TTL 0, case kept', async () => {
    const q = makeQuery('ExAmPle.ORG.', 'A', { id: 0x4242 });
    const r = await queryUdp(HOST, port, q);
    assertWhoami(r.msg, { id: 0x4242, qname: 'ExAmPle.ORG.', qtype: 'A', proto: 'udp', port: r.localPort, rd: true });
    assert.equal(getOpt(r.msg), undefined, 'no OPT without EDNS in the query');
  });

  it('TCP: SRV _tcp. with the connection source port', async () => {
    const q = makeQuery('WhoAmI.Test.', 'AAAA', { id: 7, rd: false });
    const r = await queryTcp(HOST, port, q);
    assertWhoami(r.msg, { id: 7, qname: 'WhoAmI.Test.', qtype: 'AAAA', proto: 'tcp', port: r.localPort, rd: false });
  });

  it('qname "." gives SRV owners _udp. and _tcp.', async () => {
    const u = await queryUdp(HOST, port, makeQuery('.', 'NS'));
    assertWhoami(u.msg, { qname: '.', proto: 'udp', port: u.localPort });
    const t = await queryTcp(HOST, port, makeQuery('.', 'NS'));
    assertWhoami(t.msg, { qname: '.', proto: 'tcp', port: t.localPort });
  });

  it('answers every qtype the same way (MX, TXT, ANY, an unknown type)', async () => {
    for (const type of ['MX', 'TXT', 'ANY', 'TYPE65280', 'SRV', 'PTR']) {
      const r = await queryUdp(HOST, port, makeQuery('x.example.', type));
      assertWhoami(r.msg, { qname: 'x.example.', qtype: type, proto: 'udp', port: r.localPort });
    }
  });

  it('EDNS: the OPT is echoed with the client size and DO bit', async () => {
    const q = makeQuery('edns.example.', 'A', { edns: { udpPayloadSize: 4000, do: true } });
    const r = await queryUdp(HOST, port, q);
    assertWhoami(r.msg, { qname: 'edns.example.', proto: 'udp', port: r.localPort });
    const opt = getOpt(r.msg) as OptRecord;
    assert.ok(opt, 'OPT present');
    assert.equal(opt.udpPayloadSize, 4000);
    assert.equal(opt.flags & DNSSEC_OK, DNSSEC_OK);
    assert.equal(opt.ednsVersion, 0);
    assert.equal(r.msg.additionals.at(-1)!.type, 'OPT', 'OPT is the last additional record');
  });

  it('many queries on one TCP connection report the same source port', async () => {
    const c = await DnsTcpClient.connect(HOST, port);
    try {
      for (let i = 0; i < 20; i++) {
        const r = await c.query(makeQuery(`q${i}.example.`, 'A', { id: i }));
        assertWhoami(r.msg, { id: i, qname: `q${i}.example.`, proto: 'tcp', port: c.localPort });
      }
    } finally {
      c.close();
    }
  });

  it('IPv6 client over ::1 gets an AAAA record', async () => {
    assert.ok(await ipv6Loopback(), '::1 is not usable on this machine (IPv6 loopback is required)');
    const r = await queryUdp('::1', port, makeQuery('v6.example.', 'A'));
    assertWhoami(r.msg, { qname: 'v6.example.', proto: 'udp', port: r.localPort, address: '::1' });
    const t6 = await queryTcp('::1', port, makeQuery('v6.example.', 'A'));
    assertWhoami(t6.msg, { qname: 'v6.example.', proto: 'tcp', port: t6.localPort, address: '::1' });
  });

  it("Node's resolver: NOERROR without answers (whoami puts its records in the additional section)", async () => {
    const res = resolver(port);
    assert.equal(await resolverCode(res.resolve4('resolver.example')), 'ENODATA');
    assert.equal(await resolverCode(res.resolveSrv('_udp.resolver.example')), 'ENODATA');
    assert.equal(await resolverCode(res.resolveTxt('.')), 'ENODATA');
  });

  it('dig over UDP: flags, additional section, SRV port = dig source port', async () => {
    requireDig();
    const src = await freePort();
    const d = await dig(port, ['-b', `${HOST}#${src}`, 'DiG.Example.ORG', 'A', '+noedns']);
    assert.equal(d.code, 0, d.stdout);
    assert.equal(d.status, 'NOERROR');
    assert.deepEqual(d.flags, ['qr', 'aa', 'rd']);
    assert.equal(d.transport, 'UDP');
    assert.deepEqual(d.question, [{ name: 'DiG.Example.ORG.', class: 'IN', type: 'A' }]);
    assert.deepEqual(d.answer, []);
    assert.deepEqual(d.additional, [
      { name: 'DiG.Example.ORG.', ttl: 0, class: 'IN', type: 'A', data: HOST },
      { name: '_udp.DiG.Example.ORG.', ttl: 0, class: 'IN', type: 'SRV', data: `0 0 ${src} .` },
    ]);
    assert.equal(d.edns, undefined);
  });

  it('dig over TCP with EDNS, DO and a cookie: the cookie is echoed', async () => {
    requireDig();
    const d = await dig(port, ['+tcp', '+dnssec', '+cookie', '+bufsize=1400', 'tcp.example', 'TXT']);
    assert.equal(d.status, 'NOERROR', d.stdout);
    assert.equal(d.transport, 'TCP');
    assert.deepEqual(d.flags, ['qr', 'aa', 'rd']);
    assert.deepEqual(d.edns, { version: 0, flags: ['do'], udp: 1400 });
    assert.ok(d.cookie, 'cookie line present');
    assert.match(d.stdout, /; COOKIE: [0-9a-f]{16} \(echoed\)/);
    assert.equal(d.additional.length, 2);
    assert.equal(d.additional[0]!.type, 'A');
    assert.equal(d.additional[1]!.name, '_tcp.tcp.example.');
    assert.match(d.additional[1]!.data, /^0 0 \d+ \.$/);
  });

  it('dig for the root name', async () => {
    requireDig();
    const d = await dig(port, ['.', 'A']);
    assert.equal(d.status, 'NOERROR', d.stdout);
    assert.equal(d.additional[1]!.name, '_udp.');
  });

  it('a reply over 512 bytes to a UDP query without EDNS is sent compressed, not truncated', async () => {
    const label = 'a'.repeat(25) + 'B'.repeat(25);
    const qname = `${label}.${label}.${label}.${label}.`; // 205 octets on the wire
    const r = await queryUdp(HOST, port, makeQuery(qname, 'A', { id: 21 }));
    assertWhoami(r.msg, { id: 21, qname, proto: 'udp', port: r.localPort });
    assert.equal(r.msg.flags & 0x0200, 0, 'TC not set');
    // header + question + A with a pointer owner + SRV `_udp` + pointer (miekg's compression)
    assert.equal(r.raw.length, 12 + (205 + 4) + (2 + 10 + 4) + (5 + 2 + 10 + 6 + 1));
    // with a large EDNS buffer it fits uncompressed and is sent uncompressed
    const e = await queryUdp(HOST, port, makeQuery(qname, 'A', { id: 22, bufsize: 4096 }));
    assertWhoami(e.msg, { id: 22, qname, proto: 'udp', port: e.localPort });
    assert.equal(e.raw.length, 12 + (205 + 4) + (205 + 10 + 4) + (5 + 205 + 10 + 6 + 1) + 11);
  });

  it('a reply that cannot fit the client buffer is truncated: TC set, additional records dropped, OPT kept', async () => {
    const pad = 469; // the query is exactly 512 bytes
    const q = makeQuery('tc.example.', 'A', { id: 23, edns: { udpPayloadSize: 512, options: [{ code: EDNS.PADDING, data: Buffer.alloc(pad) }] } });
    assert.equal(encodeMessage(q).length, 512);
    const u = await queryUdp(HOST, port, q);
    assert.equal(u.msg.id, 23);
    assert.equal(u.msg.flags & 0x0200, 0x0200, 'TC set');
    assert.equal(u.msg.flags & 0xf, 0);
    assert.deepEqual(u.msg.questions, [{ name: 'tc.example.', type: 'A', class: 'IN' }]);
    assert.deepEqual(
      u.msg.additionals.map((x) => x.type),
      ['OPT'],
    );
    assert.equal(getOpt(u.msg)!.options[0]!.data.length, pad, 'padding echoed');
    // over TCP the same query fits
    const t = await queryTcp(HOST, port, q);
    assert.equal(t.msg.flags & 0x0200, 0);
    assertWhoami(t.msg, { id: 23, qname: 'tc.example.', proto: 'tcp', port: t.localPort });
  });

  it('TCP-KEEPALIVE and NSID options are echoed, ECS is not', async () => {
    const ecs = Buffer.from([0, 1, 24, 0, 10, 1, 2]);
    const q = makeQuery('opts.example.', 'A', {
      edns: {
        udpPayloadSize: 1232,
        options: [
          { code: EDNS.NSID, data: new Uint8Array(0) },
          { code: EDNS.SUBNET, data: ecs },
          { code: EDNS.TCP_KEEPALIVE, data: new Uint8Array(0) },
        ],
      },
    });
    const r = await queryTcp(HOST, port, q);
    const opt = getOpt(r.msg)!;
    assert.deepEqual(
      opt.options.map((o) => o.code),
      [EDNS.NSID, EDNS.TCP_KEEPALIVE],
    );
  });
});
