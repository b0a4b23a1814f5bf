import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE, RECURSION_DESIRED } from '@tsdns/core';
import { makeQuery, serveHandler } from '@tsdns/testing';
import { Forward } from '../src/index.js';
import { aReply, closeAll, handles, metric0, serve, setupForwards, sleep, socketsBackTo, upstream, waitFor, type Upstream } from './helpers.js';

let baseline = 0;
before(() => {
  baseline = handles().sockets;
});
after(async () => {
  assert.equal(await socketsBackTo(baseline), baseline, 'no sockets left open');
});

function nsChecks(up: Upstream): { name: string; rd: boolean; proto: string }[] {
  return up.requests
    .filter((r) => r.msg.questions[0]?.type === 'NS')
    .map((r) => ({ name: r.msg.questions[0]!.name, rd: (r.msg.flags & RECURSION_DESIRED) !== 0, proto: r.proto }));
}

test('one of two upstreams dies under load: every query is answered, it is marked down and skipped, then used again when back', async () => {
  const a = await upstream((q) => aReply(q, '192.0.2.1'));
  const b = await upstream((q) => aReply(q, '192.0.2.2'));
  const s = await serve(`.:0 {\n  forward . ${a.address} ${b.address} {\n    read_timeout 200ms\n    health_check 50ms\n  }\n}`);
  const f = s.instance.configs[0]!.handlers[0] as Forward;
  const pb = f.proxies.find((p) => p.addr === b.address)!;
  const failuresBefore = await metric0('coredns_proxy_healthcheck_failures_total', { proxy_name: 'forward', to: b.address });
  try {
    let answered = 0;
    let failed = 0;
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const r = await s.query(`q${answered + failed}.example.org`, 'A', { timeoutMs: 3000 });
        if (r.rcode === RCODE.NOERROR && r.msg.answers.length === 1) answered++;
        else failed++;
      }
    };
    const load = Promise.all(Array.from({ length: 10 }, worker));
    await sleep(150);
    assert.ok(b.count('udp') > 0, 'both upstreams were used');
    await b.stop(); // killed while queries are running
    await waitFor(() => pb.down(f.maxfails), 3000, 'the dead upstream to be marked down');
    const bFails = pb.fails;
    assert.ok(bFails > f.maxfails);
    const aBefore = a.count('udp');
    await sleep(200);
    assert.ok(a.count('udp') > aBefore + 10, 'the live upstream takes the load');
    // back on the same port: the health check notices by itself
    await b.start();
    await waitFor(() => !pb.down(f.maxfails), 3000, 'the upstream to be up again');
    assert.equal(pb.fails, 0);
    const bBack = b.count('udp');
    await sleep(200);
    running = false;
    await load;
    assert.ok(b.count('udp') - bBack > 5, `the upstream is used again (${b.count('udp') - bBack} queries)`);
    assert.equal(failed, 0, `every query answered (${answered} answered)`);
    assert.ok(answered > 100, `answered ${answered}`);
    const failuresAfter = await metric0('coredns_proxy_healthcheck_failures_total', { proxy_name: 'forward', to: b.address });
    assert.ok(failuresAfter - failuresBefore >= 3, 'failed checks are counted');
  } finally {
    await closeAll(s, a, b);
  }
});

test('all upstreams down: failfast answers SERVFAIL "no healthy proxies"; otherwise a random one is tried; both count as broken', async () => {
  const a = await upstream();
  const b = await upstream();
  const ports = [a.port, b.port];
  await a.stop();
  await b.stop();
  const { forwards } = await setupForwards(
    `.:53 {\n  forward . 127.0.0.1:${ports[0]} 127.0.0.1:${ports[1]} {\n    max_fails 1\n    health_check 20ms\n    failfast_all_unhealthy_upstreams\n  }\n  forward . 127.0.0.1:${ports[0]} 127.0.0.1:${ports[1]} {\n    max_fails 1\n    health_check 20ms\n  }\n}`,
  );
  const [ff, f] = forwards as [Forward, Forward];
  ff.onStartup();
  f.onStartup();
  try {
    // failed exchanges start the health checks; refused checks fail fast
    let res = await serveHandler(ff, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.match((res.error as Error).message, /connection refused$/);
    await serveHandler(f, makeQuery('example.org'));
    await waitFor(() => [...ff.proxies, ...f.proxies].every((p) => p.down(1)), 3000, 'all upstreams down');

    const broken0 = await metric0('coredns_forward_healthcheck_broken_total');
    const t0 = performance.now();
    res = await serveHandler(ff, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'no healthy proxies');
    assert.ok(performance.now() - t0 < 50, 'fails fast');
    assert.equal(await metric0('coredns_forward_healthcheck_broken_total'), broken0 + 1);

    res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.match((res.error as Error).message, /connection refused$/, 'a random upstream was tried anyway');
    assert.equal(await metric0('coredns_forward_healthcheck_broken_total'), broken0 + 2, 'one attempt when all are down');
  } finally {
    ff.onShutdown();
    f.onShutdown();
  }
});

test('health check queries: ". IN NS" with RD, no_rec, domain, over TCP with force_tcp; max_fails 0 never checks', async () => {
  // A queries are never answered (so they fail); NS queries are
  const handler = (q: Parameters<typeof aReply>[0]): ReturnType<typeof aReply> | null => (q.questions[0]!.type === 'NS' ? aReply(q) : null);
  const cases: [string, { name: string; rd: boolean; proto: string } | undefined][] = [
    ['read_timeout 50ms', { name: '.', rd: true, proto: 'udp' }],
    ['read_timeout 50ms\n health_check 500ms no_rec domain Example.ORG', { name: 'example.org.', rd: false, proto: 'udp' }],
    ['read_timeout 50ms\n force_tcp', { name: '.', rd: true, proto: 'tcp' }],
    ['read_timeout 50ms\n max_fails 0', undefined],
  ];
  for (const [opts, want] of cases) {
    const up = await upstream(handler);
    const { forwards } = await setupForwards(`.:53 {\n  forward . ${up.address} {\n ${opts}\n }\n}`);
    const f = forwards[0]!;
    f.onStartup();
    try {
      const res = await serveHandler(f, makeQuery('example.org'));
      assert.equal(res.rcode, RCODE.SERVFAIL);
      if (want === undefined) {
        await sleep(100);
        assert.deepEqual(nsChecks(up), [], opts);
      } else {
        await waitFor(() => nsChecks(up).length > 0, 2000, 'a health check');
        assert.deepEqual(nsChecks(up)[0], want, opts);
        assert.equal(f.proxies[0]!.fails, 0, 'any reply is healthy');
        // each failed attempt (two by default) kicks a check; each stops once it succeeded
        await sleep(60);
        const n = nsChecks(up).length;
        assert.ok(n >= 1 && n <= 2, `${n} checks`);
        await sleep(100);
        assert.equal(nsChecks(up).length, n, 'no more checks after a success');
      }
    } finally {
      f.onShutdown();
      await up.stop();
    }
  }
});

test('any reply to a health check is healthy (even REFUSED); none is a failure, counted', async () => {
  const up = await upstream((q) => {
    const m = aReply(q);
    if (q.questions[0]!.type === 'NS') m.flags = (m.flags & ~0xf) | RCODE.REFUSED;
    return q.questions[0]!.type === 'NS' ? m : null;
  });
  const { forwards } = await setupForwards(`.:53 {\n  forward . ${up.address} {\n    read_timeout 50ms\n  }\n}`);
  const f = forwards[0]!;
  f.onStartup();
  const p = f.proxies[0]!;
  try {
    p.fails = 5;
    assert.equal(p.down(f.maxfails), true);
    p.healthcheck();
    await waitFor(() => p.fails === 0, 2000, 'the check to succeed');
    assert.equal(p.down(f.maxfails), false);
    // an upstream that does not answer at all: each check fails after its timeout (1 s; shortened here)
    up.handler = () => null;
    p.health.readTimeoutMs = 150;
    const before0 = await metric0('coredns_proxy_healthcheck_failures_total', { proxy_name: 'forward', to: up.address });
    p.healthcheck();
    await waitFor(() => p.fails === 1, 1000, 'a failed check');
    assert.equal(await metric0('coredns_proxy_healthcheck_failures_total', { proxy_name: 'forward', to: up.address }), before0 + 1);
  } finally {
    f.onShutdown();
    await up.stop();
  }
  const t = handles().timers;
  assert.ok(t < 20, `no timers piling up (${t})`);
});
