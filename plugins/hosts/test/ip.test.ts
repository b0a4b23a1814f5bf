import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressFromReverse, ipString, parseGoIP, parseHosts } from '../src/index.js';

test('parseGoIP accepts and prints addresses as Go’s net.ParseIP / IP.String', () => {
  const ok: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['::ffff:10.0.0.2', '10.0.0.2'],
    ['::FFFF:a00:2', '10.0.0.2'],
    ['::1.2.3.4', '::102:304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
  ];
  for (const [input, want] of ok) {
    const ip = parseGoIP(input);
    assert.ok(ip, input);
    assert.equal(ipString(ip), want, input);
  }
  for (const bad of ['', 'x', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..2.3', '1.2.3.4.', ':::', '1:2:3:4:5:6:7:8:9', '12345::', '1::2::3', '::1%eth0', 'fe80::1%', '1:2:3:4:5:6:7', '1:2:3:4:5:6:1.2.3.4:5', '1.2.3.4:80', ' 1.2.3.4']) {
    assert.equal(parseGoIP(bad), undefined, bad);
  }
});

test('reverse names to addresses (dnsutil.ExtractAddressFromReverse)', () => {
  assert.equal(addressFromReverse('1.0.0.10.in-addr.arpa.'), '10.0.0.1');
  assert.equal(addressFromReverse('0.0.10.in-addr.arpa.'), '');
  assert.equal(addressFromReverse('01.0.0.10.in-addr.arpa.'), '');
  assert.equal(addressFromReverse('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.'), '2001:db8::1');
  assert.equal(addressFromReverse('2.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.'), '10.0.0.2');
  assert.equal(addressFromReverse('0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.'), '');
  assert.equal(addressFromReverse('example.org.'), '');
  assert.equal(addressFromReverse('in-addr.arpa.'), '');
});

test('hosts text: fields split on any white space, comments, long lines stop the scan', () => {
  const m = parseHosts('10.0.0.1\ta.example.org\u00a0b.example.org\r\n  # x\n10.0.0.2 c#d.example.org\n10.0.0.3 *.w.example.org\n', {
    origins: ['.'],
    autoReverse: true,
  });
  assert.deepEqual([...m.name4.keys()], ['a.example.org.', 'b.example.org.', 'c.']);
  assert.deepEqual(m.addr.get('10.0.0.1'), ['a.example.org.', 'b.example.org.']);
  assert.deepEqual(m.wildName4.get('*.w.example.org.'), ['10.0.0.3']);
  assert.equal(m.addr.has('10.0.0.3'), false);
  assert.equal(m.size, 2 + 1 + 1 + 2 + 1);
  const long = `10.0.0.1 a.example.org\n10.0.0.2 ${'x'.repeat(70000)}.example.org\n10.0.0.3 c.example.org\n`;
  assert.deepEqual([...parseHosts(long, { origins: ['.'], autoReverse: true }).name4.keys()], ['a.example.org.']);
});
