import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTHORITATIVE_ANSWER,
  Context,
  DNSSEC_OK,
  getOpt,
  newReply,
  RCODE,
  RECURSION_AVAILABLE,
  TRUNCATED_RESPONSE,
  encodeMessage,
  type Msg,
} from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import { Forward } from '../src/index.js';
import { aReply, closeAll, rcodeReply, serve, setupForwards, upstream } from './helpers.js';

test('forwards UDP over UDP and TCP over TCP; the reply is the upstream one with the client ID', async () => {
  const up = await upstream((q) => {
    const m = aReply(q, '192.0.2.10', 300);
    m.flags |= AUTHORITATIVE_ANSWER;
    m.authorities.push({ name: 'example.org.', type: 'NS', class: 'IN', ttl: 100, data: 'ns1.example.org.' });
    m.additionals.push({ name: 'ns1.example.org.', type: 'A', class: 'IN', ttl: 100, data: '192.0.2.53' });
    return m;
  });
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    const q = makeQuery('wWw.Example.ORG', 'A', { id: 4242 });
    const r = await s.send(q);
    assert.equal(r.id, 4242);
    const m = r.msg;
    assert.equal(m.type, 'response');
    assert.equal(m.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    assert.equal(m.flags & RECURSION_AVAILABLE, RECURSION_AVAILABLE);
    assert.deepEqual(m.questions, [{ name: 'wWw.Example.ORG.', type: 'A', class: 'IN' }]);
    assert.deepEqual(m.answers, [{ name: 'wWw.Example.ORG.', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.10' }]);
    assert.deepEqual(m.authorities, [{ name: 'example.org.', type: 'NS', class: 'IN', ttl: 100, data: 'ns1.example.org.' }]);
    assert.deepEqual(m.additionals, [{ name: 'ns1.example.org.', type: 'A', class: 'IN', ttl: 100, data: '192.0.2.53' }]);
    assert.equal(up.requests.length, 1);
    assert.equal(up.requests[0]!.proto, 'udp');
    // the upstream saw the same question, RD kept, but (almost surely) another ID
    assert.deepEqual(up.requests[0]!.msg.questions, q.questions);
    assert.equal(up.requests[0]!.msg.flags, q.flags);

    const t = await s.send(makeQuery('example.org', 'A', { id: 7 }), { tcp: true });
    assert.equal(t.id, 7);
    assert.equal(t.msg.answers.length, 1);
    assert.equal(up.requests[1]!.proto, 'tcp');

    // new IDs on the wire
    const ids = new Set<number>();
    for (let i = 0; i < 20; i++) await s.send(makeQuery('example.org', 'A', { id: 1000 }));
    for (const r of up.requests.slice(2)) ids.add(r.msg.id);
    assert.ok(ids.size > 1, 'each query gets a fresh random ID upstream');
  } finally {
    await closeAll(s, up);
  }
});

test('the upstream OPT is kept and normalised for the client; the client OPT goes upstream as is', async () => {
  const up = await upstream((q) => {
    const m = aReply(q);
    m.additionals.push({ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [{ code: 10, data: Buffer.from('0123456789abcdef0123456789abcdef', 'hex') }] });
    return m;
  });
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    const r = await s.send(makeQuery('example.org', 'A', { edns: { udpPayloadSize: 1232, do: true } }));
    const opt = getOpt(r.msg)!;
    assert.equal(opt.udpPayloadSize, 1232, 'client size');
    assert.equal(opt.flags & DNSSEC_OK, DNSSEC_OK);
    assert.deepEqual(opt.options.map((o) => o.code), [10], 'the upstream cookie survives');
    const sent = getOpt(up.requests[0]!.msg)!;
    assert.equal(sent.udpPayloadSize, 1232);
    assert.equal(sent.flags & DNSSEC_OK, DNSSEC_OK);
  } finally {
    await closeAll(s, up);
  }
});

test('force_tcp: UDP clients are forwarded over TCP', async () => {
  const up = await upstream();
  const s = await serve(`.:0 {\n  forward . ${up.address} {\n    force_tcp\n  }\n}`);
  try {
    const r = await s.query('example.org', 'A');
    assert.equal(r.msg.answers.length, 1);
    assert.deepEqual(
      up.requests.map((x) => x.proto),
      ['tcp'],
    );
  } finally {
    await closeAll(s, up);
  }
});

test('prefer_udp: TCP clients go over UDP, and again over TCP when the reply is truncated', async () => {
  const up = await upstream((q, proto) => {
    if (q.questions[0]!.name === 'big.example.org.' && proto === 'udp') {
      const m = newReply(q);
      m.flags |= TRUNCATED_RESPONSE;
      return m;
    }
    return aReply(q, proto === 'udp' ? '192.0.2.1' : '192.0.2.2');
  });
  const s = await serve(`.:0 {\n  forward . ${up.address} {\n    prefer_udp\n  }\n}`);
  try {
    let r = await s.query('small.example.org', 'A', { tcp: true });
    assert.equal((r.msg.answers[0] as { data: string }).data, '192.0.2.1');
    r = await s.query('big.example.org', 'A', { tcp: true });
    assert.equal(r.msg.flags & TRUNCATED_RESPONSE, 0);
    assert.equal((r.msg.answers[0] as { data: string }).data, '192.0.2.2');
    assert.deepEqual(
      up.requests.map((x) => x.proto),
      ['udp', 'udp', 'tcp'],
    );
  } finally {
    await closeAll(s, up);
  }
  // force_tcp wins over prefer_udp
  const up2 = await upstream();
  const s2 = await serve(`.:0 {\n  forward . ${up2.address} {\n    prefer_udp\n    force_tcp\n  }\n}`);
  try {
    await s2.query('example.org', 'A');
    assert.deepEqual(
      up2.requests.map((x) => x.proto),
      ['tcp'],
    );
  } finally {
    await closeAll(s2, up2);
  }
});

test('without prefer_udp a truncated UDP reply goes to the client as it is', async () => {
  const up = await upstream((q) => {
    const m = newReply(q);
    m.flags |= TRUNCATED_RESPONSE;
    return m;
  });
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    const r = await s.query('example.org', 'A');
    assert.equal(r.msg.flags & TRUNCATED_RESPONSE, TRUNCATED_RESPONSE);
    assert.equal(up.requests.length, 1);
  } finally {
    await closeAll(s, up);
  }
});

test('policies: sequential, round_robin and random', async () => {
  const a = await upstream((q) => aReply(q, '192.0.2.1'));
  const b = await upstream((q) => aReply(q, '192.0.2.2'));
  const c = await upstream((q) => aReply(q, '192.0.2.3'));
  const answer = (m: Msg): string => (m.answers[0] as { data: string }).data;
  try {
    let s = await serve(`.:0 {\n  forward . ${a.address} ${b.address} ${c.address} {\n    policy sequential\n  }\n}`);
    const seq: string[] = [];
    for (let i = 0; i < 6; i++) seq.push(answer((await s.query('example.org')).msg));
    await s.close();
    assert.deepEqual(seq, Array(6).fill('192.0.2.1'));

    s = await serve(`.:0 {\n  forward . ${a.address} ${b.address} ${c.address} {\n    policy round_robin\n  }\n}`);
    const rr: string[] = [];
    for (let i = 0; i < 6; i++) rr.push(answer((await s.query('example.org')).msg));
    await s.close();
    assert.deepEqual(rr, ['192.0.2.2', '192.0.2.3', '192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1']);

    s = await serve(`.:0 {\n  forward . ${a.address} ${b.address} ${c.address}\n}`);
    const seen = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const x = answer((await s.query('example.org')).msg);
      seen.set(x, (seen.get(x) ?? 0) + 1);
    }
    await s.close();
    assert.equal(seen.size, 3, `random spreads over all upstreams: ${JSON.stringify([...seen])}`);
    for (const n of seen.values()) assert.ok(n >= 5, `random is roughly even: ${JSON.stringify([...seen])}`);
  } finally {
    await closeAll(a, b, c);
  }
});

test('several forward lines: FROM zones and except, in Corefile order; the rest goes to the next plugin', async () => {
  const a = await upstream((q) => aReply(q, '192.0.2.1'));
  const b = await upstream((q) => aReply(q, '192.0.2.2'));
  const c = await upstream((q) => aReply(q, '192.0.2.3'));
  const s = await serve(
    [
      '.:0 {',
      `  forward sub.example.org ${a.address}`,
      `  forward example.org ${b.address} {`,
      '    except skip.example.org',
      '  }',
      `  forward example.net ${c.address} {`,
      '    except example.net',
      '  }',
      '  whoami',
      '}',
    ].join('\n'),
  );
  try {
    const who = async (name: string): Promise<string> => {
      const m = (await s.query(name, 'A')).msg;
      const a0 = m.answers[0] as { data: string } | undefined;
      if (a0 !== undefined) return a0.data;
      return m.additionals.some((r) => r.type === 'A' && (r as { data: string }).data === '127.0.0.1') ? 'whoami' : 'nothing';
    };
    assert.equal(await who('x.sub.example.org'), '192.0.2.1');
    assert.equal(await who('SUB.example.org'), '192.0.2.1');
    assert.equal(await who('www.example.org'), '192.0.2.2');
    assert.equal(await who('example.org'), '192.0.2.2');
    assert.equal(await who('a.skip.example.org'), 'whoami', 'excepted names go on down the chain');
    assert.equal(await who('www.example.net'), 'whoami', 'except FROM excepts everything below it');
    assert.equal(await who('Example.NET'), '192.0.2.3', 'but a query for FROM itself is never excepted');
    assert.equal(await who('example.com'), 'whoami', 'names outside FROM go to the next plugin');
    assert.equal(a.requests.length, 2);
    assert.equal(b.requests.length, 2);
    assert.equal(c.requests.length, 1);
  } finally {
    await closeAll(s, a, b, c);
  }
});

test('CH class queries are forwarded; metadata forward/upstream names the upstream used', async () => {
  const up = await upstream((q) => {
    const m = newReply(q);
    m.answers.push({ name: q.questions[0]!.name, type: 'TXT', class: 'CH', ttl: 0, data: ['tsdns'] });
    return m;
  });
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    const r = await s.query('version.bind', 'TXT', { class: 'CH' });
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal((r.msg.answers[0] as { class?: string }).class, 'CH');
  } finally {
    await closeAll(s, up);
  }
  const up2 = await upstream();
  const { forwards } = await setupForwards(`.:53 {\n  forward . ${up2.address}\n}`);
  const f = forwards[0]!;
  f.onStartup();
  try {
    const ctx = Context.background();
    const res = await serveHandler(f, makeQuery('example.org'), { ctx, writer: new TestWriter() });
    assert.equal(res.rcode, 0);
    assert.equal(ctx.metadata('forward/upstream'), up2.address);
  } finally {
    f.onShutdown();
    await up2.stop();
  }
});

test('replies that are errors upstream (SERVFAIL, REFUSED) are passed on as written', async () => {
  const up = await upstream((q) => rcodeReply(q, q.questions[0]!.name.startsWith('refused') ? RCODE.REFUSED : RCODE.SERVFAIL));
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    assert.equal((await s.query('refused.example.org')).rcode, RCODE.REFUSED);
    assert.equal((await s.query('servfail.example.org')).rcode, RCODE.SERVFAIL);
    assert.equal(up.requests.length, 2, 'an rcode is not an error: no retry without failover');
  } finally {
    await closeAll(s, up);
  }
});

/**
 * Upstream replies as real resolvers write them (compressed), by the first
 * label of the question: the bytes after the header and question are built
 * here, with pointers into the question.
 */
function rawReply(q: Msg): Buffer {
  const name = q.questions[0]!.name;
  const kind = name.split('.')[0]!.toLowerCase();
  const question = encodeMessage({ ...q, additionals: [] }).subarray(12);
  const qEnd = 12 + question.length;
  const suffix = 12 + question.indexOf(Buffer.from('\x07example\x03org\x00', 'latin1')); // example.org. in the question
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const ptr = (off: number): Buffer => u16(0xc000 | off);
  const rr = (owner: Buffer, type: number, ttl: number, rdata: Buffer, klass = 1): Buffer =>
    Buffer.concat([owner, u16(type), u16(klass), Buffer.from([ttl >>> 24, (ttl >> 16) & 0xff, (ttl >> 8) & 0xff, ttl & 0xff]), u16(rdata.length), rdata]);
  const wireName = (s: string): Buffer => Buffer.concat([...s.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const opt = (ext: number, flags: number, options: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 41, 0x10, 0, ext, 0]), u16(flags), u16(options.length), options]);
  let flags = 0x8180;
  const an: Buffer[] = [];
  const ns: Buffer[] = [];
  const ar: Buffer[] = [];
  let qsec = question;
  switch (kind) {
    case 'cname': {
      an.push(rr(ptr(12), 5, 3600, wireName('www.example.net.')));
      const target = qEnd + 12; // www.example.net. in the CNAME's RDATA
      an.push(rr(ptr(target), 1, 60, Buffer.from([192, 0, 2, 1])), rr(ptr(target), 1, 60, Buffer.from([192, 0, 2, 2])));
      break;
    }
    case 'nx':
      flags = 0x8183;
      ns.push(rr(ptr(suffix), 6, 900, Buffer.concat([Buffer.from([3, 0x6e, 0x73, 0x31]), ptr(suffix), Buffer.from([5, 0x61, 0x64, 0x6d, 0x69, 0x6e]), ptr(suffix), Buffer.alloc(20, 1)])));
      ar.push(opt(0, 0, Buffer.alloc(0)));
      break;
    case 'big':
      for (let i = 0; i < 40; i++) an.push(rr(ptr(12), 1, 300, Buffer.from([10, 0, 0, i])));
      break;
    case 'dnssec':
      an.push(rr(ptr(12), 1, 300, Buffer.from([192, 0, 2, 9])));
      an.push(rr(ptr(12), 46, 300, Buffer.concat([Buffer.from([0, 1, 13, 3, 0, 0, 1, 44, 0x65, 0, 0, 0, 0x64, 0, 0, 0, 0x30, 0x39]), wireName('example.org.'), Buffer.alloc(64, 7)])));
      ar.push(opt(0, 0x8000, Buffer.from([0, 15, 0, 2, 0, 3]))); // DO, an extended error (stale answer)
      break;
    case 'badvers':
      ar.push(opt(1, 0, Buffer.alloc(0)));
      break;
    case 'upper':
      qsec = Buffer.from(question);
      for (let i = 0; i < qsec.length - 4; i++) if (qsec[i]! >= 0x61 && qsec[i]! <= 0x7a) qsec[i] = qsec[i]! - 0x20;
      an.push(rr(ptr(12), 1, 300, Buffer.from([192, 0, 2, 4])));
      break;
    case 'trailing':
      an.push(rr(ptr(12), 16, 300, Buffer.from('\x05hello\x05world', 'latin1')));
      ar.push(Buffer.from('junk')); // not a record: the header does not count it
      break;
    default:
      an.push(rr(ptr(12), 1, 300, Buffer.from([192, 0, 2, 1])));
  }
  const extra = kind === 'trailing' ? 0 : ar.length;
  const header = Buffer.concat([u16(q.id), u16(flags), u16(1), u16(an.length), u16(ns.length), u16(extra)]);
  return Buffer.concat([header, qsec, ...an, ...ns, ...ar]);
}

test('replies relayed as bytes are byte for byte what the message path sends (compressed, EDNS, DO, truncated, odd)', async () => {
  const up = await upstream((q) => rawReply(q));
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  const f = s.instance.configs[0]!.handlers.find((h): h is Forward => h instanceof Forward)!;
  const clients = [
    { label: 'udp', opts: {} },
    { label: 'udp+edns+do', opts: { edns: { udpPayloadSize: 1232, do: true } } },
    { label: 'udp+edns4096', opts: { edns: { udpPayloadSize: 4096 } } },
    { label: 'tcp+edns+cookie', opts: { edns: { udpPayloadSize: 4096, options: [{ code: 10, data: Buffer.from('0011223344556677', 'hex') }] } }, tcp: true },
  ];
  const relayedBy = new Map<string, number>();
  try {
    for (const kind of ['plain', 'cname', 'nx', 'big', 'dnssec', 'badvers', 'upper', 'trailing']) {
      for (const c of clients) {
        const q = makeQuery(`${kind}.host.example.org`, 'A', { id: 0x4321, ...c.opts });
        f.wireReplies = true;
        const before = f.relayed;
        const wire = await s.send(q, { tcp: c.tcp === true });
        relayedBy.set(`${kind} ${c.label}`, f.relayed - before);
        f.wireReplies = false;
        const msg = await s.send(q, { tcp: c.tcp === true });
        assert.equal(f.relayed, before + (relayedBy.get(`${kind} ${c.label}`) ?? 0), 'the message path relays nothing');
        assert.equal(wire.raw.toString('hex'), msg.raw.toString('hex'), `${kind} over ${c.label}`);
        assert.equal(wire.id, 0x4321);
      }
    }
  } finally {
    await closeAll(s, up);
  }
  const relayed = [...relayedBy].filter(([, n]) => n === 1).map(([k]) => k);
  // relayed where the bytes are the server's own; messages where the scrub truncates or compresses, or for extended rcodes
  for (const kind of ['plain', 'cname', 'nx', 'dnssec', 'upper', 'trailing']) for (const c of clients) assert.ok(relayed.includes(`${kind} ${c.label}`), `${kind} ${c.label} relayed`);
  assert.deepEqual(relayed.filter((k) => k.startsWith('big') || k.startsWith('badvers')), ['big tcp+edns+cookie']);
});
