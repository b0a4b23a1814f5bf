import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE, registry } from '@tsdns/core';
import { aReply, closeAll, metric, metric0, rcodeReply, serve, upstream } from './helpers.js';

test('metrics after real queries: request durations per upstream and rcode, connection cache per protocol', async () => {
  const up = await upstream((q) => (q.questions[0]!.name.startsWith('nx') ? rcodeReply(q, RCODE.NXDOMAIN) : aReply(q)));
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  const to = up.address;
  try {
    for (let i = 0; i < 3; i++) await s.query(`q${i}.example.org`);
    await s.query('nx.example.org');
    await s.query('tcp.example.org', 'A', { tcp: true });
    await s.query('tcp2.example.org', 'A', { tcp: true });
    assert.equal(await metric('coredns_proxy_request_duration_seconds_count', { proxy_name: 'forward', to, rcode: 'NOERROR' }), 5);
    assert.equal(await metric('coredns_proxy_request_duration_seconds_count', { proxy_name: 'forward', to, rcode: 'NXDOMAIN' }), 1);
    const sum = (await metric('coredns_proxy_request_duration_seconds_sum', { proxy_name: 'forward', to, rcode: 'NOERROR' }))!;
    assert.ok(sum > 0 && sum < 1, `sum ${sum}`);
    assert.equal(await metric('coredns_proxy_request_duration_seconds_bucket', { proxy_name: 'forward', to, rcode: 'NOERROR', le: '+Inf' }), 5);
    assert.equal(await metric('coredns_proxy_request_duration_seconds_bucket', { proxy_name: 'forward', to, rcode: 'NOERROR', le: '8.192' }), 5);
    assert.equal(await metric('coredns_proxy_conn_cache_misses_total', { proxy_name: 'forward', to, proto: 'udp' }), 1);
    assert.equal(await metric('coredns_proxy_conn_cache_hits_total', { proxy_name: 'forward', to, proto: 'udp' }), 3);
    assert.equal(await metric('coredns_proxy_conn_cache_misses_total', { proxy_name: 'forward', to, proto: 'tcp' }), 1);
    assert.equal(await metric('coredns_proxy_conn_cache_hits_total', { proxy_name: 'forward', to, proto: 'tcp' }), 1);
    assert.equal(await metric('coredns_proxy_healthcheck_failures_total', { proxy_name: 'forward', to }), undefined, 'no series before a first failure');

    const text = await registry.metrics();
    assert.match(text, /# HELP coredns_proxy_request_duration_seconds Histogram of the time each request took\.\n# TYPE coredns_proxy_request_duration_seconds histogram\n/);
    assert.ok(text.includes(`coredns_proxy_request_duration_seconds_bucket{le="0.00025",proxy_name="forward",to="${to}",rcode="NOERROR"}`) || text.includes(`coredns_proxy_request_duration_seconds_bucket{proxy_name="forward",to="${to}",rcode="NOERROR",le="0.00025"}`), 'bucket lines');
    assert.ok(text.includes(`coredns_proxy_request_duration_seconds_count{proxy_name="forward",to="${to}",rcode="NXDOMAIN"} 1`));
    assert.ok(text.includes(`coredns_proxy_conn_cache_hits_total{proxy_name="forward",to="${to}",proto="udp"} 3`));
    assert.match(text, /# HELP coredns_proxy_conn_cache_misses_total Counter of connection cache misses per upstream and protocol\.\n# TYPE coredns_proxy_conn_cache_misses_total counter/);
    assert.match(text, /# HELP coredns_proxy_healthcheck_failures_total Counter of the number of failed healthchecks\.\n# TYPE coredns_proxy_healthcheck_failures_total counter/);
    assert.match(text, /# HELP coredns_forward_healthcheck_broken_total Counter of the number of complete failures of the healthchecks\.\n# TYPE coredns_forward_healthcheck_broken_total counter\ncoredns_forward_healthcheck_broken_total \d+/);
    assert.match(text, /coredns_forward_max_concurrent_rejects_total \d+/);
  } finally {
    await closeAll(s, up);
  }
  // a second instance for the same upstream shares the series (as CoreDNS's global vectors)
  const s2 = await serve(`.:0 {\n  forward . ${to} {\n    max_fails 0\n  }\n}`);
  try {
    const before = await metric0('coredns_proxy_conn_cache_misses_total', { proxy_name: 'forward', to, proto: 'udp' });
    await s2.query('gone.example.org', 'A', { timeoutMs: 5000 });
    assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', { proxy_name: 'forward', to, proto: 'udp' }), before + 2);
  } finally {
    await s2.close();
  }
});
