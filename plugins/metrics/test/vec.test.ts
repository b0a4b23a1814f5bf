/**
 * The core metric families the prometheus plugin records into: CounterVec,
 * HistogramVec and ZoneMetrics (packages/core/src/metrics.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterVec, HistogramVec, goFloatLabel, promClient, qtypeLabel, zoneMetrics } from '@tsdns/core';
import { renderMetrics } from '../src/index.js';
import { parseExposition, samples, value } from './helpers.js';

test('CounterVec/HistogramVec: prom-client compatible exposition; kept children survive reset()', async () => {
  const reg = new promClient.Registry();
  const c = new CounterVec({ name: 'x_total', help: 'A "counter" with \\ and\nnewline.', labelNames: ['a', 'b'], registers: [reg] });
  const h = new HistogramVec({ name: 'x_seconds', help: 'H.', labelNames: ['a'], buckets: [0.5, 0.1, 1], registers: [reg] });
  const plain = new CounterVec({ name: 'x_plain_total', help: 'P.', registers: [reg] });
  const kept = c.labels('1', 'q"uote');
  kept.inc();
  kept.inc(2.5);
  c.child(['2', '']).inc();
  assert.throws(() => kept.inc(-1), /not possible to decrease/);
  assert.throws(() => c.labels('only-one'), /Invalid number of arguments/);
  const hk = h.labels('x');
  for (const v of [0.05, 0.1, 0.3, 2]) hk.observe(v);
  assert.throws(() => hk.observe(NaN), TypeError);
  let text = await renderMetrics(reg);
  parseExposition(text);
  assert.equal(value(text, 'x_total', { a: '1', b: 'q"uote' }), 3.5);
  assert.equal(value(text, 'x_plain_total'), 0, 'a family without labels exists from the start');
  assert.ok(text.includes('# HELP x_total A "counter" with \\\\ and\\nnewline.\n'));
  assert.ok(text.includes('x_total{a="1",b="q\\"uote"} 3.5\n'));
  assert.deepEqual(
    samples(text, 'x_seconds_bucket', { a: 'x' }).map((s) => [s.labels['le'], s.value]),
    [['0.1', 2], ['0.5', 3], ['1', 3], ['+Inf', 4]],
  );
  assert.equal(value(text, 'x_seconds_count', { a: 'x' }), 4);
  assert.ok(Math.abs(value(text, 'x_seconds_sum', { a: 'x' })! - 2.45) < 1e-12);

  reg.resetMetrics();
  text = await renderMetrics(reg);
  assert.equal(samples(text, 'x_total').length, 0, 'reset forgets the label sets');
  assert.ok(!text.includes('x_seconds'), 'an empty family is left out');
  // a child kept across the reset comes back zeroed, and is the same object labels() returns
  kept.inc();
  assert.equal(c.labels('1', 'q"uote'), kept);
  c.labels('2', '').inc(); // the other one is revived through labels()
  hk.observe(0.2);
  text = await renderMetrics(reg);
  assert.equal(value(text, 'x_total', { a: '1' }), 1);
  assert.equal(value(text, 'x_total', { a: '2' }), 1);
  assert.equal(value(text, 'x_seconds_count', { a: 'x' }), 1);
  c.remove('2', '');
  assert.equal(samples(await renderMetrics(reg), 'x_total').length, 1);
  // JSON form, as prom-client's registry builds it
  const json = await reg.getMetricsAsJSON();
  assert.deepEqual(
    json.map((m) => [m.name, m.type]),
    [['x_total', 'counter'], ['x_seconds', 'histogram'], ['x_plain_total', 'counter']],
  );
  assert.throws(() => new CounterVec({ name: 'x_total', help: 'again', registers: [reg] }), /already been registered/);
});

test('Go float formatting of le labels and the type label', () => {
  assert.deepEqual([0.00025, 0.0005, 8.192, 64000, 1e6, 1234567, 0.00001, 524.288, 0].map(goFloatLabel), [
    '0.00025', '0.0005', '8.192', '64000', '1e+06', '1.234567e+06', '1e-05', '524.288', '0',
  ]);
  assert.equal(qtypeLabel(1), 'A');
  assert.equal(qtypeLabel(65), 'HTTPS');
  assert.equal(qtypeLabel(251), 'IXFR');
  assert.equal(qtypeLabel(10), 'other'); // NULL
  assert.equal(qtypeLabel(65280), 'other');
});

test('ZoneMetrics.record: one call updates the six families; series appear only when observed', async () => {
  const server = 'dns://unit-test:53';
  const zm = zoneMetrics(server, 'example.org.', 'v');
  assert.equal(zoneMetrics(server, 'example.org.', 'v'), zm, 'cached');
  zm.record('udp', 1, 'A', false, 0, 'whoami', 60, 33, 0.0003);
  zm.record('tcp', 2, 'UNKNOWN_65280', true, 3, 'whoami', 70, 40, 0.002);
  zm.record('udp', 1, 'AAAA', false, 2, '', 0, 33, 0.0001);
  const text = await renderMetrics();
  const L = { server, zone: 'example.org.', view: 'v' };
  assert.equal(value(text, 'coredns_dns_requests_total', { ...L, proto: 'udp', family: '1', type: 'A' }), 1);
  assert.equal(value(text, 'coredns_dns_requests_total', { ...L, proto: 'tcp', family: '2', type: 'other' }), 1);
  assert.equal(value(text, 'coredns_dns_do_requests_total', L), 1);
  assert.equal(value(text, 'coredns_dns_responses_total', { ...L, rcode: 'NOERROR', plugin: 'whoami' }), 1);
  assert.equal(value(text, 'coredns_dns_responses_total', { ...L, rcode: 'NXDOMAIN', plugin: 'whoami' }), 1);
  assert.equal(value(text, 'coredns_dns_responses_total', { ...L, rcode: 'SERVFAIL', plugin: '' }), 1);
  assert.equal(value(text, 'coredns_dns_request_size_bytes_sum', { ...L, proto: 'udp' }), 66);
  assert.equal(value(text, 'coredns_dns_response_size_bytes_sum', { ...L, proto: 'tcp' }), 70);
  assert.equal(value(text, 'coredns_dns_request_duration_seconds_count', L), 3);
  assert.equal(value(text, 'coredns_dns_request_duration_seconds_bucket', { ...L, le: '0.00025' }), 1);
  assert.equal(value(text, 'coredns_dns_request_duration_seconds_bucket', { ...L, le: '0.002' }), 3);
  // a zone never recorded has no series
  assert.equal(samples(text, 'coredns_dns_requests_total', { server, zone: 'example.com.' }).length, 0);
});
