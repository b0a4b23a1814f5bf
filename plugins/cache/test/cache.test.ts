import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTHENTIC_DATA,
  AUTHORITATIVE_ANSWER,
  CHECKING_DISABLED,
  Context,
  RECURSION_AVAILABLE,
  TRUNCATED_RESPONSE,
  encodeMessage,
  getOpt,
  newReply,
  rcodeOf,
  setRcode,
  type Msg,
} from '@tsdns/core';
import { captureLogs, makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import { cacheKey, Item } from '../src/index.js';
import { aReply, answer, cacheWith, Clock, denial, fakeNext, rcodeReply, rr, serve, SOA_DATA, ttlOf, upstream } from './helpers.js';

test('a miss goes upstream, a hit does not: AA set, TTL decremented, ID and question case of the client', async () => {
  const up = await upstream((q) => aReply(q, '192.0.2.10', 300));
  const s = await serve(`.:0 {\n  cache\n  forward . ${up.address}\n}`);
  try {
    const r1 = await s.server.send(makeQuery('www.example.org', 'A', { id: 100 }));
    assert.equal(up.requests.length, 1);
    assert.equal(r1.id, 100);
    assert.equal(r1.msg.flags & AUTHORITATIVE_ANSWER, 0, 'the miss is the upstream reply (no AA)');
    assert.deepEqual(r1.msg.answers, [rr('www.example.org.', 'A', 300, '192.0.2.10')]);

    s.clock.advance(7.9);
    const r2 = await s.server.send(makeQuery('WWW.Example.ORG', 'A', { id: 200 }));
    assert.equal(up.requests.length, 1, 'answered from the cache');
    assert.equal(r2.id, 200);
    const m = r2.msg;
    assert.equal(m.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    assert.equal(m.flags & RECURSION_AVAILABLE, RECURSION_AVAILABLE, 'RA as stored');
    assert.deepEqual(m.questions, [{ name: 'WWW.Example.ORG.', type: 'A', class: 'IN' }]);
    // the owner name as stored, TTL = 300 - 7 whole seconds
    assert.deepEqual(m.answers, [rr('www.example.org.', 'A', 293, '192.0.2.10')]);

    s.clock.advance(292.1); // 300 s after storing: expired
    const r3 = await s.server.send(makeQuery('www.example.org', 'A'));
    assert.equal(up.requests.length, 2);
    assert.equal(ttlOf(r3.msg.answers[0]), 300);
    // TCP hits too
    const r4 = await s.server.send(makeQuery('www.example.org', 'A'), { tcp: true });
    assert.equal(up.requests.length, 2);
    assert.equal(r4.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
  } finally {
    await s.close();
    await up.close();
  }
});

test('TTLs: capped by the max TTL and raised to MINTTL, on the miss too; every record gets the same TTL', async () => {
  const up = await upstream((q) => {
    const name = q.questions[0]!.name;
    if (name.startsWith('low')) return aReply(q, '192.0.2.1', 1);
    const m = answer(q, rr(name, 'CNAME', 3600, 'target.example.org.'), rr('target.example.org.', 'A', 1200, '192.0.2.2'));
    m.authorities.push(rr('example.org.', 'NS', 7200, 'ns.example.org.'));
    m.additionals.push(rr('ns.example.org.', 'A', 900, '192.0.2.53'));
    return m;
  });
  const s = await serve(`.:0 {\n  cache 10\n  forward . ${up.address}\n}`);
  try {
    const r = await s.server.send(makeQuery('high.example.org', 'A'));
    for (const sec of [r.msg.answers, r.msg.authorities, r.msg.additionals]) for (const x of sec) assert.equal(ttlOf(x), 10);
    const low = await s.server.send(makeQuery('low.example.org', 'A'));
    assert.equal(ttlOf(low.msg.answers[0]), 5, 'a 1 s record is cached (and answered) for the 5 s minimum');
    s.clock.advance(4);
    const again = await s.server.send(makeQuery('low.example.org', 'A'));
    assert.equal(up.requests.length, 2);
    assert.equal(ttlOf(again.msg.answers[0]), 1);
    s.clock.advance(1);
    await s.server.send(makeQuery('low.example.org', 'A'));
    assert.equal(up.requests.length, 3);
  } finally {
    await s.close();
    await up.close();
  }
  // the minimal TTL can be lowered; then a 1 s record lives 1 s
  const up2 = await upstream((q) => aReply(q, '192.0.2.1', 1));
  const s2 = await serve(`.:0 {\n  cache {\n    success 1000 60 0\n  }\n  forward . ${up2.address}\n}`);
  try {
    assert.equal(ttlOf((await s2.server.send(makeQuery('x.example.org', 'A'))).msg.answers[0]), 1);
    s2.clock.advance(1);
    await s2.server.send(makeQuery('x.example.org', 'A'));
    assert.equal(up2.requests.length, 2);
  } finally {
    await s2.close();
    await up2.close();
  }
});

test('DO and CD are part of the key; AD reaches only clients that asked for DNSSEC or set AD', async () => {
  const up = await upstream((q) => {
    const m = aReply(q, '192.0.2.1', 300);
    m.flags |= AUTHENTIC_DATA;
    return m;
  });
  const s = await serve(`.:0 {\n  cache\n  forward . ${up.address}\n}`);
  try {
    const plain = await s.server.send(makeQuery('a.example.org', 'A'));
    assert.equal(plain.msg.flags & AUTHENTIC_DATA, 0);
    assert.equal(up.requests[0]!.msg.flags & AUTHENTIC_DATA, AUTHENTIC_DATA, 'the query upstream has AD set');
    const withDo = await s.server.send(makeQuery('a.example.org', 'A', { do: true }));
    assert.equal(up.requests.length, 2, 'DO is another key');
    assert.equal(withDo.msg.flags & AUTHENTIC_DATA, AUTHENTIC_DATA);
    const withCd = await s.server.send(makeQuery('a.example.org', 'A', { cd: true }));
    assert.equal(up.requests.length, 3, 'CD is another key');
    assert.equal(withCd.msg.flags & CHECKING_DISABLED, CHECKING_DISABLED, 'CD copied to the reply');
    // hits
    const hitPlain = await s.server.send(makeQuery('a.example.org', 'A'));
    assert.equal(hitPlain.msg.flags & (AUTHENTIC_DATA | AUTHORITATIVE_ANSWER), AUTHORITATIVE_ANSWER);
    const q = makeQuery('a.example.org', 'A');
    q.flags |= AUTHENTIC_DATA;
    const hitAd = await s.server.send(q);
    assert.equal(hitAd.msg.flags & AUTHENTIC_DATA, AUTHENTIC_DATA, 'a client that set AD keeps it (RFC 6840 5.7)');
    const hitDo = await s.server.send(makeQuery('a.example.org', 'A', { do: true }));
    assert.equal(hitDo.msg.flags & AUTHENTIC_DATA, AUTHENTIC_DATA);
    assert.equal(getOpt(hitDo.msg)!.flags & 0x8000, 0x8000, 'the OPT echo keeps DO');
    const hitCd = await s.server.send(makeQuery('a.example.org', 'A', { cd: true }));
    assert.equal(hitCd.msg.flags & CHECKING_DISABLED, CHECKING_DISABLED);
    const noRd = await s.server.send(makeQuery('a.example.org', 'A', { rd: false }));
    assert.equal(noRd.msg.flags & 0x0100, 0, 'RD copied from the query');
    assert.equal(up.requests.length, 3);
  } finally {
    await s.close();
    await up.close();
  }
});

test('denials: NXDOMAIN and NODATA with SOA are cached for min(SOA TTL, denial TTL); without SOA NXDOMAIN is not', async () => {
  const up = await upstream((q) => {
    const name = q.questions[0]!.name;
    if (name.startsWith('nx.')) return denial(q, 3, 3600);
    if (name.startsWith('nodata.')) return denial(q, 0, 60);
    if (name.startsWith('nosoa.')) return rcodeReply(q, 3);
    return aReply(q);
  });
  const s = await serve(`.:0 {\n  cache\n  forward . ${up.address}\n}`);
  try {
    const nx = await s.server.send(makeQuery('nx.example.org', 'A'));
    assert.equal(rcodeOf(nx.msg), 3);
    assert.equal(ttlOf(nx.msg.authorities[0]), 1800, 'capped at the 1800 s denial maximum');
    const nx2 = await s.server.send(makeQuery('nx.example.org', 'A'));
    assert.equal(up.requests.length, 1);
    assert.equal(rcodeOf(nx2.msg), 3);
    assert.equal(nx2.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    assert.deepEqual(nx2.msg.authorities, [rr('example.org.', 'SOA', 1800, SOA_DATA)]);

    const nd = await s.server.send(makeQuery('nodata.example.org', 'AAAA'));
    assert.equal(ttlOf(nd.msg.authorities[0]), 60);
    s.clock.advance(59);
    const nd2 = await s.server.send(makeQuery('nodata.example.org', 'AAAA'));
    assert.equal(up.requests.length, 2);
    assert.equal(rcodeOf(nd2.msg), 0);
    assert.equal(nd2.msg.answers.length, 0);
    assert.equal(ttlOf(nd2.msg.authorities[0]), 1);

    await s.server.send(makeQuery('nosoa.example.org', 'A'));
    await s.server.send(makeQuery('nosoa.example.org', 'A'));
    assert.equal(up.requests.length, 4, 'NXDOMAIN without SOA is not cached');
  } finally {
    await s.close();
    await up.close();
  }
});

test('SERVFAIL is cached 5 s by default, for `servfail` otherwise, never with `servfail 0`', async () => {
  const up = await upstream((q) => rcodeReply(q, 2));
  const s = await serve(`.:0 {\n  cache\n  forward . ${up.address}\n}`);
  try {
    const r = await s.server.send(makeQuery('fail.example.org', 'A'));
    assert.equal(rcodeOf(r.msg), 2);
    s.clock.advance(4);
    const r2 = await s.server.send(makeQuery('fail.example.org', 'A'));
    assert.equal(up.requests.length, 1);
    assert.equal(rcodeOf(r2.msg), 2);
    assert.equal(r2.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    s.clock.advance(1);
    await s.server.send(makeQuery('fail.example.org', 'A'));
    assert.equal(up.requests.length, 2);
  } finally {
    await s.close();
  }
  const s2 = await serve(`.:0 {\n  cache {\n    servfail 0\n  }\n  forward . ${up.address}\n}`);
  try {
    await s2.server.send(makeQuery('fail.example.org', 'A'));
    await s2.server.send(makeQuery('fail.example.org', 'A'));
    assert.equal(up.requests.length, 4);
  } finally {
    await s2.close();
  }
  const s3 = await serve(`.:0 {\n  cache {\n    servfail 30s\n  }\n  forward . ${up.address}\n}`);
  try {
    await s3.server.send(makeQuery('fail.example.org', 'A'));
    s3.clock.advance(29);
    await s3.server.send(makeQuery('fail.example.org', 'A'));
    assert.equal(up.requests.length, 5);
  } finally {
    await s3.close();
    await up.close();
  }
});

test('a cached SERVFAIL does not shadow a valid positive entry', async () => {
  const clock = new Clock();
  const c = await cacheWith('.:53 {\n cache\n}', fakeNext((r) => aReply(r)), clock);
  await serveHandler(c, makeQuery('a.example.org', 'A'));
  // a refresh (prefetch, verify) that got SERVFAIL stores it in the denial cache under the same key
  const key = cacheKey('a.example.org.', 1, 1, false, false);
  assert.ok(c.pcache.get(key));
  const q = makeQuery('a.example.org', 'A');
  c.ncache.add(key, new Item(rcodeReply(q, 2), 2, clock.t, 5));
  const hit = await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(rcodeOf(hit.reply!), 0);
  assert.equal(hit.reply!.answers.length, 1);
  // once the positive entry expired, the SERVFAIL is served
  c.ncache.add(key, new Item(rcodeReply(q, 2), 2, clock.t + 400_000, 5));
  clock.advance(400);
  const fail = await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(rcodeOf(fail.reply!), 2);
  assert.equal(fail.reply!.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
});

test('not cached: truncated, REFUSED, FORMERR, NXDOMAIN with answers, AXFR/IXFR, NOTIFY and UPDATE replies, SOA-less non-answers', async () => {
  const cases: [string, (r: Msg) => Msg][] = [
    ['tc', (r) => {
      const m = aReply(r);
      m.flags |= TRUNCATED_RESPONSE;
      return m;
    }],
    ['refused', (r) => rcodeReply(r, 5)],
    ['formerr', (r) => rcodeReply(r, 1)],
    ['nx-with-answer', (r) => {
      const m = aReply(r);
      setRcode(m, 3);
      m.authorities.push(rr('example.org.', 'SOA', 60, SOA_DATA));
      return m;
    }],
    ['cname-nowhere', (r) => answer(r, rr(r.questions[0]!.name, 'CNAME', 60, 'elsewhere.example.org.'))],
    ['update', (r) => {
      const m = aReply(r);
      m.flags = (m.flags & ~(0xf << 11)) | (5 << 11);
      return m;
    }],
    ['notify', (r) => {
      const m = aReply(r);
      m.flags = (m.flags & ~(0xf << 11)) | (4 << 11);
      return m;
    }],
  ];
  for (const [label, f] of cases) {
    const calls = { n: 0 };
    const c = await cacheWith('.:53 {\n cache\n}', fakeNext(f, calls));
    await serveHandler(c, makeQuery(`${label}.example.org`, 'A'));
    await serveHandler(c, makeQuery(`${label}.example.org`, 'A'));
    assert.equal(calls.n, 2, label);
    assert.equal(c.pcache.len() + c.ncache.len(), 0, label);
  }
  for (const t of ['AXFR', 'IXFR']) {
    const calls = { n: 0 };
    const c = await cacheWith('.:53 {\n cache\n}', fakeNext((r) => answer(r, rr('example.org.', 'SOA', 60, SOA_DATA)), calls));
    await serveHandler(c, makeQuery('example.org', t));
    await serveHandler(c, makeQuery('example.org', t));
    assert.equal(calls.n, 2, t);
  }
  // a NOERROR answer that reaches the type through the CNAME chain is cached
  const calls = { n: 0 };
  const c = await cacheWith(
    '.:53 {\n cache\n}',
    fakeNext((r) => answer(r, rr(r.questions[0]!.name, 'CNAME', 60, 'T.example.org.'), rr('t.example.org.', 'A', 60, '192.0.2.9')), calls),
  );
  await serveHandler(c, makeQuery('chain.example.org', 'A'));
  await serveHandler(c, makeQuery('chain.example.org', 'A'));
  assert.equal(calls.n, 1);
  // ... and a CNAME chain that does not reach the type but carries an SOA is cached as NODATA
  const calls2 = { n: 0 };
  const c2 = await cacheWith(
    '.:53 {\n cache\n}',
    fakeNext((r) => {
      const m = answer(r, rr(r.questions[0]!.name, 'CNAME', 600, 'elsewhere.example.org.'));
      m.authorities.push(rr('example.org.', 'SOA', 30, SOA_DATA));
      return m;
    }, calls2),
  );
  const first = await serveHandler(c2, makeQuery('chain.example.org', 'AAAA'));
  assert.equal(ttlOf(first.reply!.answers[0]), 30);
  await serveHandler(c2, makeQuery('chain.example.org', 'AAAA'));
  assert.equal(calls2.n, 1);
  assert.equal(c2.ncache.len(), 1, 'in the denial cache');
});

test('a reply whose question does not match the query is passed on but not cached (drops)', async () => {
  const calls = { n: 0 };
  const c = await cacheWith(
    '.:53 {\n cache\n}',
    fakeNext((r) => {
      const m = aReply(r);
      m.questions = [{ name: 'other.example.org.', type: 'A', class: 'IN' }];
      return m;
    }, calls),
  );
  const r = await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(r.reply!.questions[0]!.name, 'other.example.org.');
  await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(calls.n, 2);
  assert.equal(c.pcache.len(), 0);
});

test('delegations and empty replies are cached for 5 s', async () => {
  const calls = { n: 0 };
  const clock = new Clock();
  const c = await cacheWith(
    '.:53 {\n cache\n}',
    fakeNext((r) => {
      const m = newReply(r);
      if (r.questions[0]!.name.startsWith('deleg')) {
        m.authorities.push(rr('sub.example.org.', 'NS', 86400, 'ns.sub.example.org.'));
        m.additionals.push(rr('ns.sub.example.org.', 'A', 86400, '192.0.2.53'));
      }
      return m;
    }, calls),
    clock,
  );
  const d = await serveHandler(c, makeQuery('deleg.sub.example.org', 'A'));
  assert.equal(ttlOf(d.reply!.authorities[0]), 5);
  assert.equal(ttlOf(d.reply!.additionals[0]), 5);
  const e = await serveHandler(c, makeQuery('empty.example.org', 'A'));
  assert.equal(e.reply!.answers.length, 0);
  clock.advance(4);
  await serveHandler(c, makeQuery('deleg.sub.example.org', 'A'));
  await serveHandler(c, makeQuery('empty.example.org', 'A'));
  assert.equal(calls.n, 2);
  clock.advance(1);
  await serveHandler(c, makeQuery('deleg.sub.example.org', 'A'));
  assert.equal(calls.n, 3);
});

test('only names inside the zones are cached', async () => {
  const up = await upstream((q) => aReply(q));
  const s = await serve(`.:0 {\n  cache example.org\n  forward . ${up.address}\n}`);
  try {
    await s.server.send(makeQuery('a.example.org', 'A'));
    await s.server.send(makeQuery('a.example.org', 'A'));
    assert.equal(up.requests.length, 1);
    await s.server.send(makeQuery('a.example.net', 'A'));
    await s.server.send(makeQuery('a.example.net', 'A'));
    assert.equal(up.requests.length, 3);
    await s.server.send(makeQuery('xexample.org', 'A'));
    await s.server.send(makeQuery('xexample.org', 'A'));
    assert.equal(up.requests.length, 5);
    await s.server.send(makeQuery('EXAMPLE.ORG', 'A'));
    await s.server.send(makeQuery('example.org', 'A'));
    assert.equal(up.requests.length, 6);
  } finally {
    await s.close();
    await up.close();
  }
});

test('disable success / denial ZONES', async () => {
  const calls = { n: 0 };
  const c = await cacheWith(
    '.:53 {\n cache {\n  disable success sub.example.org\n  disable denial example.net\n }\n}',
    fakeNext((r) => (r.questions[0]!.name.startsWith('nx') ? denial(r) : aReply(r)), calls),
  );
  const run = async (name: string): Promise<number> => {
    const before = calls.n;
    await serveHandler(c, makeQuery(name, 'A'));
    await serveHandler(c, makeQuery(name, 'A'));
    return calls.n - before;
  };
  assert.equal(await run('a.sub.example.org'), 2, 'success disabled below sub.example.org');
  assert.equal(await run('a.example.org'), 1);
  assert.equal(await run('nx.sub.example.org'), 1, 'denials are still cached there');
  assert.equal(await run('nx.example.net'), 2, 'denial disabled below example.net');
  assert.equal(await run('a.example.net'), 1);
});

test('keepttl: hits carry the stored TTL', async () => {
  const clock = new Clock();
  const c = await cacheWith('.:53 {\n cache {\n  keepttl\n }\n}', fakeNext((r) => aReply(r, '192.0.2.1', 120)), clock);
  await serveHandler(c, makeQuery('a.example.org', 'A'));
  clock.advance(100);
  const r = await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(ttlOf(r.reply!.answers[0]), 120);
  clock.advance(20);
  const calls = c.pcache.len();
  assert.equal(calls, 1);
  const r2 = await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(r2.reply!.flags & AUTHORITATIVE_ANSWER, 0, 'expired: a miss again');
});

test('the OPT record of the upstream is not passed on: the client gets its own echoed back', async () => {
  const up = await upstream((q) => {
    const m = aReply(q);
    m.additionals.push({ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [{ code: 3, data: Buffer.from('nsid') }] });
    return m;
  });
  const s = await serve(`.:0 {\n  cache\n  forward . ${up.address}\n}`);
  try {
    const cookie = { code: 10, data: Buffer.from('0123456789abcdef', 'hex') };
    const q = makeQuery('a.example.org', 'A', { edns: { udpPayloadSize: 1400, options: [cookie] } });
    const miss = await s.server.send(q);
    assert.deepEqual(getOpt(miss.msg), { name: '.', type: 'OPT', udpPayloadSize: 1400, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [cookie] });
    const hit = await s.server.send(makeQuery('a.example.org', 'A', { edns: { udpPayloadSize: 1300, options: [cookie] } }));
    assert.deepEqual(getOpt(hit.msg), { name: '.', type: 'OPT', udpPayloadSize: 1300, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [cookie] });
    const noEdns = await s.server.send(makeQuery('a.example.org', 'A'));
    assert.equal(getOpt(noEdns.msg), undefined);
  } finally {
    await s.close();
    await up.close();
  }
});

test('raw writes from the plugins after the cache are passed on and not cached', async () => {
  const logs = captureLogs();
  const calls = { n: 0 };
  const c = await cacheWith('.:53 {\n cache\n}', {
    name: 'raw',
    ServeDNS(_ctx, w, r): number {
      calls.n++;
      w.write(encodeMessage(aReply(r)));
      return 0;
    },
  });
  try {
    const r = await serveHandler(c, makeQuery('a.example.org', 'A'));
    assert.equal(r.writer.written[0]!.via, 'write');
    await serveHandler(c, makeQuery('a.example.org', 'A'));
    assert.equal(calls.n, 2);
  } finally {
    logs.restore();
  }
  assert.deepEqual(logs.lines, ['[WARNING] plugin/cache: Caching called with Write: not caching reply', '[WARNING] plugin/cache: Caching called with Write: not caching reply']);
});

test('hits are written as wire bytes; through an unknown writer wrapper they are written as messages', async () => {
  const c = await cacheWith('.:53 {\n cache\n}', fakeNext((r) => aReply(r)));
  await serveHandler(c, makeQuery('a.example.org', 'A'));
  const hit = await serveHandler(c, makeQuery('a.example.org', 'A'));
  assert.equal(hit.writer.written.length, 1);
  assert.equal(hit.writer.written[0]!.via, 'write');
  // a writer that changes messages: the cache must use writeMsg so the change applies
  const tw = new TestWriter();
  const seen: Msg[] = [];
  const shuffling = {
    remote: tw.remote,
    local: tw.local,
    transport: tw.transport,
    proto: tw.proto,
    writeMsg(m: Msg): void {
      seen.push(m);
      tw.writeMsg(m);
    },
    write(b: Uint8Array): void {
      tw.write(b);
    },
  };
  const rc = c.ServeDNS(Context.background(), shuffling, makeQuery('a.example.org', 'A'));
  assert.equal(rc, 0);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
});

test('the class is part of the key; the zone/wildcard metadata of the miss is set again on hits', async () => {
  const calls = { n: 0 };
  const c = await cacheWith(
    '.:53 {\n cache\n}',
    {
      name: 'wild',
      ServeDNS(ctx, w, r): number {
        calls.n++;
        ctx.setMetadata('zone/wildcard', () => '*.example.org.');
        const m = aReply(r);
        if (r.questions[0]!.class === 'CH') (m.answers[0] as { class?: string }).class = 'CH';
        w.writeMsg(m);
        return 0;
      },
    },
  );
  await serveHandler(c, makeQuery('a.example.org', 'A'));
  await serveHandler(c, makeQuery('a.example.org', 'A', { class: 'CH' }));
  assert.equal(calls.n, 2);
  const ctx = Context.background();
  const hit = await serveHandler(c, makeQuery('a.example.org', 'A', { class: 'CH' }), { ctx });
  assert.equal(calls.n, 2);
  assert.equal(hit.reply!.questions[0]!.class, 'CH');
  assert.equal(ctx.metadata('zone/wildcard'), '*.example.org.');
});
