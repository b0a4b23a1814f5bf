import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalName,
  compareDomainName,
  countLabels,
  DEFAULT_PORTS,
  defaultPortFor,
  domainNameLabels,
  fqdn,
  goQuote,
  isDomainName,
  isSubDomain,
  normalizeHostExact,
  normalizeName,
  originsFromArgsOrServerBlock,
  parseTransport,
  reverseZonesFromCidr,
  splitDomainName,
  splitHostPort,
  zonesMatch,
} from '@tsdns/core';

// --- reverse zones (spec §6.4, plugin/pkg/cidr/cidr_test.go) ---------------

test('reverse CIDR: octet boundaries give one zone', () => {
  assert.deepEqual(reverseZonesFromCidr('10.0.0.0/8'), ['10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('10.0.0.0/16'), ['0.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('10.0.0.0/24'), ['0.0.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('10.1.2.3/32'), ['3.2.1.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('0.0.0.0/0'), ['in-addr.arpa.']);
});

test('reverse CIDR: rounding up to the next octet', () => {
  assert.deepEqual(reverseZonesFromCidr('10.0.0.0/15'), ['0.10.in-addr.arpa.', '1.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('192.168.1.1/23'), ['0.168.192.in-addr.arpa.', '1.168.192.in-addr.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('10.129.60.0/22'), [
    '60.129.10.in-addr.arpa.',
    '61.129.10.in-addr.arpa.',
    '62.129.10.in-addr.arpa.',
    '63.129.10.in-addr.arpa.',
  ]);
  assert.deepEqual(reverseZonesFromCidr('10.9.3.0/18'), [
    '0.9.10.in-addr.arpa.',
    '1.9.10.in-addr.arpa.',
    '2.9.10.in-addr.arpa.',
    '3.9.10.in-addr.arpa.',
    '4.9.10.in-addr.arpa.',
    '5.9.10.in-addr.arpa.',
    '6.9.10.in-addr.arpa.',
    '7.9.10.in-addr.arpa.',
    '8.9.10.in-addr.arpa.',
    '9.9.10.in-addr.arpa.',
    '10.9.10.in-addr.arpa.',
    '11.9.10.in-addr.arpa.',
    '12.9.10.in-addr.arpa.',
    '13.9.10.in-addr.arpa.',
    '14.9.10.in-addr.arpa.',
    '15.9.10.in-addr.arpa.',
    '16.9.10.in-addr.arpa.',
    '17.9.10.in-addr.arpa.',
    '18.9.10.in-addr.arpa.',
    '19.9.10.in-addr.arpa.',
    '20.9.10.in-addr.arpa.',
    '21.9.10.in-addr.arpa.',
    '22.9.10.in-addr.arpa.',
    '23.9.10.in-addr.arpa.',
    '24.9.10.in-addr.arpa.',
    '25.9.10.in-addr.arpa.',
    '26.9.10.in-addr.arpa.',
    '27.9.10.in-addr.arpa.',
    '28.9.10.in-addr.arpa.',
    '29.9.10.in-addr.arpa.',
    '30.9.10.in-addr.arpa.',
    '31.9.10.in-addr.arpa.',
    '32.9.10.in-addr.arpa.',
    '33.9.10.in-addr.arpa.',
    '34.9.10.in-addr.arpa.',
    '35.9.10.in-addr.arpa.',
    '36.9.10.in-addr.arpa.',
    '37.9.10.in-addr.arpa.',
    '38.9.10.in-addr.arpa.',
    '39.9.10.in-addr.arpa.',
    '40.9.10.in-addr.arpa.',
    '41.9.10.in-addr.arpa.',
    '42.9.10.in-addr.arpa.',
    '43.9.10.in-addr.arpa.',
    '44.9.10.in-addr.arpa.',
    '45.9.10.in-addr.arpa.',
    '46.9.10.in-addr.arpa.',
    '47.9.10.in-addr.arpa.',
    '48.9.10.in-addr.arpa.',
    '49.9.10.in-addr.arpa.',
    '50.9.10.in-addr.arpa.',
    '51.9.10.in-addr.arpa.',
    '52.9.10.in-addr.arpa.',
    '53.9.10.in-addr.arpa.',
    '54.9.10.in-addr.arpa.',
    '55.9.10.in-addr.arpa.',
    '56.9.10.in-addr.arpa.',
    '57.9.10.in-addr.arpa.',
    '58.9.10.in-addr.arpa.',
    '59.9.10.in-addr.arpa.',
    '60.9.10.in-addr.arpa.',
    '61.9.10.in-addr.arpa.',
    '62.9.10.in-addr.arpa.',
    '63.9.10.in-addr.arpa.',
  ]);
});

test('reverse CIDR: 192.168.1.0/25 gives 128 zones', () => {
  const z = reverseZonesFromCidr('192.168.1.0/25')!;
  assert.equal(z.length, 128);
  assert.equal(z[0], '0.1.168.192.in-addr.arpa.');
  assert.equal(z[127], '127.1.168.192.in-addr.arpa.');
  assert.ok(!z.includes('128.1.168.192.in-addr.arpa.'));
});

test('reverse CIDR: 10.0.0.0/27 gives 32 zones', () => {
  const z = reverseZonesFromCidr('10.0.0.0/27')!;
  assert.deepEqual(z, Array.from({ length: 32 }, (_, i) => `${i}.0.0.10.in-addr.arpa.`));
});

test('reverse CIDR: IPv6 nibbles', () => {
  assert.deepEqual(reverseZonesFromCidr('2001:db8::/31'), ['8.b.d.0.1.0.0.2.ip6.arpa.', '9.b.d.0.1.0.0.2.ip6.arpa.']);
  assert.deepEqual(reverseZonesFromCidr('2001:db8::/30'), [
    '8.b.d.0.1.0.0.2.ip6.arpa.',
    '9.b.d.0.1.0.0.2.ip6.arpa.',
    'a.b.d.0.1.0.0.2.ip6.arpa.',
    'b.b.d.0.1.0.0.2.ip6.arpa.',
  ]);
  assert.deepEqual(reverseZonesFromCidr('2001:db8::/29'), ['8', '9', 'a', 'b', 'c', 'd', 'e', 'f'].map((n) => `${n}.b.d.0.1.0.0.2.ip6.arpa.`));
  const z20 = '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.';
  assert.deepEqual(reverseZonesFromCidr('2001:db8::/112'), [`${z20}8.b.d.0.1.0.0.2.ip6.arpa.`]);
  assert.deepEqual(reverseZonesFromCidr('2001:db8::/108'), [`${z20.slice(2)}8.b.d.0.1.0.0.2.ip6.arpa.`]);
  assert.deepEqual(reverseZonesFromCidr('2001:db8::/115'), [`0.${z20}8.b.d.0.1.0.0.2.ip6.arpa.`, `1.${z20}8.b.d.0.1.0.0.2.ip6.arpa.`]);
  assert.deepEqual(
    reverseZonesFromCidr('2001:db8::/113'),
    ['0', '1', '2', '3', '4', '5', '6', '7'].map((n) => `${n}.${z20}8.b.d.0.1.0.0.2.ip6.arpa.`),
  );
  assert.deepEqual(reverseZonesFromCidr('2001:DB8:1:2::/64'), ['2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.']);
});

test('reverse CIDR: not a CIDR', () => {
  for (const s of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/+8', '10.0.0/8', '010.0.0.0/8', '256.0.0.0/8', 'fe80::%eth0/64', '2001:db8::/129', 'example.org/8', '1.2.3.4/8/8']) {
    assert.equal(reverseZonesFromCidr(s), undefined, s);
  }
  // Go's dtoi accepts leading zeros in the mask
  assert.deepEqual(reverseZonesFromCidr('10.0.0.0/008'), ['10.in-addr.arpa.']);
  // embedded IPv4 in IPv6: 0064:ff9b:0:0:0:0:0a00:0000/120 -> 30 nibbles
  assert.deepEqual(reverseZonesFromCidr('64:ff9b::10.0.0.0/120'), [
    '0.0.0.0.a.0.' + '0.'.repeat(16) + 'b.9.f.f.4.6.0.0.ip6.arpa.',
  ]);
});

// --- SplitHostPort ---------------------------------------------------------

test('splitHostPort: ports', () => {
  assert.deepEqual(splitHostPort('example.org:1053'), { hosts: ['example.org'], port: '1053' });
  assert.deepEqual(splitHostPort('example.org'), { hosts: ['example.org'], port: '' });
  assert.deepEqual(splitHostPort('.:0053'), { hosts: ['.'], port: '53' });
  assert.deepEqual(splitHostPort('.:+53'), { hosts: ['.'], port: '53' });
  assert.deepEqual(splitHostPort('.:-0'), { hosts: ['.'], port: '0' });
  assert.deepEqual(splitHostPort('.:0'), { hosts: ['.'], port: '0' });
  // not an integer: the colon stays in the name
  assert.deepEqual(splitHostPort('example.org:abc'), { hosts: ['example.org:abc'], port: '' });
  assert.deepEqual(splitHostPort('a:99999999999999999999'), { hosts: ['a:99999999999999999999'], port: '' });
  assert.deepEqual(splitHostPort('a:9223372036854775807'), { hosts: ['a'], port: '9223372036854775807' });
  assert.deepEqual(splitHostPort('a:1_000'), { hosts: ['a:1_000'], port: '' });
  assert.deepEqual(splitHostPort('10.0.0.0/15:5053'), { hosts: ['0.10.in-addr.arpa.', '1.10.in-addr.arpa.'], port: '5053' });
});

test('splitHostPort: error texts', () => {
  assert.throws(() => splitHostPort('example.org:'), { message: 'expecting data after last colon: "example.org:"' });
  assert.throws(() => splitHostPort(''), { message: 'expecting data after last colon: ""' });
  assert.throws(() => splitHostPort('a\tb:'), { message: 'expecting data after last colon: "a\\tb:"' });
  assert.throws(() => splitHostPort('"q":'), { message: 'expecting data after last colon: "\\"q\\":"' });
  assert.throws(() => splitHostPort(':53'), { message: 'zone is not a valid domain name: ' });
  assert.throws(() => splitHostPort('..'), { message: 'zone is not a valid domain name: ..' });
  assert.throws(() => splitHostPort('a..b:53'), { message: 'zone is not a valid domain name: a..b' });
  assert.throws(() => splitHostPort('x'.repeat(256)), { message: 'specified zone is too long: 256 > 255' });
  assert.throws(() => splitHostPort('é'.repeat(128)), { message: 'specified zone is too long: 256 > 255' });
  assert.throws(() => splitHostPort('::1/128'), { message: 'invalid CIDR ::1/128' });
  assert.throws(() => splitHostPort('::fFFF:B:F/115'), { message: 'invalid CIDR ::fFFF:B:F/115' });
  assert.throws(() => splitHostPort('0:0::1/64'), { message: 'invalid CIDR 0:0::1/64' });
});

test('goQuote matches strconv.Quote', () => {
  assert.equal(goQuote('abc'), '"abc"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('\x00\x7f\n'), '"\\x00\\x7f\\n"');
  assert.equal(goQuote('é\u00a0\u200b'), '"é\\u00a0\\u200b"');
  assert.equal(goQuote('\u{1F600}\u{E0001}'), '"\u{1F600}\\U000e0001"');
});

// --- names -----------------------------------------------------------------

test('isDomainName: lenient miekg rules', () => {
  for (const ok of ['.', 'a', 'a.', 'example.org', 'example.org.', '*.example.org', '_srv._tcp', '{', 'example.org{', 'a b', 'a,b', 'ü.example', 'a\\.b', '\\065bc', 'a\\\\', '}', '-', 'a:b', '10.0.0.0/8']) {
    assert.equal(isDomainName(ok), true, ok);
  }
  for (const bad of ['', '..', '.a', 'a..b', 'a\\', 'a.\\', '...']) {
    assert.equal(isDomainName(bad), false, bad);
  }
});

test('isDomainName: label and name lengths are counted in bytes', () => {
  const l63 = 'a'.repeat(63);
  assert.equal(isDomainName(l63), true);
  assert.equal(isDomainName('a'.repeat(64)), false);
  assert.equal(isDomainName('ü'.repeat(31) + 'a'), true); // 63 bytes
  assert.equal(isDomainName('ü'.repeat(32)), false); // 64 bytes
  assert.equal(isDomainName('a'.repeat(62) + '\\.'), true); // escape counts as one
  assert.equal(isDomainName('a'.repeat(63) + '\\.'), false);
  assert.equal(isDomainName('a'.repeat(60) + '\\065'), true);
  // sum of (1 + label length) may reach 256
  assert.equal(isDomainName([l63, l63, l63, l63].join('.')), true);
  assert.equal(isDomainName([l63, l63, l63, l63, 'a'].join('.')), false);
  assert.equal(domainNameLabels('www.example.org'), 3);
  assert.equal(domainNameLabels('.'), 1);
});

test('fqdn / normalizeName / canonicalName', () => {
  assert.equal(fqdn('example.org'), 'example.org.');
  assert.equal(fqdn('example.org.'), 'example.org.');
  assert.equal(fqdn('.'), '.');
  assert.equal(fqdn(''), '.');
  assert.equal(fqdn('a\\.'), 'a\\..');
  assert.equal(fqdn('a\\\\.'), 'a\\\\.');
  // Go's IsFqdn counts bytes: a 2-byte rune before one backslash flips the parity
  assert.equal(fqdn('é\\.'), 'é\\.');
  assert.equal(normalizeName('Example.ORG'), 'example.org.');
  assert.equal(normalizeName('ÄBC'), 'äbc.');
  assert.equal(normalizeName('\u0130'), 'i.');
  assert.equal(canonicalName('ÄBC'), 'Äbc.'); // ASCII letters only
  assert.equal(canonicalName('WWW.Example.Org'), 'www.example.org.');
});

test('isSubDomain: label-aware, case-insensitive', () => {
  const cases: [string, string, boolean][] = [
    ['.', '.', true],
    ['.', 'example.org.', true],
    ['example.org.', 'example.org.', true],
    ['org.', 'example.org.', true],
    ['example.org.', 'org.', false],
    ['EXAMPLE.org.', 'www.example.ORG.', true],
    ['ample.org.', 'example.org.', false],
    ['b.', 'a\\.b.', false],
    ['a.b.', 'x.a.b.', true],
    ['example.org.', 'example.net.', false],
    ['org.', '.', false],
  ];
  for (const [parent, child, want] of cases) assert.equal(isSubDomain(parent, child), want, `${parent} ${child}`);
});

test('label helpers', () => {
  assert.equal(countLabels('.'), 0);
  assert.equal(countLabels('www.example.org.'), 3);
  assert.equal(countLabels('www.example.org'), 3);
  assert.equal(countLabels('a\\.b.c.'), 2);
  assert.equal(compareDomainName('www.miek.nl.', 'miek.nl.'), 2);
  assert.equal(compareDomainName('www.miek.nl.', 'www.bla.nl.'), 1);
  assert.equal(compareDomainName('.', '.'), 0);
  assert.deepEqual(splitDomainName('www.miek.nl.'), ['www', 'miek', 'nl']);
  assert.deepEqual(splitDomainName('.www.miek.nl.'), ['', 'www', 'miek', 'nl']);
  assert.deepEqual(splitDomainName('.'), []);
});

test('zonesMatch: longest matching zone', () => {
  assert.equal(zonesMatch(['org.', '.'], 'example.org.'), 'org.');
  assert.equal(zonesMatch(['bla.example.org.', 'org.', '.'], 'bla.example.org.'), 'bla.example.org.');
  assert.equal(zonesMatch(['.', 'example.org.'], 'WWW.EXAMPLE.ORG.'), 'example.org.');
  assert.equal(zonesMatch(['example.org.'], 'example.net.'), '');
  assert.equal(zonesMatch([], 'example.net.'), '');
});

// --- transports, ports, origins --------------------------------------------

test('parseTransport: case-sensitive prefixes', () => {
  assert.deepEqual(parseTransport('tls://example.org'), { transport: 'tls', rest: 'example.org' });
  assert.deepEqual(parseTransport('dns://.:53'), { transport: 'dns', rest: '.:53' });
  assert.deepEqual(parseTransport('quic://a'), { transport: 'quic', rest: 'a' });
  assert.deepEqual(parseTransport('grpc://a'), { transport: 'grpc', rest: 'a' });
  assert.deepEqual(parseTransport('https://a'), { transport: 'https', rest: 'a' });
  assert.deepEqual(parseTransport('https3://a'), { transport: 'https3', rest: 'a' });
  assert.deepEqual(parseTransport('unix://a'), { transport: 'unix', rest: 'a' });
  assert.deepEqual(parseTransport('example.org'), { transport: 'dns', rest: 'example.org' });
  assert.deepEqual(parseTransport('TLS://example.org'), { transport: 'dns', rest: 'TLS://example.org' });
  assert.deepEqual(parseTransport('http://example.org'), { transport: 'dns', rest: 'http://example.org' });
});

test('default ports', () => {
  assert.deepEqual(DEFAULT_PORTS, { dns: '53', tls: '853', quic: '853', grpc: '443', https: '443', https3: '443', unix: '' });
  assert.equal(defaultPortFor('dns'), '53');
  assert.equal(defaultPortFor('dns', '1053'), '1053');
  assert.equal(defaultPortFor('tls', '1053'), '853');
});

test('normalizeHostExact (plugin/normalize_test.go)', () => {
  assert.deepEqual(normalizeHostExact('.:53'), ['.']);
  assert.deepEqual(normalizeHostExact('example.org:53'), ['example.org.']);
  assert.deepEqual(normalizeHostExact('example.org.:53'), ['example.org.']);
  assert.deepEqual(normalizeHostExact('10.0.0.0/8:53'), ['10.in-addr.arpa.']);
  assert.deepEqual(normalizeHostExact('10.0.0.0/15'), ['0.10.in-addr.arpa.', '1.10.in-addr.arpa.']);
  assert.deepEqual(normalizeHostExact('::fFFF:B:F/115'), []);
  assert.deepEqual(normalizeHostExact('dns://example.org'), ['example.org.']);
  assert.deepEqual(normalizeHostExact('tls://Example.ORG:853'), ['example.org.']);
});

test('originsFromArgsOrServerBlock (plugin/normalize_test.go)', () => {
  assert.deepEqual(originsFromArgsOrServerBlock(['example.org'], ['ignored.local']), ['example.org.']);
  assert.deepEqual(originsFromArgsOrServerBlock(['10.0.0.0/15'], []), ['0.10.in-addr.arpa.', '1.10.in-addr.arpa.']);
  assert.deepEqual(originsFromArgsOrServerBlock([], ['example.org']), ['example.org.']);
  assert.deepEqual(originsFromArgsOrServerBlock([], ['10.0.0.0/15']), ['0.10.in-addr.arpa.']);
  assert.deepEqual(originsFromArgsOrServerBlock([], ['\u00ff\n:', 'example.org']), ['\u00ff\n:', 'example.org.']);
  assert.deepEqual(originsFromArgsOrServerBlock(['\u00ff\n:', 'example.org'], []), ['example.org.']);
  assert.deepEqual(originsFromArgsOrServerBlock([], ['dns://example.org.:53', 'tls://b.:853']), ['example.org.', 'b.']);
});
