import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Msg } from '@tsdns/core';
import { serveCorefile } from '@tsdns/testing';
import loadbalance, { netContains, parseGoCIDR, parseGoIP, reorderRecords } from '../src/index.js';
import { a, fixedPlugin, rr, sample, show } from './helpers.js';

test('prefer: CNAME, addresses by subnet (in CIDR order, each group in its order), unmatched, MX, rest', () => {
  const records = [
    a('example.org.', '10.9.30.1'),
    a('example.org.', '10.9.20.5'),
    a('example.org.', '192.168.1.2'),
    a('example.org.', '10.10.0.1'),
    a('example.org.', '10.9.20.3'),
    a('example.org.', '172.16.0.1'),
    a('example.org.', '2001:db8::1'),
    a('example.org.', '2001:db8:abcd::1'),
    a('example.org.', 'fd00::1'),
    rr('example.org.', 'TXT', ['t']),
    rr('example.org.', 'MX', { preference: 1, exchange: 'mx.example.org.' }),
    rr('example.org.', 'CNAME', 'alias.example.org.'),
  ];
  const subnets = ['2001:db8::/32', '10.9.20.0/24', '10.9.30.0/24'].map(parseGoCIDR);
  assert.deepEqual(reorderRecords(records, subnets).map(show), [
    'CNAME alias.example.org.',
    'AAAA 2001:db8::1',
    'AAAA 2001:db8:abcd::1',
    'A 10.9.20.5',
    'A 10.9.20.3',
    'A 10.9.30.1',
    'A 192.168.1.2',
    'A 10.10.0.1',
    'A 172.16.0.1',
    'AAAA fd00::1',
    'MX 1 mx.example.org.',
    'TXT t',
  ]);
});

test('CIDRs as Go parses them; IPv4 networks only hold IPv4 addresses', () => {
  const v4 = parseGoCIDR('10.0.0.0/8');
  assert.ok(netContains(v4, parseGoIP('10.1.2.3')!));
  assert.ok(netContains(v4, parseGoIP('::ffff:10.1.2.3')!));
  assert.ok(!netContains(v4, parseGoIP('11.0.0.1')!));
  const mapped = parseGoCIDR('::ffff:10.0.0.0/104');
  assert.ok(netContains(mapped, parseGoIP('10.200.0.1')!));
  const v6 = parseGoCIDR('::/0');
  assert.ok(!netContains(v6, parseGoIP('10.0.0.1')!));
  assert.ok(netContains(v6, parseGoIP('2001:db8::1')!));
  assert.ok(netContains(parseGoCIDR('0.0.0.0/0'), parseGoIP('1.2.3.4')!));
  assert.ok(netContains(parseGoCIDR('10.0.0.7/032'), parseGoIP('10.0.0.7')!));
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '::/129', 'fe80::%eth0/64', '010.0.0.0/8', 'x/8']) {
    assert.throws(() => parseGoCIDR(bad), { message: `invalid CIDR address: ${bad}` });
  }
});

test('prefer through a server, after the shuffle', async () => {
  const fixed = fixedPlugin((q: Msg) => ({
    answers: [
      a(q.questions[0]!.name, '192.168.1.1'),
      a(q.questions[0]!.name, '10.0.0.1'),
      a(q.questions[0]!.name, '192.168.1.2'),
      a(q.questions[0]!.name, '172.16.0.1'),
      a(q.questions[0]!.name, '10.0.0.2'),
    ],
    additionals: [a('ns.test.', '172.16.0.9'), a('ns.test.', '10.0.0.9')],
  }));
  const srv = await serveCorefile('. {\n  loadbalance round_robin {\n    prefer 10.0.0.0/8 192.168.1.0/24\n  }\n  fixed\n}', {
    plugins: [loadbalance, fixed],
  });
  try {
    const s = await sample(srv, 'p.test', 'A', 200);
    const orders = new Set<string>();
    for (const x of s) {
      assert.deepEqual([...x.slice(0, 2)].sort(), ['A 10.0.0.1', 'A 10.0.0.2']);
      assert.deepEqual([...x.slice(2, 4)].sort(), ['A 192.168.1.1', 'A 192.168.1.2']);
      assert.equal(x[4], 'A 172.16.0.1');
      orders.add(x.join(','));
    }
    // within each group the shuffled order shows through
    assert.equal(orders.size, 4);
    const add = await sample(srv, 'p.test', 'A', 20, 'additionals');
    for (const x of add) assert.deepEqual(x, ['A 10.0.0.9', 'A 172.16.0.9']);
  } finally {
    await srv.close();
  }
});
