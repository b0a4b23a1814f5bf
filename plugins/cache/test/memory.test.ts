/**
 * Capacity is a hard bound: a million unique names through a small cache
 * never hold more than its capacity, and memory stays flat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context, type Address, type Msg, type ResponseWriter } from '@tsdns/core';
import { makeQuery } from '@tsdns/testing';
import { aReply, cacheWith, denial, fakeNext } from './helpers.js';

/** A writer that forgets everything (so that the test itself keeps nothing). */
class NullWriter implements ResponseWriter {
  readonly remote: Address = { address: '10.240.0.1', port: 40212, family: 4 };
  readonly local: Address = { address: '127.0.0.1', port: 53, family: 4 };
  readonly transport = 'udp' as const;
  readonly proto = 'udp' as const;
  writes = 0;
  writeMsg(_m: Msg): void {
    this.writes++;
  }
  write(_b: Uint8Array): void {
    this.writes++;
  }
}

test('1,000,000 unique names through a 1024-entry cache: never more than 1024 entries, RSS flat', async () => {
  const c = await cacheWith(
    '.:53 {\n cache {\n  success 1024\n  denial 1024\n }\n}',
    fakeNext((r) => (r.questions[0]!.name.charCodeAt(0) === 0x78 ? denial(r) : aReply(r, '192.0.2.1', 3600))),
  );
  const w = new NullWriter();
  const ctx = new Context('dns://:5399', '.', undefined, performance.now());
  const total = 1_000_000;
  const cap = c.pcache.capacity;
  assert.equal(cap, 1024);
  let warm = 0;
  let peak = 0;
  for (let i = 0; i < total; i++) {
    // one name in ten is a denial (x...), and every tenth query repeats a recent name (a hit or a miss)
    const name = i % 10 === 9 ? `h${i - 5}.example.org` : i % 10 === 3 ? `x${i}.example.org` : `n${i}.example.org`;
    const rc = c.ServeDNS(ctx, w, makeQuery(name, 'A'));
    assert.equal(rc, 0);
    if (i % 50_000 === 0) {
      assert.ok(c.pcache.len() <= cap && c.ncache.len() <= cap, `entries at ${i}: ${c.pcache.len()} / ${c.ncache.len()}`);
      const rss = process.memoryUsage().rss;
      if (i === 200_000) warm = rss;
      if (i > 200_000) peak = Math.max(peak, rss);
    }
  }
  assert.equal(w.writes, total);
  assert.ok(c.pcache.len() <= cap && c.pcache.len() > cap - 16);
  assert.ok(c.ncache.len() <= cap && c.ncache.len() > cap - 64);
  const growth = (peak - warm) / 2 ** 20;
  assert.ok(growth < 64, `RSS grew ${growth.toFixed(1)} MiB after warm-up`);
});

