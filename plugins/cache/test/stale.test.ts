import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AUTHORITATIVE_ANSWER, Context, rcodeOf, type Msg } from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import { aReply, cacheWith, Clock, denial, fakeNext, metricValue, rcodeReply, serve, ttlOf, upstream } from './helpers.js';

const ip = (m: Msg): unknown => (m.answers[0] as { data?: unknown } | undefined)?.data;

test('prefetch: a popular entry is refreshed in the background once its TTL is within PERCENTAGE', async () => {
  let addr = '192.0.2.1';
  const up = await upstream((q) => aReply(q, addr, 100));
  const s = await serve(`.:0 {\n  cache {\n    prefetch 2 1m 10%\n  }\n  forward . ${up.address}\n}`);
  try {
    await s.server.send(makeQuery('pop.example.org', 'A'));
    assert.equal(up.requests.length, 1);
    s.clock.advance(50);
    await s.server.send(makeQuery('pop.example.org', 'A')); // 1 hit, TTL 50: nothing
    await s.cache.idle();
    assert.equal(up.requests.length, 1);
    addr = '192.0.2.2';
    s.clock.advance(41);
    const r = await s.server.send(makeQuery('pop.example.org', 'A')); // 2 hits, TTL 9 <= ceil(10% of 100)
    assert.equal(ttlOf(r.msg.answers[0]), 9, 'this reply is still the old entry');
    assert.equal(ip(r.msg), '192.0.2.1');
    await s.cache.idle();
    assert.equal(up.requests.length, 2, 'refreshed in the background');
    assert.equal(up.requests[1]!.proto, 'tcp', 'prefetches go upstream over TCP (no client to size a UDP reply for)');
    const r2 = await s.server.send(makeQuery('pop.example.org', 'A'));
    assert.equal(ip(r2.msg), '192.0.2.2');
    assert.equal(ttlOf(r2.msg.answers[0]), 100);
    assert.equal(r2.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    assert.equal(up.requests.length, 2);
    assert.equal(await metricValue('coredns_cache_prefetch_total', { server: s.label, zones: '.', view: '' }), 1);
  } finally {
    await s.close();
    await up.close();
  }
});

test('prefetch: at most one refresh per entry at a time; a gap of DURATION resets the popularity', async () => {
  const calls = { n: 0 };
  const clock = new Clock();
  const c = await cacheWith('.:53 {\n cache {\n  prefetch 1 10s 50%\n }\n}', fakeNext((r) => aReply(r, '192.0.2.1', 60), calls), clock);
  await serveHandler(c, makeQuery('a.example.org', 'A'));
  clock.advance(31); // TTL 29 <= 30
  const w = new TestWriter();
  for (let i = 0; i < 5; i++) c.ServeDNS(Context.background(), w, makeQuery('a.example.org', 'A'));
  await c.idle();
  assert.equal(calls.n, 2, 'five eligible hits, one refresh');
  // the refreshed entry inherits the hit count; after a gap of 10 s or more the count restarts at 1
  const clock2 = new Clock();
  const calls2 = { n: 0 };
  const c2 = await cacheWith('.:53 {\n cache {\n  prefetch 3 10s 50%\n }\n}', fakeNext((r) => aReply(r, '192.0.2.1', 60), calls2), clock2);
  await serveHandler(c2, makeQuery('b.example.org', 'A'));
  clock2.advance(1);
  await serveHandler(c2, makeQuery('b.example.org', 'A')); // hits 1
  clock2.advance(1);
  await serveHandler(c2, makeQuery('b.example.org', 'A')); // hits 2
  clock2.advance(29); // TTL 29, but a gap of 29 s: hits 1
  await serveHandler(c2, makeQuery('b.example.org', 'A'));
  await c2.idle();
  assert.equal(calls2.n, 1);
  clock2.advance(1);
  await serveHandler(c2, makeQuery('b.example.org', 'A')); // hits 2
  await c2.idle();
  assert.equal(calls2.n, 1);
  clock2.advance(1);
  await serveHandler(c2, makeQuery('b.example.org', 'A')); // hits 3, TTL 27
  await c2.idle();
  assert.equal(calls2.n, 2);
});

test('serve_stale immediate: an expired entry is served (TTL 0) while the upstream is dead, refreshed when it is back', async () => {
  let addr = '192.0.2.1';
  const up = await upstream((q) => aReply(q, addr, 60));
  const s = await serve(`.:0 {\n  cache {\n    serve_stale\n  }\n  forward . ${up.address}\n}`);
  const dead = await upstream(() => null);
  await dead.close(); // a port nothing listens on: queries are refused at once
  const s2 = await serve(`.:0 {\n  cache {\n    serve_stale 10m immediate 30s\n  }\n  forward . ${up.address}\n}`);
  try {
    await s.server.send(makeQuery('stale.example.org', 'A'));
    s.clock.advance(61);
    addr = '192.0.2.2';
    const r = await s.server.send(makeQuery('stale.example.org', 'A'));
    assert.equal(ip(r.msg), '192.0.2.1', 'the stale entry first');
    assert.equal(ttlOf(r.msg.answers[0]), 0);
    assert.equal(r.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    await s.cache.idle();
    assert.equal(up.requests.length, 2, 'refreshed in the background');
    const r2 = await s.server.send(makeQuery('stale.example.org', 'A'));
    assert.equal(ip(r2.msg), '192.0.2.2');
    assert.equal(ttlOf(r2.msg.answers[0]), 60);
    assert.equal(await metricValue('coredns_cache_served_stale_total', { server: s.label, zones: '.', view: '' }), 1);

    // RESPONSE_TTL, and a dead upstream: the stale entry keeps being served within the stale window
    await s2.server.send(makeQuery('stale.example.org', 'A'));
    await up.close();
    s2.clock.advance(120);
    for (let i = 0; i < 3; i++) {
      const st = await s2.server.send(makeQuery('stale.example.org', 'A'));
      assert.equal(ip(st.msg), '192.0.2.2');
      assert.equal(ttlOf(st.msg.answers[0]), 30);
      await s2.cache.idle();
    }
    // beyond the window: a miss, and forward has nothing to say
    s2.clock.advance(600);
    const gone = await s2.server.send(makeQuery('stale.example.org', 'A'));
    assert.equal(rcodeOf(gone.msg), 2);
  } finally {
    await s.close();
    await s2.close();
    await up.close();
  }
});

test('serve_stale FAILURE_RECHECK: no new refresh of the entry until the recheck period after a failed one has passed', async () => {
  let fail = false;
  const up = await upstream((q) => (fail ? rcodeReply(q, 2) : aReply(q, '192.0.2.1', 60)));
  const s = await serve(`.:0 {\n  cache {\n    serve_stale 1h immediate 0 30s\n    servfail 0\n  }\n  forward . ${up.address}\n}`);
  try {
    await s.server.send(makeQuery('r.example.org', 'A'));
    fail = true;
    s.clock.advance(61);
    await s.server.send(makeQuery('r.example.org', 'A'));
    await s.cache.idle();
    assert.equal(up.requests.length, 2, 'a refresh, which failed (SERVFAIL does not refresh)');
    s.clock.advance(10);
    const r = await s.server.send(makeQuery('r.example.org', 'A'));
    await s.cache.idle();
    assert.equal(up.requests.length, 2, 'within the recheck period: stale, no refresh');
    assert.equal(ip(r.msg), '192.0.2.1');
    s.clock.advance(21);
    await s.server.send(makeQuery('r.example.org', 'A'));
    await s.cache.idle();
    assert.equal(up.requests.length, 3);
  } finally {
    await s.close();
    await up.close();
  }
});

test('serve_stale verify: the upstream is asked first; stale only when it fails', async () => {
  let addr = '192.0.2.1';
  let fail = false;
  const up = await upstream((q) => (fail ? rcodeReply(q, 2) : aReply(q, addr, 60)));
  const s = await serve(`.:0 {\n  cache {\n    serve_stale 1h verify\n  }\n  forward . ${up.address}\n}`);
  try {
    await s.server.send(makeQuery('v.example.org', 'A'));
    s.clock.advance(61);
    addr = '192.0.2.2';
    const r = await s.server.send(makeQuery('v.example.org', 'A'));
    assert.equal(ip(r.msg), '192.0.2.2', 'the verified answer, not the stale one');
    assert.equal(ttlOf(r.msg.answers[0]), 60);
    assert.equal(up.requests.length, 2);
    const hit = await s.server.send(makeQuery('v.example.org', 'A'));
    assert.equal(hit.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER, 'and cached');
    assert.equal(up.requests.length, 2);

    s.clock.advance(61);
    fail = true;
    const st = await s.server.send(makeQuery('v.example.org', 'A'));
    assert.equal(up.requests.length, 3);
    assert.equal(rcodeOf(st.msg), 0, 'SERVFAIL does not replace the stale entry');
    assert.equal(ip(st.msg), '192.0.2.2');
    assert.equal(ttlOf(st.msg.answers[0]), 0);
    await up.close();
    const dead = await s.server.send(makeQuery('v.example.org', 'A'));
    assert.equal(ip(dead.msg), '192.0.2.2', 'a dead upstream: stale');
  } finally {
    await s.close();
    await up.close();
  }
});

test('serve_stale verify with VERIFY_TIMEOUT: a slow upstream gets stale served, the cache is refreshed when it answers', async () => {
  let addr = '192.0.2.1';
  let delay = 0;
  const up = await upstream(async (q) => {
    if (delay > 0) await sleep(delay);
    return aReply(q, addr, 60);
  });
  const s = await serve(`.:0 {\n  cache {\n    serve_stale 1h verify 50ms 10s\n  }\n  forward . ${up.address}\n}`);
  try {
    await s.server.send(makeQuery('slow.example.org', 'A'));
    s.clock.advance(61);
    addr = '192.0.2.2';
    delay = 300;
    const t0 = Date.now();
    const r = await s.server.send(makeQuery('slow.example.org', 'A'));
    assert.ok(Date.now() - t0 < 250, 'served at the verify timeout');
    assert.equal(ip(r.msg), '192.0.2.1');
    assert.equal(ttlOf(r.msg.answers[0]), 10, 'RESPONSE_TTL');
    await s.cache.idle();
    const r2 = await s.server.send(makeQuery('slow.example.org', 'A'));
    assert.equal(ip(r2.msg), '192.0.2.2', 'the late answer refreshed the cache');
    assert.equal(r2.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    // a fast upstream within the timeout: the fresh entry is served (from the cache, AA)
    s.clock.advance(61);
    addr = '192.0.2.3';
    delay = 0;
    const r3 = await s.server.send(makeQuery('slow.example.org', 'A'));
    assert.equal(ip(r3.msg), '192.0.2.3');
    assert.equal(ttlOf(r3.msg.answers[0]), 60);
    assert.equal(r3.msg.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
  } finally {
    await s.close();
    await up.close();
  }
});

test('serve_stale_policy prefer_positive: a stale positive answer wins over a newer denial', async () => {
  for (const prefer of [false, true]) {
    const clock = new Clock();
    let nx = false;
    const calls = { n: 0 };
    const policy = prefer ? '\n  serve_stale_policy prefer_positive' : '';
    const c = await cacheWith(`.:53 {\n cache {\n  serve_stale${policy}\n }\n}`, fakeNext((r) => (nx ? denial(r) : aReply(r, '192.0.2.1', 60)), calls), clock);
    await serveHandler(c, makeQuery('pp.example.org', 'A'));
    clock.advance(61);
    nx = true;
    const first = await serveHandler(c, makeQuery('pp.example.org', 'A'));
    assert.equal(ip(first.reply!), '192.0.2.1', 'immediate: stale first');
    await c.idle();
    assert.equal(calls.n, 2);
    const second = await serveHandler(c, makeQuery('pp.example.org', 'A'));
    if (prefer) {
      assert.equal(rcodeOf(second.reply!), 0, 'prefer_positive keeps answering with the stale positive entry');
      assert.equal(ip(second.reply!), '192.0.2.1');
    } else {
      assert.equal(rcodeOf(second.reply!), 3, 'without the policy the refreshed denial is served');
    }
  }
});

test('prefetch: CoreDNS TestPrefetch table (TTL thresholds, DO and CD keys)', async () => {
  interface V {
    after: number;
    ttl: number;
    ip: string;
    do?: boolean;
    cd?: boolean;
    fetch?: boolean;
  }
  const cases: { qname: string; ttl: number; prefetch: number; v: V[] }[] = [
    { qname: 'hits.reset.example.org', ttl: 80, prefetch: 1, v: [{ after: 0, ttl: 80, ip: '127.0.0.1', fetch: true }, { after: 73, ttl: 7, ip: '127.0.0.1', fetch: true }, { after: 80, ttl: 73, ip: '127.0.0.2' }] },
    {
      qname: 'short.ttl.example.org',
      ttl: 5,
      prefetch: 1,
      v: [{ after: 0, ttl: 5, ip: '127.0.0.1', fetch: true }, { after: 1, ttl: 4, ip: '127.0.0.1' }, { after: 4, ttl: 1, ip: '127.0.0.1', fetch: true }, { after: 5, ttl: 4, ip: '127.0.0.2' }],
    },
    {
      qname: 'no.prefetch.example.org',
      ttl: 30,
      prefetch: 0,
      v: [{ after: 0, ttl: 30, ip: '127.0.0.1', fetch: true }, { after: 15, ttl: 15, ip: '127.0.0.1' }, { after: 29, ttl: 1, ip: '127.0.0.1' }, { after: 30, ttl: 30, ip: '127.0.0.2', fetch: true }],
    },
    {
      qname: 'do.prefetch.example.org',
      ttl: 80,
      prefetch: 1,
      v: [
        { after: 0, ttl: 80, ip: '127.0.0.1', do: true, fetch: true },
        { after: 73, ttl: 7, ip: '127.0.0.1', do: true, fetch: true },
        { after: 80, ttl: 73, ip: '127.0.0.2', do: true },
        { after: 80, ttl: 80, ip: '127.0.0.3', fetch: true },
      ],
    },
    {
      qname: 'cd.prefetch.example.org',
      ttl: 80,
      prefetch: 1,
      v: [
        { after: 0, ttl: 80, ip: '127.0.0.1', cd: true, fetch: true },
        { after: 73, ttl: 7, ip: '127.0.0.1', cd: true, fetch: true },
        { after: 80, ttl: 73, ip: '127.0.0.2', cd: true },
        { after: 80, ttl: 80, ip: '127.0.0.3', fetch: true },
      ],
    },
  ];
  for (const tc of cases) {
    const clock = new Clock();
    const t0 = clock.t;
    let i = 0;
    const calls = { n: 0 };
    const c = await cacheWith(
      `.:53 {\n cache {\n  prefetch ${tc.prefetch || 1}\n }\n}`,
      fakeNext((r) => aReply(r, `127.0.0.${++i}`, tc.ttl), calls),
      clock,
    );
    c.prefetch = tc.prefetch;
    for (const v of tc.v) {
      clock.t = t0 + v.after * 1000;
      const before = calls.n;
      const r = await serveHandler(c, makeQuery(tc.qname, 'A', { bufsize: 512, do: v.do ?? false, cd: v.cd ?? false }));
      await c.idle();
      const what = `${tc.qname} after ${v.after}s`;
      assert.equal(calls.n - before, v.fetch ? 1 : 0, what);
      assert.equal(rcodeOf(r.reply!), 0, what);
      assert.equal(r.reply!.answers.length, 1, what);
      assert.equal(ttlOf(r.reply!.answers[0]), v.ttl, what);
      assert.equal(ip(r.reply!), v.ip, what);
    }
  }
});

test('serve_stale immediate: many concurrent hits on an expired entry start one refresh', async () => {
  const clock = new Clock();
  const calls = { n: 0 };
  const c = await cacheWith('.:53 {\n cache {\n  serve_stale\n }\n}', fakeNext((r) => aReply(r, '192.0.2.1', 100), calls), clock);
  await serveHandler(c, makeQuery('dedup.example.org', 'A'));
  clock.advance(110);
  const w = new TestWriter();
  for (let i = 0; i < 200; i++) c.ServeDNS(Context.background(), w, makeQuery('dedup.example.org', 'A'));
  await c.idle();
  assert.equal(calls.n, 2);
  assert.equal(w.written.length, 200);
});
