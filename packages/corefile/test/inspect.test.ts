import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, zoneAddrString } from '@tsdns/core';
import { inspectServerBlocks } from '../src/index.js';
import { parse } from './helpers.js';

function keys(input: string, defaultPort = '53'): string[][] {
  return inspectServerBlocks(parse(input), { defaultPort }).map((b) => b.keys);
}

function inspectError(input: string, message: string, opts: { filename?: string } = {}): void {
  const blocks = parse(input, opts);
  assert.throws(
    () => inspectServerBlocks(blocks, { defaultPort: '53' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, message);
      return true;
    },
  );
}

// --- core/dnsserver/register_test.go TestInspectServerBlocks ----------------

test('register_test: simple, uppercase, port, fqdn', () => {
  assert.deepEqual(keys('example.org'), [['dns://example.org.:53']]);
  assert.deepEqual(keys('EXAMPLE.ORG'), [['dns://example.org.:53']]);
  assert.deepEqual(keys('example.org:1053'), [['dns://example.org.:1053']]);
  assert.deepEqual(keys('example.org.'), [['dns://example.org.:53']]);
});

test('register_test: transports and their default ports', () => {
  assert.deepEqual(keys('tls://example.org'), [['tls://example.org.:853']]);
  assert.deepEqual(keys('quic://example.org'), [['quic://example.org.:853']]);
  assert.deepEqual(keys('grpc://example.org'), [['grpc://example.org.:443']]);
  assert.deepEqual(keys('https://example.org.'), [['https://example.org.:443']]);
  assert.deepEqual(keys('https3://example.org'), [['https3://example.org.:443']]);
  assert.deepEqual(keys('dns://example.org'), [['dns://example.org.:53']]);
  assert.deepEqual(keys('unix://example.org'), [['unix://example.org.:']]);
});

test('register_test: multiple hosts in one key, multiple keys, multiple blocks', () => {
  assert.deepEqual(keys('example.org,example.com:1053'), [['dns://example.org,example.com.:1053']]);
  assert.deepEqual(keys('example.org example.com:1053'), [['dns://example.org.:53', 'dns://example.com.:1053']]);
  assert.deepEqual(keys('example.org {\n}\nsub.example.org:1054 {\n}'), [['dns://example.org.:53'], ['dns://sub.example.org.:1054']]);
});

test('inspect: addrs, keys and key tokens line up', () => {
  const [b] = inspectServerBlocks(parse('a.org 10.0.0.0/15:5053 tls://B.org {\n}'), { defaultPort: '53' });
  assert.deepEqual(b!.addrs, [
    { transport: 'dns', zone: 'a.org.', port: '53' },
    { transport: 'dns', zone: '0.10.in-addr.arpa.', port: '5053' },
    { transport: 'dns', zone: '1.10.in-addr.arpa.', port: '5053' },
    { transport: 'tls', zone: 'b.org.', port: '853' },
  ]);
  assert.deepEqual(b!.keys, b!.addrs.map(zoneAddrString));
  assert.deepEqual(b!.keyTokens.map((t) => t.text), ['a.org', '10.0.0.0/15:5053', '10.0.0.0/15:5053', 'tls://B.org']);
  // the parsed block itself is not modified
  assert.deepEqual(b!.block.keys, ['a.org', '10.0.0.0/15:5053', 'tls://B.org']);
});

test('inspect: reverse zones keep key order, extra zones follow their key', () => {
  assert.deepEqual(keys('10.0.0.0/15 example.org 192.168.1.1/23:53'), [
    [
      'dns://0.10.in-addr.arpa.:53',
      'dns://1.10.in-addr.arpa.:53',
      'dns://example.org.:53',
      'dns://0.168.192.in-addr.arpa.:53',
      'dns://1.168.192.in-addr.arpa.:53',
    ],
  ]);
  assert.equal(keys('192.168.1.0/25')[0]!.length, 128);
  assert.deepEqual(keys('2001:db8::/31:8053'), [['dns://8.b.d.0.1.0.0.2.ip6.arpa.:8053', 'dns://9.b.d.0.1.0.0.2.ip6.arpa.:8053']]);
});

test('inspect: -dns.port only affects dns keys without a port', () => {
  assert.deepEqual(keys('. example.org:53 tls://t.org grpc://g.org', '1053'), [
    ['dns://.:1053', 'dns://example.org.:53', 'tls://t.org.:853', 'grpc://g.org.:443'],
  ]);
});

test('inspect: port normalisation', () => {
  assert.deepEqual(keys('.:0053'), [['dns://.:53']]);
  assert.deepEqual(keys('.:0'), [['dns://.:0']]);
  assert.deepEqual(keys('example.org:abc'), [['dns://example.org:abc.:53']]);
});

test('inspect: lenient zone names are accepted', () => {
  assert.deepEqual(keys('. {}'), [['dns://.:53', 'dns://{}.:53']]);
  assert.deepEqual(keys('*.example.org _tcp.example.org'), [['dns://*.example.org.:53', 'dns://_tcp.example.org.:53']]);
  assert.deepEqual(keys('. {\nwhoami\n}\n}'), [['dns://.:53'], ['dns://}.:53']]);
  assert.deepEqual(keys('"Quoted Zone"'), [['dns://quoted zone.:53']]);
});

test('inspect errors: location prefix and CoreDNS texts', () => {
  inspectError('.: {\n}', 'Corefile:1 - error inspecting server blocks: expecting data after last colon: ".:"');
  inspectError('. {\n}\n\nexample.org: {\n}', 'Corefile:4 - error inspecting server blocks: expecting data after last colon: "example.org:"');
  inspectError(':53 {\n}', 'Corefile:1 - error inspecting server blocks: zone is not a valid domain name: ');
  inspectError('a..b {\n}', 'Corefile:1 - error inspecting server blocks: zone is not a valid domain name: a..b');
  inspectError('tls://.a:853 {\n}', 'Corefile:1 - error inspecting server blocks: zone is not a valid domain name: .a');
  inspectError(`${'x'.repeat(256)}:53 {\n}`, 'Corefile:1 - error inspecting server blocks: specified zone is too long: 256 > 255');
  inspectError('::1/128 {\n}', 'Corefile:1 - error inspecting server blocks: invalid CIDR ::1/128');
  inspectError('\n\nexample.org: {\n}', 'conf/Corefile.x:3 - error inspecting server blocks: expecting data after last colon: "example.org:"', {
    filename: 'conf/Corefile.x',
  });
});

test('inspect errors: the lone-comma empty key is rejected by SplitHostPort', () => {
  // plugin.SplitHostPort("") fails on its first check (LastIndex == len-1).
  inspectError('a , b {\n}', 'Corefile:1 - error inspecting server blocks: expecting data after last colon: ""');
});

test('inspect errors: the fully-qualified re-check', () => {
  // 255 bytes are fine, but the FQDN form is 256 bytes long.
  const l63 = 'a'.repeat(63);
  const name = [l63, l63, l63, l63].join('.');
  assert.equal(name.length, 255);
  inspectError(`${name} {\n}`, 'Corefile:1 - error inspecting server blocks: specified zone is too long: 256 > 255');
  inspectError(`${name}. {\n}`, 'Corefile:1 - error inspecting server blocks: specified zone is too long: 256 > 255');
  const name254 = [l63, l63, l63, 'a'.repeat(62)].join('.');
  assert.deepEqual(keys(`${name254} {\n}`), [[`dns://${name254}.:53`]]);
  assert.deepEqual(keys(`${name254}. {\n}`), [[`dns://${name254}.:53`]]);
});

test('inspect: the first failing key stops inspection', () => {
  inspectError('ok.org {\n}\nbad..org {\n}\nalso..bad {\n}', 'Corefile:3 - error inspecting server blocks: zone is not a valid domain name: bad..org');
});
