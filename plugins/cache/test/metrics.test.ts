import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context, registry } from '@tsdns/core';
import { makeQuery, serveHandler } from '@tsdns/testing';
import { aReply, cacheWith, Clock, denial, fakeNext, metricValue, serve, upstream } from './helpers.js';

const ctxFor = (server: string): Context => new Context(server, '.', undefined, performance.now());

test('metrics: requests, hits by type, misses, entries, drops with CoreDNS labels', async () => {
  const up = await upstream((q) => (q.questions[0]!.name.startsWith('nx') ? denial(q) : aReply(q)));
  const s = await serve(`example.org:0 example.net {\n  cache\n  forward . ${up.address}\n}`);
  try {
    const base = { server: s.label, zones: 'example.org.,example.net.', view: '' };
    await s.server.send(makeQuery('a.example.org', 'A'));
    await s.server.send(makeQuery('a.example.org', 'A'));
    await s.server.send(makeQuery('a.example.org', 'A'));
    await s.server.send(makeQuery('nx.example.org', 'A'));
    await s.server.send(makeQuery('nx.example.org', 'A'));
    assert.equal(await metricValue('coredns_cache_requests_total', base), 5);
    assert.equal(await metricValue('coredns_cache_misses_total', base), 2);
    assert.equal(await metricValue('coredns_cache_hits_total', { ...base, type: 'success' }), 2);
    assert.equal(await metricValue('coredns_cache_hits_total', { ...base, type: 'denial' }), 1);
    assert.equal(await metricValue('coredns_cache_entries', { ...base, type: 'success' }), 1);
    assert.equal(await metricValue('coredns_cache_entries', { ...base, type: 'denial' }), 1);
    assert.equal(await metricValue('coredns_cache_drops_total', base), undefined, 'no drops: no series');
    assert.equal(await metricValue('coredns_cache_evictions_total', { ...base, type: 'success' }), undefined);
    // exposition text: names, help and type lines as CoreDNS
    const text = await registry.metrics();
    assert.match(text, /# HELP coredns_cache_entries The number of elements in the cache\.\n# TYPE coredns_cache_entries gauge\n/);
    assert.match(text, /# HELP coredns_cache_requests_total The count of cache requests\.\n# TYPE coredns_cache_requests_total counter\n/);
    assert.match(text, /# HELP coredns_cache_misses_total The count of cache misses\. Deprecated, derive misses from cache hits\/requests counters\.\n/);
    assert.match(text, /# HELP coredns_cache_drops_total The number responses that are not cached, because the reply is malformed\.\n/);
    assert.match(text, /# HELP coredns_cache_served_stale_total The number of requests served from stale cache entries\.\n/);
    assert.match(text, /# HELP coredns_cache_evictions_total The count of cache evictions\.\n/);
    assert.match(text, /# HELP coredns_cache_prefetch_total The number of times the cache has prefetched a cached item\.\n/);
    assert.match(text, /# HELP coredns_cache_hits_total The count of cache hits\.\n/);
    const line = `coredns_cache_hits_total{server="${s.label}",type="success",zones="example.org.,example.net.",view=""} 2`;
    assert.ok(text.includes(line), line);
    // queries outside the cache's zones are not counted
    await s.server.send(makeQuery('other.example.com', 'A')).catch(() => undefined);
    assert.equal(await metricValue('coredns_cache_requests_total', base), 5);
  } finally {
    await s.close();
    await up.close();
  }
});

test('metrics: drops, evictions and the entries gauge (updated on insert only)', async () => {
  const ctx = ctxFor('dns://:5391');
  const base = { server: 'dns://:5391', zones: '.', view: '' };
  const c = await cacheWith(
    '.:53 {\n cache {\n  success 1024\n  denial 1024\n }\n}',
    fakeNext((r) => {
      if (!r.questions[0]!.name.startsWith('mismatch')) return aReply(r);
      // a complete answer, but to another question
      const m = aReply({ ...r, questions: [{ name: 'x.example.org.', type: 'A', class: 'IN' }] });
      return m;
    }),
  );
  await serveHandler(c, makeQuery('mismatch.example.org', 'A'), { ctx });
  await serveHandler(c, makeQuery('mismatch.example.org', 'A'), { ctx });
  assert.equal(await metricValue('coredns_cache_drops_total', base), 2);
  for (let i = 0; i < 3000; i++) await serveHandler(c, makeQuery(`n${i}.example.org`, 'A'), { ctx });
  // 256 shards of 4: full shards evict, a few shards may not have filled up
  const n = c.pcache.len();
  assert.ok(n <= 1024 && n > 1000, String(n));
  assert.equal(await metricValue('coredns_cache_evictions_total', { ...base, type: 'success' }), 3000 - n);
  assert.equal(await metricValue('coredns_cache_entries', { ...base, type: 'success' }), n);
  assert.equal(await metricValue('coredns_cache_entries', { ...base, type: 'denial' }), 0);
});

test('metrics: the view label is the block view name, read at startup', async () => {
  const clock = new Clock();
  const c = await cacheWith('.:53 {\n cache\n}', fakeNext((r) => aReply(r)), clock);
  c.viewMetricLabel = 'internal';
  const ctx = ctxFor('dns://:5392');
  await serveHandler(c, makeQuery('a.example.org', 'A'), { ctx });
  assert.equal(await metricValue('coredns_cache_requests_total', { server: 'dns://:5392', zones: '.', view: 'internal' }), 1);
});
