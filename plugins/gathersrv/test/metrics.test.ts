/**
 * Metrics: gathersrv's two counters (names, labels, values) and tsdns's
 * per-cluster health series, on the shared registry that `prometheus` serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMetrics } from '@tsdns/plugin-metrics';
import { clusterHealthy, requestCount, subRequestCount, subRequestFailures, subRequestSkipped } from '../src/index.js';
import { delay, metricValue, scenario, serverLabel } from './helpers.js';

const SRV_Q = '_demo._tcp.demo-service.default.svc.distributed.local.';

/** Polls until `fn` is true (late sub-requests are counted when they end). */
async function eventually(fn: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error('condition not reached');
    await delay(20);
  }
}

test('request_count_total and sub_request_count_total count what gathersrv saw and sent', async () => {
  const sc = await scenario();
  try {
    const server = serverLabel(sc.s);
    const req = (qualified: string, type: string): Promise<number> => metricValue(requestCount, { server, qualified, type });
    const sub = (prefix: string, type: string, code: string): Promise<number> => metricValue(subRequestCount, { server, prefix, type, code });
    const before = {
      srv: await req('true', 'SRV'),
      a: await req('true', 'A'),
      mx: await req('false', 'MX'),
      unknown: await req('false', 'TYPE65280'),
      notBelow: await req('false', 'SRV'),
      subA: await sub('a-', 'SRV', '0'),
      subB: await sub('b-', 'SRV', '0'),
      subAA: await sub('a-', 'A', '0'),
      subBA: await sub('b-', 'A', '0'),
    };
    await sc.s.query(SRV_Q, 'SRV');
    await sc.s.query(SRV_Q, 'SRV');
    await sc.s.query('a-demo-service-0.default.svc.distributed.local.', 'A');
    await sc.s.query('demo.svc.distributed.local.', 'MX');
    await sc.s.query('demo.svc.distributed.local.', 'TYPE65280');
    await sc.s.query('_demo._tcp.demo-service.default.svc.cluster-a.local.', 'SRV');

    assert.equal((await req('true', 'SRV')) - before.srv, 2);
    assert.equal((await req('true', 'A')) - before.a, 1);
    assert.equal((await req('false', 'MX')) - before.mx, 1);
    assert.equal((await req('false', 'TYPE65280')) - before.unknown, 1);
    assert.equal((await req('false', 'SRV')) - before.notBelow, 1);
    assert.equal((await sub('a-', 'SRV', '0')) - before.subA, 2);
    assert.equal((await sub('b-', 'SRV', '0')) - before.subB, 2);
    assert.equal((await sub('a-', 'A', '0')) - before.subAA, 1, 'the prefixed A went to cluster a only');
    assert.equal((await sub('b-', 'A', '0')) - before.subBA, 0);

    const exposition = await renderMetrics();
    assert.match(exposition, /# HELP coredns_gathersrv_request_count_total Counter of requests processed via plugin\n# TYPE coredns_gathersrv_request_count_total counter\n/);
    assert.match(exposition, /# HELP coredns_gathersrv_sub_request_count_total Counter of sub requests\.\n/);
    assert.match(exposition, /coredns_gathersrv_sub_request_count_total\{server="dns:\/\/127\.0\.0\.1:0",prefix="a-",type="SRV",code="0"\} \d+/);
    assert.match(exposition, /coredns_gathersrv_cluster_healthy\{domain="distributed\.local\.",cluster="cluster-a\.local\.",prefix="a-"\} 1/);
  } finally {
    await sc.close();
  }
});

test('a dead cluster: sub-request code 2, timeouts, skipped sub-requests and the health gauge', async () => {
  const sc = await scenario({ cancel: '200ms', b: { silent: true } });
  try {
    const server = serverLabel(sc.s);
    const labelsB = { server, prefix: 'b-' };
    const code2 = (): Promise<number> => metricValue(subRequestCount, { ...labelsB, type: 'SRV', code: '2' });
    const timeouts = (): Promise<number> => metricValue(subRequestFailures, { ...labelsB, reason: 'timeout' });
    const skipped = (): Promise<number> => metricValue(subRequestSkipped, labelsB);
    const healthy = (): Promise<number> => metricValue(clusterHealthy, { domain: 'distributed.local.', cluster: 'cluster-b.local.', prefix: 'b-' });
    const c0 = await code2();
    const t0 = await timeouts();
    const s0 = await skipped();
    assert.equal(await healthy(), 1);

    await sc.s.query(SRV_Q, 'SRV');
    assert.equal((await timeouts()) - t0, 1);
    // the sub-request ends (cancelled) after the reply: counted then, with forward's SERVFAIL
    await eventually(async () => (await code2()) - c0 === 1);
    assert.equal(await healthy(), 1, 'one failure is not enough');

    await sc.s.query(SRV_Q, 'SRV');
    assert.equal((await timeouts()) - t0, 2);
    assert.equal(await healthy(), 0, 'down after max_fails (2) failures');

    await sc.s.query(SRV_Q, 'SRV'); // probe sent
    await sc.s.query(SRV_Q, 'SRV'); // skipped: the probe is still in flight
    await sc.s.query(SRV_Q, 'SRV');
    assert.equal((await skipped()) - s0, 2);
    assert.equal(await metricValue(subRequestFailures, { server, prefix: 'a-', reason: 'timeout' }), 0);
  } finally {
    await sc.close();
  }
});
