import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newReply, RCODE, type Msg } from '@tsdns/core';
import { makeQuery, serveHandler } from '@tsdns/testing';
import { aReply, closeAll, metric0, rcodeReply, serve, setupForwards, sleep, upstream } from './helpers.js';

const data = (m: Msg): string | undefined => (m.answers[0] as { data: string } | undefined)?.data;

test('max_concurrent: queries over the limit are REFUSED and counted', async () => {
  const up = await upstream(async (q) => {
    await sleep(150);
    return aReply(q);
  });
  const s = await serve(`.:0 {\n  forward . ${up.address} {\n    max_concurrent 2\n  }\n}`);
  try {
    const before = await metric0('coredns_forward_max_concurrent_rejects_total');
    const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => s.query(`q${i}.example.org`)));
    const rcodes = rs.map((r) => r.rcode).sort();
    assert.deepEqual(rcodes, [RCODE.NOERROR, RCODE.NOERROR, RCODE.REFUSED, RCODE.REFUSED, RCODE.REFUSED]);
    for (const r of rs) if (r.rcode === RCODE.REFUSED) assert.equal(r.msg.answers.length, 0);
    assert.equal(await metric0('coredns_forward_max_concurrent_rejects_total'), before + 3);
    assert.equal(up.requests.length, 2);
    // the slots are free again
    assert.equal((await s.query('again.example.org')).rcode, RCODE.NOERROR);
  } finally {
    await closeAll(s, up);
  }
  const { forwards } = await setupForwards(`.:53 {\n  forward . 127.0.0.1:1 {\n    max_concurrent 0\n  }\n}`);
  assert.equal(forwards[0]!.maxConcurrent, 0, '0 = unlimited');
  const { forwards: f1 } = await setupForwards(`.:53 {\n  forward . 127.0.0.1:1 {\n    max_concurrent 1\n  }\n}`);
  const f = f1[0]!;
  // the error text of a refused query
  const slow = await upstream(async (q) => {
    await sleep(100);
    return aReply(q);
  });
  const { forwards: f2 } = await setupForwards(`.:53 {\n  forward . ${slow.address} {\n    max_concurrent 1\n  }\n}`);
  const g = f2[0]!;
  g.onStartup();
  try {
    const first = serveHandler(g, makeQuery('a.example.org'));
    const second = await serveHandler(g, makeQuery('b.example.org'));
    assert.equal(second.rcode, RCODE.REFUSED);
    assert.equal((second.error as Error).message, 'concurrent queries exceeded maximum 1');
    assert.equal((await first).rcode, 0);
    assert.equal(g.inFlight, 0);
  } finally {
    g.onShutdown();
    await slow.stop();
  }
  assert.equal(f.errLimitExceeded, 'concurrent queries exceeded maximum 1');
});

test('next RCODE hands over to the next forward only; next_on_nodata on empty NOERROR', async () => {
  const a = await upstream((q) => {
    const n = q.questions[0]!.name;
    if (n.startsWith('nx')) return rcodeReply(q, RCODE.NXDOMAIN);
    if (n.startsWith('nodata')) return newReply(q);
    if (n.startsWith('refused')) return rcodeReply(q, RCODE.REFUSED);
    return aReply(q, '192.0.2.1');
  });
  const b = await upstream((q) => aReply(q, '192.0.2.2'));
  const s = await serve(
    `.:0 {\n  forward . ${a.address} {\n    next NXDOMAIN REFUSED\n    next_on_nodata\n  }\n  forward . ${b.address}\n}`,
  );
  try {
    assert.equal(data((await s.query('nx.example.org')).msg), '192.0.2.2');
    assert.equal(data((await s.query('refused.example.org')).msg), '192.0.2.2');
    assert.equal(data((await s.query('nodata.example.org')).msg), '192.0.2.2');
    assert.equal(data((await s.query('www.example.org')).msg), '192.0.2.1');
    assert.equal(b.requests.length, 3);
  } finally {
    await s.close();
  }
  // next is ignored when the next plugin is not a forward
  const s2 = await serve(`.:0 {\n  forward . ${a.address} {\n    next NXDOMAIN\n    next_on_nodata\n  }\n  whoami\n}`);
  try {
    const r = await s2.query('nx.example.org');
    assert.equal(r.rcode, RCODE.NXDOMAIN);
    const r2 = await s2.query('nodata.example.org');
    assert.equal(r2.rcode, RCODE.NOERROR);
    assert.equal(r2.msg.answers.length, 0);
    assert.equal(r2.msg.additionals.length, 0, 'not whoami');
  } finally {
    await closeAll(s2, a, b);
  }
});

test('failover RCODE: the next upstream is tried; the last reply is returned when all were tried', async () => {
  const fail = await upstream((q) => rcodeReply(q, RCODE.SERVFAIL));
  const refused = await upstream((q) => rcodeReply(q, RCODE.REFUSED));
  const good = await upstream((q) => aReply(q, '192.0.2.9'));
  try {
    let s = await serve(`.:0 {\n  forward . ${fail.address} ${refused.address} ${good.address} {\n    policy sequential\n    failover ServFail Refused\n  }\n}`);
    let r = await s.query('example.org');
    assert.equal(data(r.msg), '192.0.2.9');
    await s.close();
    assert.deepEqual([fail.requests.length, refused.requests.length, good.requests.length], [1, 1, 1]);

    s = await serve(`.:0 {\n  forward . ${fail.address} ${refused.address} ${good.address} {\n    policy sequential\n  }\n}`);
    r = await s.query('example.org');
    assert.equal(r.rcode, RCODE.SERVFAIL, 'without failover the first reply is the answer');
    await s.close();

    s = await serve(`.:0 {\n  forward . ${fail.address} ${refused.address} {\n    policy sequential\n    failover SERVFAIL REFUSED\n  }\n}`);
    r = await s.query('example.org');
    assert.equal(r.rcode, RCODE.REFUSED, 'all tried: the last reply');
    await s.close();
  } finally {
    await closeAll(fail, refused, good);
  }
});

test('max_connect_attempts caps attempts per query; 0 means no cap (bounded by the deadline)', async () => {
  const a = await upstream(() => null);
  const b = await upstream(() => null);
  const count = (): number => a.requests.filter((r) => r.msg.questions[0]!.type === 'A').length + b.requests.filter((r) => r.msg.questions[0]!.type === 'A').length;
  const { forwards } = await setupForwards(
    `.:53 {\n  forward . ${a.address} ${b.address} {\n    read_timeout 60ms\n    max_connect_attempts 1\n    max_fails 0\n  }\n  forward . ${a.address} ${b.address} {\n    read_timeout 60ms\n    max_connect_attempts 0\n    max_fails 0\n  }\n  forward . ${a.address} ${b.address} {\n    read_timeout 60ms\n    max_fails 0\n  }\n}`,
  );
  const [one, unlimited, dflt] = forwards as [(typeof forwards)[0], (typeof forwards)[0], (typeof forwards)[0]];
  for (const f of forwards) f.onStartup();
  unlimited.timeout = 400;
  try {
    let res = await serveHandler(one, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal(count(), 1);
    res = await serveHandler(dflt, makeQuery('example.org'));
    assert.equal(count(), 1 + 4, 'default: 2 per upstream');
    res = await serveHandler(unlimited, makeQuery('example.org'));
    const n = count() - 5;
    assert.ok(n >= 5 && n <= 7, `no cap: attempts until the deadline (400 ms / 60 ms): ${n}`);
  } finally {
    for (const f of forwards) f.onShutdown();
    await closeAll(a, b);
  }
});
