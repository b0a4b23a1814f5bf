/**
 * The shared metrics registry works before prom-client is loaded (metrics
 * register, are found and removed), and loading it keeps every metric, in
 * registration order. Runs in its own process (node --test), so nothing has
 * used the registry before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterVec, GaugeVec, buildInfo, panicsTotal, pluginEnabled, promClient, promClientLoaded, registry } from '../src/index.js';

test('the shared registry: registering and looking up need no prom-client; everything else loads it', async () => {
  assert.equal(promClientLoaded(), false, 'importing core does not load prom-client');
  // core's own metrics count without it
  buildInfo.labels('1.14.7', 'tsdns-test', 'node').set(1);
  panicsTotal.inc();
  pluginEnabled.labels('dns://:53', '.', '', 'whoami').set(1);
  const mine = new CounterVec({ name: 'test_lazy_total', help: 'T.', labelNames: ['a'] });
  mine.labels('x').inc(2);
  assert.equal(registry.getSingleMetric('test_lazy_total'), mine as unknown);
  assert.throws(() => new CounterVec({ name: 'test_lazy_total', help: 'again' }), /already been registered/);
  // prom-client's rules: the same metric again is fine, another one by that name is not
  const lone = new GaugeVec({ name: 'test_lazy_gauge', help: 'G.', registers: [] });
  registry.registerMetric(lone as unknown as promClient.Metric);
  registry.registerMetric(lone as unknown as promClient.Metric);
  const other = new GaugeVec({ name: 'test_lazy_gauge', help: 'other', registers: [] });
  assert.throws(() => registry.registerMetric(other as unknown as promClient.Metric), /already been registered/);
  const gone = new GaugeVec({ name: 'test_lazy_removed', help: 'R.' });
  registry.removeSingleMetric('test_lazy_removed');
  assert.equal(registry.getSingleMetric('test_lazy_removed'), undefined);
  assert.equal(promClientLoaded(), false);
  void gone;

  const text = await registry.metrics();
  assert.equal(promClientLoaded(), true);
  assert.ok(text.includes('coredns_build_info{version="1.14.7",revision="tsdns-test",goversion="node"} 1\n'));
  assert.ok(text.includes('coredns_panics_total 1\n'));
  assert.ok(text.includes('coredns_plugin_enabled{server="dns://:53",zone=".",view="",name="whoami"} 1\n'));
  assert.ok(text.includes('# TYPE coredns_plugin_enabled gauge\n'));
  assert.ok(text.includes('test_lazy_total{a="x"} 2\n'));
  assert.ok(text.includes('test_lazy_gauge 0\n'));
  assert.ok(!text.includes('test_lazy_removed'));
  // registration order is exposition order
  const order = ['coredns_build_info', 'coredns_panics_total', 'coredns_dns_requests_total', 'coredns_plugin_enabled', 'test_lazy_total', 'test_lazy_gauge'];
  const at = order.map((n) => text.indexOf(`# HELP ${n} `));
  assert.deepEqual([...at].sort((a, b) => a - b), at);
  assert.ok(at.every((i) => i >= 0));

  // a real Registry from here on: prom-client's own metrics register on it
  assert.ok(registry instanceof promClient.Registry);
  const g = new promClient.Gauge({ name: 'test_prom_gauge', help: 'P.', registers: [registry] });
  g.set(5);
  assert.equal(registry.getSingleMetric('test_prom_gauge'), g);
  assert.ok((await registry.metrics()).includes('test_prom_gauge 5\n'));
  assert.equal(registry.contentType, promClient.Registry.PROMETHEUS_CONTENT_TYPE);

  // reset() forgets label sets; used again, they come back from zero
  pluginEnabled.reset();
  assert.ok(!(await registry.metrics()).includes('name="whoami"'));
  pluginEnabled.labels('dns://:53', '.', '', 'log').set(1);
  assert.ok((await registry.metrics()).includes('coredns_plugin_enabled{server="dns://:53",zone=".",view="",name="log"} 1\n'));
});
