import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTHORITATIVE_ANSWER, RCODE, type Msg, type RR } from '@tsdns/core';
import whoami from '@tsdns/plugin-whoami';
import { serveCorefile, type TestServer } from '@tsdns/testing';
import hosts from '../src/index.js';

const plugins = [hosts, whoami];

const HOSTS = `# comment line
127.0.0.1       localhost localhost.domain
::1             localhost
10.0.0.1        example.org   # trailing comment
10.0.0.2        Example.COM
10.0.0.3        multi.example.org
10.0.0.4        multi.example.org
fe80::1%eth0    zoned.example.org
::FFFF:10.0.0.5 mapped.example.org
2001:db8:0:0:0:0:0:10 v6.example.org
1.2.3.4         *.example.com
5.6.7.8         apps.example.com
2001:db8::99    *.example.com
10.0.0.9        outside.example.net
bogus           ignored.example.org
010.0.0.1       leadingzero.example.org
10.0.0.10
`;

let dir: string;
let file: string;
let srv: TestServer;
let fall: TestServer;
let narrow: TestServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hosts-test-'));
  file = join(dir, 'hosts');
  writeFileSync(file, HOSTS);
  // zones "." minus example.net: only example.org/com names are served
  srv = await serveCorefile(
    `. {\n  hosts ${file} example.org example.com {\n    ttl 300\n    10.0.0.1 inline.example.org\n    10.0.0.20 multi.example.org\n    10.0.0.1 second.example.org\n  }\n  whoami\n}`,
    { plugins },
  );
  fall = await serveCorefile(
    `. {\n  hosts ${file} {\n    fallthrough example.org\n    fallthrough_unsupported\n  }\n  whoami\n}`,
    { plugins },
  );
  narrow = await serveCorefile(`. {\n  hosts ${file} example.org {\n    no_reverse\n  }\n}`, { plugins });
});

after(async () => {
  await srv.close();
  await fall.close();
  await narrow.close();
  rmSync(dir, { recursive: true, force: true });
});

function datas(m: Msg): unknown[] {
  return m.answers.map((r) => (r as RR).data);
}

test('A: exact name, AA, TTL, lower-case owner, question echoed as sent', async () => {
  const r = await srv.query('EXAMPLE.Org', 'A');
  const m = r.msg;
  assert.equal(m.flags & 0xf, RCODE.NOERROR);
  assert.ok(m.flags & AUTHORITATIVE_ANSWER);
  assert.equal(m.questions[0]!.name, 'EXAMPLE.Org.');
  assert.equal(m.answers.length, 1);
  const a = m.answers[0] as RR;
  assert.equal(a.name, 'example.org.');
  assert.equal(a.type, 'A');
  assert.equal(a.ttl, 300);
  assert.equal(a.data, '10.0.0.1');
  assert.equal(m.authorities.length, 0);
});

test('names are lower-cased; several addresses keep file order, then inline ones', async () => {
  assert.deepEqual(datas((await srv.query('example.com', 'A')).msg), ['10.0.0.2']);
  assert.deepEqual(datas((await srv.query('multi.example.org', 'A')).msg), ['10.0.0.3', '10.0.0.4', '10.0.0.20']);
  assert.deepEqual(datas((await srv.query('inline.example.org', 'A')).msg), ['10.0.0.1']);
});

test('AAAA, IPv6 zones stripped, IPv4-mapped addresses are IPv4', async () => {
  assert.deepEqual(datas((await srv.query('zoned.example.org', 'AAAA')).msg), ['fe80::1']);
  assert.deepEqual(datas((await srv.query('v6.example.org', 'AAAA')).msg), ['2001:db8::10']);
  assert.deepEqual(datas((await srv.query('mapped.example.org', 'A')).msg), ['10.0.0.5']);
  const none = (await srv.query('mapped.example.org', 'AAAA')).msg;
  assert.equal(none.flags & 0xf, RCODE.NOERROR);
  assert.equal(none.answers.length, 0);
});

test('NODATA without SOA when the name has other addresses or for other types', async () => {
  for (const [name, type] of [
    ['example.org', 'AAAA'],
    ['example.org', 'MX'],
    ['example.org', 'TXT'],
    ['v6.example.org', 'A'],
  ] as const) {
    const m = (await srv.query(name, type)).msg;
    assert.equal(m.flags & 0xf, RCODE.NOERROR, `${name} ${type}`);
    assert.ok(m.flags & AUTHORITATIVE_ANSWER);
    assert.equal(m.answers.length, 0);
    assert.equal(m.authorities.length, 0);
  }
});

test('a miss without fallthrough is SERVFAIL (no SOA to build an NXDOMAIN)', async () => {
  for (const type of ['A', 'AAAA', 'MX']) {
    const m = (await srv.query('missing.example.org', type)).msg;
    assert.equal(m.flags & 0xf, RCODE.SERVFAIL, type);
    assert.equal(m.flags & AUTHORITATIVE_ANSWER, 0);
    assert.equal(m.answers.length, 0);
  }
});

test('wildcards match exactly one label, not the apex, not deeper; exact names win', async () => {
  assert.deepEqual(datas((await srv.query('foo.example.com', 'A')).msg), ['1.2.3.4']);
  assert.deepEqual(datas((await srv.query('foo.example.com', 'AAAA')).msg), ['2001:db8::99']);
  assert.deepEqual(datas((await srv.query('apps.example.com', 'A')).msg), ['5.6.7.8']);
  assert.equal((await srv.query('deep.foo.example.com', 'A')).msg.flags & 0xf, RCODE.SERVFAIL);
  // the apex example.com has its own entry; with no wildcard for *.com it does not match one
  assert.deepEqual(datas((await srv.query('example.com', 'A')).msg), ['10.0.0.2']);
  // the owner name is the query name
  assert.equal(((await srv.query('Foo.Example.com', 'A')).msg.answers[0] as RR).name, 'foo.example.com.');
});

test('PTR from the entries (file then inline), IPv4 and IPv6; wildcards give none', async () => {
  let m = (await srv.query('1.0.0.10.in-addr.arpa', 'PTR')).msg;
  assert.ok(m.flags & AUTHORITATIVE_ANSWER);
  assert.deepEqual(datas(m), ['example.org.', 'inline.example.org.', 'second.example.org.']);
  assert.equal((m.answers[0] as RR).ttl, 300);
  assert.equal((m.answers[0] as RR).name, '1.0.0.10.in-addr.arpa.');
  m = (await srv.query('0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', 'PTR')).msg;
  assert.deepEqual(datas(m), ['v6.example.org.']);
  // ::ffff:10.0.0.5 is an IPv4 address: its PTR is under in-addr.arpa
  assert.deepEqual(datas((await srv.query('5.0.0.10.in-addr.arpa', 'PTR')).msg), ['mapped.example.org.']);
  // 1.2.3.4 only has a wildcard name: no PTR, so the next plugin (whoami) answers
  const w = (await srv.query('4.3.2.1.in-addr.arpa', 'PTR')).msg;
  assert.equal(w.answers.length, 0);
  assert.equal(w.additionals.length, 2, 'whoami answered');
});

test('names outside the zones are ignored; non-PTR queries outside the zones go to the next plugin', async () => {
  // outside.example.net is not loaded (zones example.org example.com) ...
  const m = (await srv.query('outside.example.net', 'A')).msg;
  assert.equal(m.flags & 0xf, RCODE.NOERROR);
  assert.equal(m.answers.length, 0);
  assert.equal(m.additionals.length, 2, 'whoami answered');
  // ... and so has no PTR either: PTR misses always go to the next plugin
  const p = (await srv.query('9.0.0.10.in-addr.arpa', 'PTR')).msg;
  assert.equal(p.additionals.length, 2, 'whoami answered');
  // unparsable addresses and IPv4 with leading zeros are skipped
  assert.equal((await srv.query('ignored.example.org', 'A')).msg.flags & 0xf, RCODE.SERVFAIL);
  assert.equal((await srv.query('leadingzero.example.org', 'A')).msg.flags & 0xf, RCODE.SERVFAIL);
});

test('PTR outside the zones is answered when the address is known', async () => {
  // `narrow` has no_reverse: no PTR data
  const p = await narrow.query('1.0.0.10.in-addr.arpa', 'PTR');
  // no_reverse: no PTR data, no next plugin: SERVFAIL written by the server
  assert.equal(p.msg.flags & 0xf, RCODE.SERVFAIL);
  // srv's zones are example.org/com, not in-addr.arpa, and it answers PTRs
  assert.equal((await srv.query('2.0.0.10.in-addr.arpa', 'PTR')).msg.answers.length, 1);
  // a query outside the zones with no next plugin: SERVFAIL
  assert.equal((await narrow.query('example.net', 'A')).msg.flags & 0xf, RCODE.SERVFAIL);
});

test('fallthrough: misses in the fallthrough zones go to the next plugin; elsewhere SERVFAIL', async () => {
  const m = (await fall.query('missing.example.org', 'A')).msg;
  assert.equal(m.flags & 0xf, RCODE.NOERROR);
  assert.equal(m.additionals.length, 2, 'whoami answered');
  const s = (await fall.query('missing.example.net', 'A')).msg;
  assert.equal(s.flags & 0xf, RCODE.SERVFAIL);
});

test('fallthrough_unsupported: other types of known names go to the next plugin within the fallthrough zones', async () => {
  const m = (await fall.query('example.org', 'TXT')).msg;
  assert.equal(m.additionals.length, 2, 'whoami answered');
  // outside the fallthrough zones: authoritative NODATA
  const n = (await fall.query('outside.example.net', 'TXT')).msg;
  assert.equal(n.flags & 0xf, RCODE.NOERROR);
  assert.ok(n.flags & AUTHORITATIVE_ANSWER);
  assert.equal(n.answers.length, 0);
  assert.equal(n.additionals.length, 0);
  // supported types are still answered from the file
  assert.deepEqual(datas((await fall.query('outside.example.net', 'A')).msg), ['10.0.0.9']);
  // a known name without an AAAA: NODATA, not fallthrough
  const a = (await fall.query('example.org', 'AAAA')).msg;
  assert.equal(a.answers.length, 0);
  assert.equal(a.additionals.length, 0);
});

test('TCP works the same', async () => {
  const r = await srv.query('example.org', 'A', { tcp: true });
  assert.equal(r.proto, 'tcp');
  assert.deepEqual(datas(r.msg), ['10.0.0.1']);
});
