import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Context, RCODE } from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import type { Forward } from '../src/index.js';
import { aReply as aReplyOf, handles, setupForwards, socketsBackTo, upstream, type Upstream } from './helpers.js';

let baseline = 0;
before(() => {
  baseline = handles().sockets;
});
after(async () => {
  assert.equal(await socketsBackTo(baseline), baseline, 'no sockets left open');
});

async function started(body: string): Promise<Forward> {
  const { forwards } = await setupForwards(`.:53 {\n${body}\n}`);
  forwards[0]!.onStartup();
  return forwards[0]!;
}

function aQueries(up: Upstream): number {
  return up.requests.filter((r) => r.msg.questions[0]!.type === 'A').length;
}

test('an aborted ctx.signal stops waiting at once (UDP and TCP), without a health check', async () => {
  const up = await upstream(() => null);
  for (const tcp of [false, true]) {
    const f = await started(`forward . ${up.address}${tcp ? ' {\n force_tcp\n}' : ''}`);
    try {
      const ac = new AbortController();
      const ctx = Context.background().withSignal(ac.signal);
      setTimeout(() => ac.abort(), 60);
      const t0 = performance.now();
      const res = await serveHandler(f, makeQuery('example.org'), { ctx, writer: new TestWriter() });
      const took = performance.now() - t0;
      assert.equal(res.rcode, RCODE.SERVFAIL);
      assert.equal((res.error as Error).message, 'context canceled');
      assert.ok(took >= 55 && took < 500, `took ${took} ms (read timeout is 2 s)`);
      assert.equal(f.proxies[0]!.fails, 0);
      assert.equal(f.proxies[0]!.probe.active, false, 'cancellation is not an upstream failure');
    } finally {
      f.onShutdown();
    }
  }
  assert.equal(aQueries(up), 2);
  await up.stop();
});

test('a deadline (AbortSignal.timeout, as the cancel plugin) reads "context deadline exceeded"; an aborted signal sends nothing', async () => {
  const up = await upstream(() => null);
  const f = await started(`forward . ${up.address}`);
  try {
    let res = await serveHandler(f, makeQuery('example.org'), { ctx: Context.background().withSignal(AbortSignal.timeout(50)) });
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'context deadline exceeded');
    const ac = new AbortController();
    ac.abort();
    res = await serveHandler(f, makeQuery('example.org'), { ctx: Context.background().withSignal(ac.signal) });
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'no healthy proxies');
    assert.equal(aQueries(up), 1);
  } finally {
    f.onShutdown();
    await up.stop();
  }
});

test('many queries on one signal: one listener (no MaxListeners warning); aborting it stops them all', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  const slow = await upstream((q) => new Promise((r) => setTimeout(() => r(aReplyOf(q)), 30)));
  const dead = await upstream(() => null);
  const f = await started(`forward . ${slow.address}`);
  const g = await started(`forward . ${dead.address}`);
  try {
    // the shared never-aborted signal of Context.background()
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => serveHandler(f, makeQuery(`q${i}.example.org`))));
    assert.ok(rs.every((r) => r.rcode === 0));
    const ac = new AbortController();
    const ctx = (): Context => Context.background().withSignal(ac.signal);
    const pending = Array.from({ length: 30 }, (_, i) => serveHandler(g, makeQuery(`d${i}.example.org`), { ctx: ctx() }));
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    const ds = await Promise.all(pending);
    assert.ok(ds.every((r) => (r.error as Error).message === 'context canceled'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.map((w) => w.name),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    f.onShutdown();
    g.onShutdown();
    await slow.stop();
    await dead.stop();
  }
});
