import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE, type DnsRecord, type Msg, type OptRecord } from '@tsdns/core';
import hosts from '@tsdns/plugin-hosts';
import { serveCorefile, type TestServer } from '@tsdns/testing';
import loadbalance, { roundRobin, shuffleInPlace } from '../src/index.js';
import { a, fixedPlugin, rr, sample, show, type FixedAnswer } from './helpers.js';

const opt: OptRecord = { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] };

// the same arrays for every reply, as a cache or a zone would hand them over
const FIXED: Record<string, FixedAnswer> = {
  'cname.test.': {
    answers: [
      rr('cname.test.', 'CNAME', 'c1.test.'),
      rr('c1.test.', 'CNAME', 'c2.test.'),
      a('c2.test.', '10.0.0.1'),
      a('c2.test.', '10.0.0.2'),
      a('c2.test.', '10.0.0.3'),
    ],
  },
  'mixed.test.': {
    answers: [
      a('mixed.test.', '10.0.0.1'),
      rr('mixed.test.', 'TXT', ['t1']),
      rr('mixed.test.', 'MX', { preference: 10, exchange: 'mx1.test.' }),
      a('mixed.test.', '10.0.0.2'),
      rr('mixed.test.', 'MX', { preference: 20, exchange: 'mx2.test.' }),
      rr('mixed.test.', 'TXT', ['t2']),
      rr('mixed.test.', 'CNAME', 'x.test.'),
      rr('mixed.test.', 'MX', { preference: 30, exchange: 'mx3.test.' }),
    ],
  },
  'sections.test.': {
    answers: [a('sections.test.', '10.0.0.1'), a('sections.test.', '10.0.0.2')],
    authorities: [rr('test.', 'NS', 'ns1.test.'), rr('test.', 'NS', 'ns2.test.'), rr('test.', 'NS', 'ns3.test.')],
    additionals: [a('ns1.test.', '192.0.2.1'), a('ns1.test.', '192.0.2.2'), opt],
  },
  'nx.test.': {
    rcode: RCODE.NXDOMAIN,
    answers: [a('nx.test.', '10.0.0.1'), a('nx.test.', '10.0.0.2'), a('nx.test.', '10.0.0.3')],
  },
  'servfail.test.': {
    rcode: RCODE.SERVFAIL,
    answers: [a('servfail.test.', '10.0.0.1'), a('servfail.test.', '10.0.0.2'), a('servfail.test.', '10.0.0.3')],
  },
  'xfr.test.': { answers: [a('xfr.test.', '10.0.0.1'), a('xfr.test.', '10.0.0.2'), a('xfr.test.', '10.0.0.3')] },
  'v6.test.': { answers: [a('v6.test.', '2001:db8::1'), a('v6.test.', '2001:db8::2'), a('v6.test.', '2001:db8::3')] },
};

const fixed = fixedPlugin((q: Msg) => FIXED[q.questions[0]!.name.toLowerCase()] ?? {});
const plugins = [loadbalance, hosts, fixed];

let srv: TestServer;
let raw: TestServer;
let none: TestServer;

before(async () => {
  srv = await serveCorefile(
    '. {\n  loadbalance\n  fixed\n}\nexample.org {\n  loadbalance round_robin\n  hosts {\n    10.0.0.1 www.example.org\n    10.0.0.2 www.example.org\n    10.0.0.3 www.example.org\n    10.0.0.4 www.example.org\n    fallthrough\n  }\n  fixed\n}',
    { plugins },
  );
  raw = await serveCorefile('. {\n  loadbalance\n  fixed raw\n}', { plugins });
  none = await serveCorefile('. {\n  fixed\n}', { plugins });
});

after(async () => {
  await srv.close();
  await raw.close();
  await none.close();
});

function counts(samples: string[][]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) m.set(s.join(' | '), (m.get(s.join(' | ')) ?? 0) + 1);
  return m;
}

test('A records from hosts: every one of the 24 orders shows up, roughly uniformly', async () => {
  const s = await sample(srv, 'www.example.org', 'A', 1200);
  const c = counts(s);
  assert.equal(c.size, 24, [...c.keys()].join('\n'));
  for (const [order, n] of c) assert.ok(n >= 15 && n <= 110, `${order}: ${n} of 1200`);
  for (const x of s) assert.deepEqual([...x].sort(), ['A 10.0.0.1', 'A 10.0.0.2', 'A 10.0.0.3', 'A 10.0.0.4']);
});

test('AAAA only: shuffled as well (also over TCP)', async () => {
  const c = counts(await sample(srv, 'v6.test', 'AAAA', 240, 'answers', true));
  assert.equal(c.size, 6);
});

test('CNAME chains stay first and in order; the A records after them are shuffled', async () => {
  const s = await sample(srv, 'cname.test', 'A', 240);
  for (const x of s) assert.deepEqual(x.slice(0, 2), ['CNAME c1.test.', 'CNAME c2.test.']);
  assert.equal(counts(s.map((x) => x.slice(2))).size, 6);
});

test('mixed sections: CNAME, other records in order, shuffled addresses, shuffled MX', async () => {
  const s = await sample(srv, 'mixed.test', 'ANY', 300);
  for (const x of s) {
    assert.deepEqual(x.slice(0, 3), ['CNAME x.test.', 'TXT t1', 'TXT t2']);
    assert.deepEqual([...x.slice(3, 5)].sort(), ['A 10.0.0.1', 'A 10.0.0.2']);
    assert.deepEqual([...x.slice(5)].sort(), ['MX 10 mx1.test.', 'MX 20 mx2.test.', 'MX 30 mx3.test.']);
  }
  assert.equal(counts(s.map((x) => x.slice(3, 5))).size, 2);
  assert.equal(counts(s.map((x) => x.slice(5))).size, 6);
});

test('authority and additional are shuffled independently; OPT moves before the addresses', async () => {
  const ns = await sample(srv, 'sections.test', 'A', 240, 'authorities');
  // NS records are "other" types: order kept
  for (const x of ns) assert.deepEqual(x, ['NS ns1.test.', 'NS ns2.test.', 'NS ns3.test.']);
  const add = await sample(srv, 'sections.test', 'A', 120, 'additionals');
  for (const x of add) assert.equal(x[0], 'OPT');
  assert.equal(counts(add).size, 2);
});

test('NXDOMAIN, SERVFAIL replies and zone transfers are left alone', async () => {
  for (const [name, type] of [
    ['nx.test', 'A'],
    ['servfail.test', 'A'],
    ['xfr.test', 'AXFR'],
    ['xfr.test', 'IXFR'],
  ] as const) {
    const s = await sample(srv, name, type, 60);
    const c = counts(s);
    assert.equal(c.size, 1, `${name} ${type}`);
    assert.deepEqual(s[0], ['A 10.0.0.1', 'A 10.0.0.2', 'A 10.0.0.3']);
  }
  // without loadbalance the order is the plugin's
  assert.equal(counts(await sample(none, 'cname.test', 'A', 30)).size, 1);
});

test('raw replies (written as bytes) are decoded and reordered too', async () => {
  const s = await sample(raw, 'cname.test', 'A', 240);
  for (const x of s) assert.deepEqual(x.slice(0, 2), ['CNAME c1.test.', 'CNAME c2.test.']);
  assert.equal(counts(s.map((x) => x.slice(2))).size, 6);
  // not eligible: passed through as is
  assert.equal(counts(await sample(raw, 'nx.test', 'A', 30)).size, 1);
});

test('the records handed over are never reordered in place', () => {
  const recs: DnsRecord[] = FIXED['cname.test.']!.answers!;
  const before = recs.map(show);
  for (let i = 0; i < 20; i++) roundRobin(recs);
  const onlyA = [a('x.', '10.0.0.1'), a('x.', '10.0.0.2'), a('x.', '10.0.0.3')];
  for (let i = 0; i < 20; i++) roundRobin(onlyA);
  assert.deepEqual(recs.map(show), before);
  assert.deepEqual(onlyA.map(show), ['A 10.0.0.1', 'A 10.0.0.2', 'A 10.0.0.3']);
});

test('the swap algorithm is CoreDNS’s (driven by 16-bit random numbers)', () => {
  const two = ['x', 'y'];
  shuffleInPlace(two, () => 2); // even: swap
  assert.deepEqual(two, ['y', 'x']);
  shuffleInPlace(two, () => 1); // odd: keep
  assert.deepEqual(two, ['y', 'x']);
  // l=4: p = j + rnd % (l-j) with rnd = 5: j0 -> 0+5%4=1, j1 -> 1+5%3=3, j2 -> 2+5%2=3, j3 -> 3
  const four = ['a', 'b', 'c', 'd'];
  shuffleInPlace(four, () => 5);
  assert.deepEqual(four, ['b', 'd', 'a', 'c']);
  // one record or none: returned as is
  const one = [a('x.', '10.0.0.1')];
  assert.equal(roundRobin(one), one);
});
