import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setupCache, setupError } from './helpers.js';

/** A one-block Corefile; `body` starts on line 2. */
function cf(body: string, key = '.:53'): string {
  return `${key} {\n${body}\n}\n`;
}
/** `cache { LINES }`: the first option is on line 3. */
function block(lines: string): string {
  return cf(`cache {\n${lines}\n}`);
}

/** A located error (`c.ArgErr()`). */
const E = (line: number, msg: string): string => `plugin/cache: Corefile:${line} - Error during parsing: ${msg}`;
const ARG = (line: number, after: string): string => E(line, `Wrong argument count or unexpected line ending after '${after}'`);
/** A plain CoreDNS error: tsdns puts the current token's FILE:LINE in front. */
const P = (line: number, msg: string): string => `Corefile:${line} - plugin/cache: ${msg}`;

test('setup: defaults', async () => {
  const c = await setupCache(cf('cache'));
  assert.deepEqual(c.zones, ['.']);
  assert.equal(c.zonesMetricLabel, '.');
  assert.equal(c.pcap, 10000);
  assert.equal(c.ncap, 10000);
  assert.equal(c.pcache.capacity, 9984);
  assert.equal(c.ncache.capacity, 9984);
  assert.equal(c.pttl, 3600);
  assert.equal(c.minpttl, 5);
  assert.equal(c.nttl, 1800);
  assert.equal(c.minnttl, 5);
  assert.equal(c.failttl, 5);
  assert.equal(c.prefetch, 0);
  assert.equal(c.duration, 60000);
  assert.equal(c.percentage, 10);
  assert.equal(c.staleUpTo, 0);
  assert.equal(c.verifyStale, false);
  assert.equal(c.verifyStaleTimeout, 0);
  assert.equal(c.staleTTL, 0);
  assert.equal(c.staleRecheck, 0);
  assert.equal(c.preferPositive, false);
  assert.deepEqual(c.pexcept, []);
  assert.deepEqual(c.nexcept, []);
  assert.equal(c.keepttl, false);
  const e = await setupCache(cf('cache {\n}'));
  assert.equal(e.pttl, 3600);
});

test('setup: TTL argument and zones (CoreDNS TestSetup table)', async () => {
  let c = await setupCache(cf('cache example.nl {\n success 10\n}'));
  assert.deepEqual([c.pcap, c.ncap, c.pttl, c.nttl], [10, 10000, 3600, 1800]);
  assert.deepEqual(c.zones, ['example.nl.']);
  c = await setupCache(cf('cache example.nl {\n success 10 1800 30\n}'));
  assert.deepEqual([c.pcap, c.pttl, c.minpttl], [10, 1800, 30]);
  c = await setupCache(cf('cache example.nl {\n success 10\n denial 10 15\n}'));
  assert.deepEqual([c.ncap, c.nttl, c.minnttl, c.pttl], [10, 15, 5, 3600]);
  c = await setupCache(cf('cache example.nl {\n success 10\n denial 10 15 2\n}'));
  assert.deepEqual([c.nttl, c.minnttl], [15, 2]);
  c = await setupCache(cf('cache 25 example.nl {\n success 10\n denial 10 15\n}'));
  assert.deepEqual([c.pttl, c.nttl, c.minpttl], [25, 15, 5]);
  c = await setupCache(cf('cache 25 example.nl {\n success 10\n denial 10 15 5\n}'));
  assert.deepEqual([c.pttl, c.nttl, c.minnttl], [25, 15, 5]);
  // the first argument is a TTL only if it is a number
  c = await setupCache(cf('cache aaa example.nl'));
  assert.deepEqual(c.zones, ['aaa.', 'example.nl.']);
  assert.equal(c.zonesMetricLabel, 'aaa.,example.nl.');
  assert.equal(c.pttl, 3600);
  c = await setupCache(cf('cache 30'));
  assert.deepEqual([c.pttl, c.nttl], [30, 30]);
  c = await setupCache(cf('cache +7 Example.ORG'));
  assert.deepEqual([c.pttl, c.nttl], [7, 7]);
  assert.deepEqual(c.zones, ['example.org.']);
  // out of Atoi's range: not a number, so a zone
  c = await setupCache(cf('cache 99999999999999999999'));
  assert.deepEqual(c.zones, ['99999999999999999999.']);
  c = await setupCache(cf('cache {\n prefetch 10\n}'));
  assert.equal(c.prefetch, 10);
  // zones default to the block's keys
  c = await setupCache(cf('cache', 'example.org:1053 Example.NET'));
  assert.deepEqual(c.zones, ['example.org.', 'example.net.']);
  assert.equal(c.zonesMetricLabel, 'example.org.,example.net.');
  // reverse CIDR zones expand
  c = await setupCache(cf('cache 10.0.0.0/15'));
  assert.deepEqual(c.zones, ['0.10.in-addr.arpa.', '1.10.in-addr.arpa.']);
});

test('setup: capacities: 256 shards of max(CAPACITY/256, 4)', async () => {
  let c = await setupCache(block('success 1024\ndenial 5000'));
  assert.equal(c.pcache.shardSize, 4);
  assert.equal(c.pcache.capacity, 1024);
  assert.equal(c.ncache.capacity, 4864);
  c = await setupCache(block('success 10\ndenial -5'));
  assert.equal(c.pcache.capacity, 1024);
  assert.equal(c.ncache.capacity, 1024);
  c = await setupCache(block('success 100000'));
  assert.equal(c.pcache.capacity, 99840);
});

test('setup: prefetch', async () => {
  let c = await setupCache(block('prefetch 2'));
  assert.deepEqual([c.prefetch, c.duration, c.percentage], [2, 60000, 10]);
  c = await setupCache(block('prefetch 2 10m 50%'));
  assert.deepEqual([c.prefetch, c.duration, c.percentage], [2, 600000, 50]);
  c = await setupCache(block('prefetch 0 1s'));
  assert.deepEqual([c.prefetch, c.duration], [0, 1000]);
  c = await setupCache(block('prefetch 1 1m 10%'));
  assert.equal(c.percentage, 10);
  c = await setupCache(block('prefetch 1 1m 90%'));
  assert.equal(c.percentage, 90);
});

test('setup: serve_stale (CoreDNS TestServeStale table)', async () => {
  const ok: [string, number, boolean, number, number][] = [
    ['serve_stale', 3600000, false, 0, 0],
    ['serve_stale 20m', 1200000, false, 0, 0],
    ['serve_stale 1h20m', 4800000, false, 0, 0],
    ['serve_stale 0m', 0, false, 0, 0],
    ['serve_stale 0', 0, false, 0, 0],
    ['serve_stale 0 verify', 0, true, 0, 0],
    ['serve_stale 0 immediate', 0, false, 0, 0],
    ['serve_stale 0 VERIFY', 0, true, 0, 0],
    ['serve_stale 1h immediate 30s', 3600000, false, 0, 30],
    ['serve_stale 1h immediate 30s 30s', 3600000, false, 0, 30],
    ['serve_stale 1h immediate 4294967295s', 3600000, false, 0, 4294967295],
    ['serve_stale 1h immediate 0', 3600000, false, 0, 0],
    ['serve_stale 1h verify 100ms', 3600000, true, 100, 0],
    ['serve_stale 1h verify 100ms 30s', 3600000, true, 100, 30],
    ['serve_stale 1h verify 100ms 30s 30s', 3600000, true, 100, 30],
    ['serve_stale 1h verify 0', 3600000, true, 0, 0],
    ['serve_stale 1h verify 0 1m', 3600000, true, 0, 60],
    ['serve_stale 1h VERIFY 250ms', 3600000, true, 250, 0],
  ];
  for (const [line, upTo, verify, timeout, ttl] of ok) {
    const c = await setupCache(block(line));
    assert.deepEqual([c.staleUpTo, c.verifyStale, c.verifyStaleTimeout, c.staleTTL], [upTo, verify, timeout, ttl], line);
  }
  const c = await setupCache(block('serve_stale 1500ms'));
  assert.equal(c.staleUpToSeconds, 1);
  const recheck: [string, number][] = [
    ['serve_stale 1h immediate 30s 30s', 30000],
    ['serve_stale 1h immediate 0 0', 0],
    ['serve_stale 1h verify 100ms 30s 250ms', 250],
    ['serve_stale 1h verify 0 0 5m', 300000],
  ];
  for (const [line, ms] of recheck) assert.equal((await setupCache(block(line))).staleRecheck, ms, line);
});

test('setup: serve_stale errors', async () => {
  const bad: [string, string][] = [
    ['serve_stale 20', P(3, 'time: missing unit in duration "20"')],
    ['serve_stale -20m', P(3, 'invalid negative duration for serve_stale')],
    ['serve_stale aa', P(3, 'time: invalid duration "aa"')],
    ['serve_stale 1m nono', P(3, 'invalid value for serve_stale refresh mode: nono')],
    ['serve_stale 1m NoNo', P(3, 'invalid value for serve_stale refresh mode: nono')],
    ['serve_stale 0 after nono', P(3, 'invalid value for serve_stale refresh mode: after')],
    ['serve_stale 1h immediate 100ms', P(3, 'serve_stale response TTL must be a whole number of seconds')],
    ['serve_stale 1h immediate 4294967296s', P(3, 'serve_stale response TTL exceeds the DNS TTL range')],
    ['serve_stale 1h immediate -1s', P(3, 'invalid negative response TTL for serve_stale')],
    ['serve_stale 1h immediate garbage', P(3, 'invalid serve_stale response TTL: time: invalid duration "garbage"')],
    ['serve_stale 1h immediate 30s extra', P(3, 'invalid serve_stale failure recheck: time: invalid duration "extra"')],
    ['serve_stale 1h immediate 30s 30s extra', ARG(3, 'extra')],
    ['serve_stale 1h verify -1ms', P(3, 'invalid negative timeout for serve_stale verify')],
    ['serve_stale 1h verify garbage', P(3, 'invalid serve_stale verify timeout: time: invalid duration "garbage"')],
    ['serve_stale 1h verify 100ms 500ms', P(3, 'serve_stale response TTL must be a whole number of seconds')],
    ['serve_stale 1h verify 100ms -1s', P(3, 'invalid negative response TTL for serve_stale')],
    ['serve_stale 1h verify 100ms garbage', P(3, 'invalid serve_stale response TTL: time: invalid duration "garbage"')],
    ['serve_stale 1h verify 100ms 30s extra', P(3, 'invalid serve_stale failure recheck: time: invalid duration "extra"')],
    ['serve_stale 1h verify 100ms 30s 30s extra', ARG(3, 'extra')],
    ['serve_stale 1h immediate 30s -1s', P(3, 'invalid negative failure recheck for serve_stale')],
    ['serve_stale 1h immediate 30s 5m1s', P(3, 'serve_stale failure recheck cannot exceed 5 minutes')],
    ['serve_stale 1h verify 100ms 30s -1s', P(3, 'invalid negative failure recheck for serve_stale')],
  ];
  for (const [line, msg] of bad) assert.equal(await setupError(block(line)), msg, line);
});

test('setup: serve_stale_policy', async () => {
  assert.equal((await setupCache(block('serve_stale\nserve_stale_policy prefer_positive'))).preferPositive, true);
  assert.equal((await setupCache(block('serve_stale_policy PREFER_POSITIVE\nserve_stale'))).preferPositive, true);
  assert.equal((await setupCache(block('serve_stale'))).preferPositive, false);
  assert.equal(await setupError(block('serve_stale_policy prefer_positive')), P(4, 'serve_stale_policy requires serve_stale'));
  assert.equal(await setupError(block('serve_stale\nserve_stale_policy')), ARG(4, 'serve_stale_policy'));
  assert.equal(await setupError(block('serve_stale\nserve_stale_policy prefer_positive extra')), ARG(4, 'extra'));
  assert.equal(await setupError(block('serve_stale\nserve_stale_policy Invalid')), P(4, 'invalid serve_stale_policy: Invalid'));
  assert.equal(
    await setupError(block('serve_stale\nserve_stale_policy prefer_positive\nserve_stale_policy prefer_positive')),
    P(5, 'serve_stale_policy can only be specified once'),
  );
});

test('setup: servfail', async () => {
  const ok: [string, number][] = [
    ['servfail 1s', 1],
    ['servfail 5m', 300],
    ['servfail 0s', 0],
    ['servfail 0', 0],
    ['servfail 1500ms', 1.5],
  ];
  for (const [line, s] of ok) assert.equal((await setupCache(block(line))).failttl, s, line);
  const bad: [string, string][] = [
    ['servfail', ARG(3, 'servfail')],
    ['servfail 6m', P(3, 'caching SERVFAIL responses over 5 minutes is not permitted')],
    ['servfail 20', P(3, 'time: missing unit in duration "20"')],
    ['servfail -1s', P(3, 'invalid negative ttl for servfail')],
    ['servfail aa', P(3, 'time: invalid duration "aa"')],
    ['servfail 1m invalid', ARG(3, 'invalid')],
  ];
  for (const [line, msg] of bad) assert.equal(await setupError(block(line)), msg, line);
});

test('setup: disable', async () => {
  let c = await setupCache(block('disable denial example.com Example.ORG'));
  assert.deepEqual(c.nexcept, ['example.com.', 'example.org.']);
  assert.deepEqual(c.pexcept, []);
  c = await setupCache(block('disable success example.com example.org'));
  assert.deepEqual(c.pexcept, ['example.com.', 'example.org.']);
  c = await setupCache(block('disable denial'));
  assert.deepEqual(c.nexcept, ['.']);
  c = await setupCache(block('disable success'));
  assert.deepEqual(c.pexcept, ['.']);
  c = await setupCache(block('disable denial example.com example.org\ndisable success example.com example.org'));
  assert.deepEqual([c.nexcept, c.pexcept], [['example.com.', 'example.org.'], ['example.com.', 'example.org.']]);
  assert.equal(await setupError(block('disable invalid example.com example.org')), P(3, 'cache type for disable must be "success" or "denial"'));
  assert.equal(await setupError(block('disable')), ARG(3, 'disable'));
});

test('setup: keepttl', async () => {
  assert.equal((await setupCache(block('keepttl'))).keepttl, true);
  assert.equal(await setupError(block('keepttl arg1')), ARG(3, 'arg1'));
});

test('setup: errors of the TTL, success, denial and prefetch options', async () => {
  const cases: [string, string][] = [
    [cf('cache 0 example.nl'), P(2, 'cache TTL can not be zero or negative: 0')],
    [cf('cache -1 example.nl'), P(2, 'cache TTL can not be zero or negative: -1')],
    [block('success'), ARG(3, 'success')],
    [block('success 15\ndenial aaa'), P(4, 'strconv.Atoi: parsing "aaa": invalid syntax')],
    [block('success 15 0'), P(3, 'cache TTL can not be zero or negative: 0')],
    [block('success 15 ten'), P(3, 'strconv.Atoi: parsing "ten": invalid syntax')],
    [block('success 15 10 -1'), P(3, 'cache min TTL can not be negative: -1')],
    [block('denial'), ARG(3, 'denial')],
    [block('denial 15 -3'), P(3, 'cache TTL can not be zero or negative: -3')],
    [block('denial 15 10 -2'), P(3, 'cache min TTL can not be negative: -2')],
    [block('denial 99999999999999999999'), P(3, 'strconv.Atoi: parsing "99999999999999999999": value out of range')],
    [block('positive 15\nnegative aaa'), ARG(3, 'positive')],
    [block('positive 0'), ARG(3, 'positive')],
    [block('prefetch'), ARG(3, 'prefetch')],
    [block('prefetch 1 1m 10% x'), ARG(3, 'x')],
    [block('prefetch -1'), P(3, 'prefetch amount should be positive: -1')],
    [block('prefetch x'), P(3, 'strconv.Atoi: parsing "x": invalid syntax')],
    [block('prefetch 0 blurp'), P(3, 'time: invalid duration "blurp"')],
    [block('prefetch 1 1m 10'), P(3, "last character of percentage should be `%`, but is: '0'")],
    [block("prefetch 1 1m \"10'\""), P(3, "last character of percentage should be `%`, but is: '\\''")],
    [block('prefetch 1 1m 9%'), P(3, 'percentage should fall in range [10, 90]: 9')],
    [block('prefetch 1 1m 91%'), P(3, 'percentage should fall in range [10, 90]: 91')],
    [block('prefetch 1 1m x%'), P(3, 'strconv.Atoi: parsing "x": invalid syntax')],
    [block('prefetch 1 1m %'), P(3, 'strconv.Atoi: parsing "": invalid syntax')],
    [block('bogus'), ARG(3, 'bogus')],
  ];
  for (const [corefile, msg] of cases) assert.equal(await setupError(corefile), msg, corefile);
});

test('setup: once per server block', async () => {
  assert.equal(await setupError(cf('cache\ncache')), P(3, 'this plugin can only be used once per Server Block'));
  assert.equal(await setupError(cf('cache 10 {\n success 2000\n}\ncache 20')), P(5, 'this plugin can only be used once per Server Block'));
});
