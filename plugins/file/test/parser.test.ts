import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RR } from '@tsdns/core';
import { ZoneParser, ZoneParseError, parseZone, stringToTTL, SerialUnchangedError } from '../src/index.js';
import { fixture, rrText } from './helpers.js';

function parseAll(text: string | Buffer, origin = 'example.org.', file = 'db.test'): { rrs: string[]; err: string | undefined; raw: RR[] } {
  const zp = new ZoneParser(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, origin, file);
  const raw: RR[] = [];
  for (let rr = zp.next(); rr; rr = zp.next()) raw.push(rr);
  return { rrs: raw.map(rrText), err: zp.err()?.message, raw };
}

/** Expects `text` (or these lines) to parse without an error into these records. */
function assertParses(text: string | string[], want: string[]): void {
  const r = parseAll(typeof text === 'string' ? text : text.join('\n') + '\n');
  assert.equal(r.err, undefined);
  assert.deepEqual(r.rrs, want);
}

/** Expects each text to fail with its error. */
function assertErrors(cases: [string, string][]): void {
  for (const [text, want] of cases) assert.equal(parseAll(text).err, want, JSON.stringify(text));
}

test('every syntax feature of the fixture zone', () => {
  const f = fixture('syntax.db');
  const { rrs, err } = parseAll(readFileSync(f), 'example.org.', f);
  assert.equal(err, undefined);
  assert.deepEqual(rrs, [
    // $TTL 1h30m = 5400; SOA over several lines with comments; units in SOA fields
    'example.org. 5400 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 3600 604800 300',
    // owner omitted = previous owner; relative and absolute targets
    'example.org. 5400 IN NS ns1.example.org.',
    'example.org. 5400 IN NS ns2.example.net.',
    'ns1.example.org. 5400 IN A 192.0.2.1',
    // TTL then class, class then TTL
    'www.example.org. 300 IN A 192.0.2.10',
    'www.example.org. 600 IN AAAA 2001:db8::10',
    'mail.example.org. 5400 CH A 192.0.2.99',
    // owner, class and TTL omitted: previous owner, IN, $TTL
    'mail.example.org. 5400 IN A 192.0.2.11',
    'example.org. 5400 IN MX 10 mail.example.org.',
    // quoted, unquoted, escaped quotes, ; inside quotes, \DDD
    'txt.example.org. 5400 IN TXT "quoted string" "unquoted" "with \\"escaped\\" quotes" "semi;colon" "ABC"',
    'empty.example.org. 5400 IN TXT ""',
    // strings over 255 octets are split
    `long.example.org. 5400 IN TXT "${'0123456789'.repeat(25)}01234" "${'56789' + '0123456789'.repeat(2)}"`,
    // escapes in owner names; \046 is a dot inside a label, as \. is
    'sp\\ ace.example.org. 5400 IN A 192.0.2.20',
    'dot\\.ted.example.org. 5400 IN A 192.0.2.21',
    'ddd\\.dot.example.org. 5400 IN A 192.0.2.22',
    'Mixed.Case.example.org. 5400 IN A 192.0.2.23',
    '_sip._tcp.example.org. 5400 IN SRV 10 60 5060 SipServer.example.org.',
    'caa.example.org. 5400 IN CAA 128 issue "ca.example.net; account=1"',
    'hinfo.example.org. 5400 IN HINFO "PC-Intel-700mhz" "Linux 6"',
    'ptr.example.org. 5400 IN PTR www.example.org.',
    'dn.example.org. 5400 IN DNAME example.net.',
    'alias.example.org. 5400 IN CNAME www.example.org.',
    // RFC 3597: unknown type, and a known type in generic form
    'generic.example.org. 5400 IN TYPE65280 \\# 4 0a000001',
    'generic.example.org. 5400 IN A 10.0.0.2',
    // $INCLUDE with its own origin; the $TTL carries over
    'included.example.org. 5400 IN TXT "from the included file"',
    'one.included.example.org. 5400 IN A 192.0.2.40',
    // $GENERATE (default TTL 3600 as in miekg/dns), with a step and a {offset,width,base} modifier
    'host-1.example.org. 3600 IN A 192.0.3.1',
    'host-2.example.org. 3600 IN A 192.0.3.2',
    'host-3.example.org. 3600 IN A 192.0.3.3',
    'r0a.example.org. 3600 IN CNAME host-1.example.org.',
    'r0c.example.org. 3600 IN CNAME host-3.example.org.',
    'r0e.example.org. 3600 IN CNAME host-5.example.org.',
    // the origin after $INCLUDE is the file's own; a new $ORIGIN and $TTL apply
    'leaf.sub.example.org. 60 IN A 192.0.2.30',
    'after.include.sub.example.org. 60 IN A 192.0.2.31',
  ]);
});

test('TTL units as miekg/dns reads them', () => {
  assert.equal(stringToTTL('300'), 300);
  assert.equal(stringToTTL('1h30m'), 5400);
  assert.equal(stringToTTL('1W2D3H4M5S'), 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
  assert.equal(stringToTTL('30M'), 1800);
  assert.equal(stringToTTL('1h1'), 3601);
  assert.equal(stringToTTL('4294967295'), 4294967295);
  assert.equal(stringToTTL('4294967296'), undefined);
  assert.equal(stringToTTL('1x'), undefined);
  assert.equal(stringToTTL('-1'), undefined);
});

test('first TTL without $TTL becomes the default; $TTL wins over later explicit TTLs', () => {
  const r = parseAll('a 100 IN A 192.0.2.1\nb IN A 192.0.2.2\nc 200 A 192.0.2.3\nd A 192.0.2.4\n$TTL 50\ne 70 A 192.0.2.5\nf A 192.0.2.6\n');
  assert.equal(r.err, undefined);
  assert.deepEqual(
    r.raw.map((x) => [x.name, x.ttl]),
    [
      ['a.example.org.', 100],
      ['b.example.org.', 100],
      ['c.example.org.', 200],
      ['d.example.org.', 200],
      ['e.example.org.', 70],
      ['f.example.org.', 50],
    ],
  );
});

test('no TTL anywhere: a record with a class but no TTL gets 0, one with neither is an error', () => {
  assert.deepEqual(parseAll('a IN A 192.0.2.1\n').raw.map((x) => x.ttl), [0]);
  assert.equal(parseAll('a A 192.0.2.1\n').err, 'db.test: dns: missing TTL with no previous value: "A" at line: 1:4');
});

test('CRLF line ends, tabs, blank lines and comment-only lines', () => {
  assertParses('$TTL 60\r\n\r\n; only a comment\r\nwww\tIN\tA\t192.0.2.1\r\n\t\tIN AAAA ::1 ; same owner\r\n', ['www.example.org. 60 IN A 192.0.2.1', 'www.example.org. 60 IN AAAA ::1']);
});

test('as in miekg/dns, a word made of TTL unit letters is a TTL ("www" is 0 weeks)', () => {
  const r = parseAll('$TTL 60\n\twww IN A 192.0.2.1\n');
  assert.equal(r.err, undefined);
  assert.deepEqual(r.raw.map((x) => [x.ttl, x.type]), [[0, 'A']]);
});

test('parentheses anywhere, quoted newlines kept, braces inside quotes ignored', () => {
  assertParses('$TTL 60\nt TXT ( "a(b" \n "c)d" )\nm MX ( 10\n  mail )\n', ['t.example.org. 60 IN TXT "a(b" "c)d"', 'm.example.org. 60 IN MX 10 mail.example.org.']);
});

test('record types read from text', () => {
  const zone = [
    '$TTL 60',
    'n NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.org.',
    's SSHFP 1 1 123456789abcdef67890123456789abcdef67890',
    't TLSA 3 1 1 0123456789abcdef',
    'd DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118',
    'k DNSKEY 256 3 8 AwEAAQ==',
    'u URI 10 1 "ftp://ftp1.example.com/public"',
    'r RP mbox.example.org. txt.example.org.',
    'x KX 10 kx',
    'h HTTPS 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1,192.0.2.2',
    'v SVCB 0 target',
    'sp SPF "v=spf1 -all"',
    'mi MINFO rm em',
    'nsec NSEC next.example.org. A MX RRSIG NSEC',
  ];
  assertParses(zone, [
    'n.example.org. 60 IN NAPTR \\# 38 0064000a0153075349502b44325500045f736970045f756470076578616d706c65036f726700',
    's.example.org. 60 IN SSHFP \\# 22 0101123456789abcdef67890123456789abcdef67890',
    't.example.org. 60 IN TLSA \\# 11 0301010123456789abcdef',
    'd.example.org. 60 IN DS \\# 24 ec4505012bb183af5f22588179a53b0a98631fad1a292118',
    'k.example.org. 60 IN DNSKEY \\# 8 0100030803010001',
    'u.example.org. 60 IN URI \\# 33 000a00016674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963',
    'r.example.org. 60 IN RP \\# 35 046d626f78076578616d706c65036f72670003747874076578616d706c65036f726700',
    'x.example.org. 60 IN KX {"preference":10,"exchange":"kx.example.org."}',
    // priority 1, target ".", alpn h2,h3, port 8443, ipv4hint: keys in order
    'h.example.org. 60 IN HTTPS \\# 31 000100000100060268320268330003000220fb00040008c0000201c0000202',
    'v.example.org. 60 IN SVCB \\# 22 000006746172676574076578616d706c65036f726700',
    'sp.example.org. 60 IN SPF "v=spf1 -all"',
    'mi.example.org. 60 IN MINFO {"rmailbx":"rm.example.org.","emailbx":"em.example.org."}',
    // type bitmap window 0: A MX RRSIG NSEC
    'nsec.example.org. 60 IN NSEC \\# 26 046e657874076578616d706c65036f7267000006400100000003',
  ]);
});

test('more record types read from text: names, addresses, numbers, DNSSEC algorithms, hex and base64', () => {
  const zone = [
    '$TTL 60',
    'md MD a',
    'mf MF a.example.net.',
    'mb MB a',
    'mg MG a',
    'mr MR a',
    'np NSAP-PTR host',
    'af AFSDB 1 db',
    'rt RT 10 relay',
    'srv SRV 0 5 389 ldap',
    'aaaa AAAA 2001:DB8::1',
    'cd CDS 60485 RSASHA256 2 abcdef01',
    'ds DS 1 rsasha256 1 00',
    'dl DLV 1 13 1 00ff',
    'ck CDNSKEY 257 3 13 AwEAAQ==',
    'ky KEY 0 3 8 AwEAAQ==',
    'dk DNSKEY 0 3 8 ( AwEA',
    '  AQ== )',
    'sm SMIMEA 3 0 0 aabb',
    'op OPENPGPKEY AwEA AQ==',
    'dh DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=',
    'rr RRSIG A 8 3 300 20240101000000 20231201000000 12345 example.org. AwEAAQ==',
    'sg SIG A 8 3 300 20240101000000 20231201000000 12345 example.org. AwEAAQ==',
    'ni NINFO "a" "b"',
    'av AVC "x"',
    're RESINFO "qnamemin" "exterr=15"',
    // a DS digest runs to the end of the line, and may be empty
    'e DS 1 8 1',
    'b A 192.0.2.1',
  ];
  assertParses(zone, [
    'md.example.org. 60 IN MD a.example.org.',
    'mf.example.org. 60 IN MF a.example.net.',
    'mb.example.org. 60 IN MB a.example.org.',
    'mg.example.org. 60 IN MG a.example.org.',
    'mr.example.org. 60 IN MR a.example.org.',
    'np.example.org. 60 IN NSAP-PTR \\# 18 04686f7374076578616d706c65036f726700',
    'af.example.org. 60 IN AFSDB {"preference":1,"exchange":"db.example.org."}',
    'rt.example.org. 60 IN RT {"preference":10,"exchange":"relay.example.org."}',
    'srv.example.org. 60 IN SRV 0 5 389 ldap.example.org.',
    'aaaa.example.org. 60 IN AAAA 2001:db8::1',
    'cd.example.org. 60 IN CDS \\# 8 ec450802abcdef01',
    'ds.example.org. 60 IN DS \\# 5 0001080100',
    'dl.example.org. 60 IN DLV \\# 6 00010d0100ff',
    'ck.example.org. 60 IN CDNSKEY \\# 8 0101030d03010001',
    'ky.example.org. 60 IN KEY \\# 8 0000030803010001',
    'dk.example.org. 60 IN DNSKEY \\# 8 0000030803010001',
    'sm.example.org. 60 IN SMIMEA \\# 5 030000aabb',
    'op.example.org. 60 IN OPENPGPKEY \\# 4 03010001',
    'dh.example.org. 60 IN DHCID \\# 35 000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40',
    'rr.example.org. 60 IN RRSIG \\# 35 000108030000012c65920080656922003039076578616d706c65036f72670003010001',
    'sg.example.org. 60 IN SIG \\# 35 000108030000012c65920080656922003039076578616d706c65036f72670003010001',
    'ni.example.org. 60 IN NINFO \\# 4 01610162',
    'av.example.org. 60 IN AVC \\# 2 0178',
    're.example.org. 60 IN RESINFO \\# 19 08716e616d656d696e096578746572723d3135',
    'e.example.org. 60 IN DS \\# 4 00010801',
    'b.example.org. 60 IN A 192.0.2.1',
  ]);
});

test('a bad RDATA field is reported with its type and field name, at the token miekg/dns points to', () => {
  const cases: [string, string][] = [
    ['w MD a..b', 'bad MD Md: "a..b" at line: 2:9'],
    ['w NSAP-PTR a..b', 'bad NSAP-PTR Ptr: "a..b" at line: 2:15'],
    ['w AFSDB x db', 'bad AFSDB Subtype: "x" at line: 2:10'],
    ['w AFSDB 1 a..b', 'bad AFSDB Hostname: "a..b" at line: 2:14'],
    ['w RT 70000 r', 'bad RT Preference: "70000" at line: 2:11'],
    ['w KX 1', 'bad KX Exchanger: " " at line: 2:5'],
    ['w MX 1 m extra', 'garbage after rdata: "extra" at line: 2:14'],
    ['w SRV 1 2 3', 'bad SRV Target: " " at line: 2:6'],
    ['w SRV 1 2 3 a..b', 'bad SRV Target: "a..b" at line: 2:16'],
    ['w MINFO a..b a', 'bad MINFO Rmail: "a..b" at line: 2:13'],
    ['w MINFO a a..b', 'bad MINFO Email: "a..b" at line: 2:14'],
    ['w RP a a..b', 'bad RP Txt: "a..b" at line: 2:11'],
    ['w RP a b c', 'garbage after rdata: "c" at line: 2:10'],
    ['w A 1.2.3.4 x', 'garbage after rdata: "x" at line: 2:13'],
    ['w AAAA fe80::1%eth0', 'bad AAAA AAAA: "fe80::1%eth0" at line: 2:19'],
    ['w CDS 65536 8 1 00', 'bad CDS KeyTag: "65536" at line: 2:12'],
    ['w CDS 1 FOO 1 00', 'bad CDS Algorithm: "FOO" at line: 2:12'],
    ['w CDS 1 8 256 00', 'bad CDS DigestType: "256" at line: 2:14'],
    // hex and base64 to the end of the line are reported at the field before them
    ['w DLV 1 8 1 0g', 'bad DLV Digest: "1" at line: 2:12'],
    ['w DS 1 8 1 abc', 'bad DS Digest: "1" at line: 2:11'],
    ['w CDNSKEY x 3 8 AwEAAQ==', 'bad CDNSKEY Flags: "x" at line: 2:12'],
    ['w KEY 0 300 8 AwEAAQ==', 'bad KEY Protocol: "300" at line: 2:12'],
    ['w DNSKEY 0 3 RSASHA256 AwEAAQ==', 'bad DNSKEY Algorithm: "RSASHA256" at line: 2:23'],
    ['w KEY 0 3 8 AwEAAQ=', 'bad KEY PublicKey: "8" at line: 2:12'],
    ['w SMIMEA 4x 0 0 aa', 'bad SMIMEA Usage: "4x" at line: 2:12'],
    ['w TLSA 3 256 0 aa', 'bad TLSA Selector: "256" at line: 2:13'],
    ['w SMIMEA 3 0 -1 aa', 'bad SMIMEA MatchingType: "-1" at line: 2:16'],
    ['w SMIMEA 3 0 1 a', 'bad SMIMEA Certificate: "1" at line: 2:15'],
    ['w SSHFP 256 1 aa', 'bad SSHFP Algorithm: "256" at line: 2:12'],
    ['w SSHFP 1 x aa', 'bad SSHFP Type: "x" at line: 2:12'],
    ['w SSHFP 1 1 a', 'bad SSHFP Fingerprint: "1" at line: 2:12'],
    // as in miekg/dns, the SSHFP fingerprint starts after one more token: here the line end
    ['w SSHFP 1 1\nb A 192.0.2.1', 'bad SSHFP Fingerprint: "b" at line: 3:2'],
    // a field alone is reported at its first token
    ['w OPENPGPKEY AwE', 'bad OPENPGPKEY PublicKey: "\\n" at line: 2:16'],
    ['w DHCID Aw==  x', 'bad DHCID Digest: " " at line: 2:13'],
  ];
  assertErrors(cases.map(([line, want]) => [`$TTL 60\n${line}\n`, `db.test: dns: ${want}`]));
});

test('syntax errors carry FILE: dns: MESSAGE: "TOKEN" at line: L:C', () => {
  const cases: [string, string][] = [
    ['$TTL 60\nwww IN A 192.0.2.300\n', 'db.test: dns: bad A A: "192.0.2.300" at line: 2:20'],
    ['$TTL 60\nwww IN A 192.0.2.1 extra\n', 'db.test: dns: garbage after rdata: "extra" at line: 2:24'],
    ['$TTL 60\nwww IN AAAA 192.0.2.1\n', 'db.test: dns: bad AAAA AAAA: "192.0.2.1" at line: 2:21'],
    ['$TTL 60\nwww IN MX x mail\n', 'db.test: dns: bad MX Pref: "x" at line: 2:12'],
    ['$TTL 60\nwww IN SRV 1 2 99999 t\n', 'db.test: dns: bad SRV Port: "99999" at line: 2:21'],
    ['$TTL 60\nwww IN FOO bar\n', 'db.test: dns: not a TTL: "FOO" at line: 2:11'],
    ['$TTL 60\nwww IN TXT "open\n', 'db.test: dns: bad TXT Txt: " " at line: 2:11'],
    ['$TTL 60\nwww IN A 192.0.2.1 )\n', 'db.test: dns: garbage after rdata: "extra closing brace" at line: 2:20'],
    ['$TTL 60\nwww IN A ( 192.0.2.1\n', 'db.test: dns: garbage after rdata: "unbalanced brace" at line: 2:20'],
    ['$TTL abc\n', 'db.test: dns: expecting $TTL value, not this...: "abc" at line: 1:8'],
    ['$ORIGIN a..b\n', 'db.test: dns: bad origin name: "a..b" at line: 1:12'],
    ['a..b IN A 192.0.2.1\n', 'db.test: dns: bad owner name: "a..b" at line: 1:5'],
    ['$TTL 60\n@ IN SOA ns hm abc 1 1 1 1\n', 'db.test: dns: bad SOA zone parameter: "abc" at line: 2:19'],
    ['$TTL 60\n@ IN SOA ns hm 202512200817 1 1 1 1\n', 'db.test: dns: bad SOA zone parameter: "202512200817" at line: 2:28'],
    ['$GENERATE 5-1 a A 192.0.2.$\n', 'db.test: dns: bad range in $GENERATE range: "5-1" at line: 1:14'],
    ['$GENERATE 1-2 a$ A 192.0.2.${x}\n', 'db.test: dns: bad offset in $GENERATE: "${x}" at line: 1:28'],
    ['$TTL 60\nw IN TYPE65280 1 2\n', 'db.test: dns: bad RFC3597 Rdata: "1" at line: 2:17'],
    ['$TTL 60\nw IN A \\# 4 0a0000\n', 'db.test: dns: bad RFC3597 Rdata: "4" at line: 2:12'],
    ['$TTL 60\nw IN LOC 52 22 23.000 N\n', 'db.test: dns: RR type not supported by tsdns (write the record in RFC 3597 \\# form): " " at line: 2:9'],
    ['$TTL 60\nw IN TYPE99999 x\n', 'db.test: dns: unknown RR type: "unknown RR type" at line: 2:15'],
  ];
  assertErrors(cases);
});

test('errors of the owner, TTL, class and type part of a line and of the directives, as miekg/dns words them', () => {
  const cases: [string, string][] = [
    ['"', 'db.test: dns: syntax error at beginning: "\\"" at line: 1:1'],
    ['$FOO\t\n', 'db.test: dns: expecting RR type, TTL or class, not this...: "\\n" at line: 1:5'],
    ['* ANY \n', 'db.test: dns: expecting RR type or TTL, not this...: "\\n" at line: 1:6'],
    [' 0 MX', 'db.test: dns: expecting RR type or class, not this...: "MX" at line: 1:5'],
    [' 60\n KX\n', 'db.test: dns: no blank before TTL: "\\n" at line: 1:3'],
    ['IN ANY 1h\n', 'db.test: dns: no blank before RR type: "\\n" at line: 1:9'],
    [' 0 CH RP', 'db.test: dns: unknown RR type: "RP" at line: 1:8'],
    ['* DS\n', 'db.test: dns: missing TTL with no previous value: "DS" at line: 1:4'],
    ['@', 'db.test: dns: not a TTL: "@" at line: 1:1'],
    ['$TTL 60\na A\nb A 192.0.2.1\n', 'db.test: dns: unexpected newline: "\\n" at line: 2:3'],
    ['$TTL\t\n', 'db.test: dns: expecting $TTL value, not this...: "\\n" at line: 1:5'],
    ['$TTL 60 x\n', 'db.test: dns: garbage after rdata: "x" at line: 1:9'],
    ['$ORIGIN\t\n', 'db.test: dns: expecting $ORIGIN value, not this...: "\\n" at line: 1:8'],
    ['$ORIGIN a. b\n', 'db.test: dns: garbage after rdata: "b" at line: 1:12'],
    ['$INCLUDE \n', 'db.test: dns: expecting $INCLUDE value, not this...: "\\n" at line: 1:9'],
    ['$INCLUDE( x\n', 'db.test: dns: garbage after $INCLUDE: "unbalanced brace" at line: 1:11'],
    ['$GENERATE \n', 'db.test: dns: expecting $GENERATE value, not this...: "\\n" at line: 1:10'],
  ];
  assertErrors(cases);
  // a directive or class ends the previous record; the next line starts afresh
  assertParses('$TTL 60\n$ORIGIN sub\na IN A 192.0.2.1\nb CH 30 A 192.0.2.2\nc 40 CH A 192.0.2.3\n\tA 192.0.2.4\n', [
    'a.sub.example.org. 60 IN A 192.0.2.1',
    'b.sub.example.org. 30 CH A 192.0.2.2',
    'c.sub.example.org. 40 CH A 192.0.2.3',
    'c.sub.example.org. 60 IN A 192.0.2.4',
  ]);
});

test('ZoneParseError exposes the position', () => {
  const zp = new ZoneParser(Buffer.from('$TTL 60\n\nwww IN A nope\n'), 'example.org.', 'db.x');
  while (zp.next());
  const e = zp.err();
  assert.ok(e instanceof ZoneParseError);
  assert.equal(e.file, 'db.x');
  assert.equal(e.line, 3);
  assert.equal(e.column, 13);
});

test('zone loading errors: syntax with file:line, no SOA, include failures, NSEC3', () => {
  const bad = fixture('bad-a.db');
  assert.throws(() => parseZone(readFileSync(bad), 'example.org.', bad), {
    message: `failed to parse file "${bad}" for origin example.org. with error ${bad}: dns: bad A A: "192.0.2.300" at line: 5:20`,
  });
  const comment = fixture('bad-comment.db');
  assert.throws(() => parseZone(readFileSync(comment), 'example.org.', comment), /dns: not a TTL: "invalid" at line: 12:10$/);
  const noSoa = fixture('no-soa.db');
  assert.throws(() => parseZone(readFileSync(noSoa), 'example.org.', noSoa), { message: `file "${noSoa}" has no SOA record for origin example.org.` });
  const inc = fixture('bad-include.db');
  const missing = fixture('does-not-exist.db');
  assert.throws(() => parseZone(readFileSync(inc), 'example.org.', inc), {
    message: `failed to parse file "${inc}" for origin example.org. with error ${inc}: dns: failed to open \`does-not-exist.db' as \`${missing}': open ${missing}: no such file or directory: "does-not-exist.db" at line: 4:26`,
  });
  const nsec3 = fixture('nsec3.db');
  assert.throws(() => parseZone(readFileSync(nsec3), 'example.org.', nsec3), { message: 'NSEC3 zone is not supported, dropping RR: example.org. for zone: example.org.' });
});

test('a serial that did not change is not read again', () => {
  const text = Buffer.from('@ 60 IN SOA ns hm 7 1 1 1 1\n@ 60 IN NS ns\n');
  assert.throws(() => parseZone(text, 'example.org.', 'db.x', 7), (e: unknown) => {
    assert.ok(e instanceof SerialUnchangedError);
    assert.equal((e as Error).message, 'no change in SOA serial for origin example.org. in file db.x, with 7 SOA serial');
    return true;
  });
  assert.equal(parseZone(text, 'example.org.', 'db.x', 6).soaSerial(), 7);
  // serial 0 is an ordinary serial at load time (see README)
  assert.equal(parseZone(Buffer.from('@ 60 IN SOA ns hm 0 1 1 1 1\n'), 'example.org.', 'db.x').soaSerial(), 0);
});

test('the zone stores names lower-cased (SRV owners keep their case) and NS/CNAME/MX targets lower-cased', () => {
  const z = parseZone(
    Buffer.from('$TTL 60\n@ SOA NS.Example.ORG. HM.example.org. 1 1 1 1 1\n@ NS NS1.EXAMPLE.ORG.\nWWW CNAME Target.Example.Org.\n_X._TCP SRV 0 0 1 Srv.Example.Org.\nM MX 1 Mail.Example.Org.\nP PTR Ptr.Example.Org.\n'),
    'example.org.',
    'db',
  );
  assert.deepEqual(z.apexRecords()!.map(rrText), ['example.org. 60 IN SOA ns.example.org. hm.example.org. 1 1 1 1 1', 'example.org. 60 IN NS ns1.example.org.']);
  assert.deepEqual(
    z.tree.elems().flatMap((e) => e.all().map(rrText)),
    [
      // canonical order: "_" sorts before letters
      '_X._TCP.example.org. 60 IN SRV 0 0 1 Srv.Example.Org.',
      'm.example.org. 60 IN MX 1 mail.example.org.',
      'p.example.org. 60 IN PTR Ptr.Example.Org.',
      'www.example.org. 60 IN CNAME target.example.org.',
    ],
  );
});

test('$INCLUDE: relative to the including file, at most 7 levels deep', () => {
  const files = new Map<string, string>([
    ['/z/sub/a.db', 'a A 192.0.2.1\n$INCLUDE b.db\n'],
    ['/z/sub/b.db', 'b A 192.0.2.2\n'],
    ['/z/self.db', '$INCLUDE self.db\n'],
  ]);
  const readFile = (p: string): Buffer => {
    const t = files.get(p);
    if (t === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return Buffer.from(t);
  };
  const zp = new ZoneParser(Buffer.from('$TTL 60\n$INCLUDE sub/a.db\nc A 192.0.2.3\n'), 'example.org.', '/z/main.db', { readFile });
  const got: string[] = [];
  for (let rr = zp.next(); rr; rr = zp.next()) got.push(rrText(rr));
  assert.equal(zp.err(), undefined);
  assert.deepEqual(got, ['a.example.org. 60 IN A 192.0.2.1', 'b.example.org. 60 IN A 192.0.2.2', 'c.example.org. 60 IN A 192.0.2.3']);

  const loop = new ZoneParser(Buffer.from('$INCLUDE self.db\n'), 'example.org.', '/z/main.db', { readFile });
  while (loop.next());
  assert.equal(loop.err()?.message, '/z/self.db: dns: too deeply nested $INCLUDE: "self.db" at line: 1:16');

  const off = new ZoneParser(Buffer.from('$INCLUDE self.db\n'), 'example.org.', '/z/main.db', { readFile, includeAllowed: false });
  while (off.next());
  assert.equal(off.err()?.message, '/z/main.db: dns: $INCLUDE directive not allowed: "self.db" at line: 1:16');
});

test('$GENERATE: $$ and \\$ are literal dollars; a $GENERATE inside a template is refused', () => {
  assertParses('$GENERATE 1-2 t$ TXT "a$$b\\$c-$"\n', ['t1.example.org. 3600 IN TXT "a$b$c-1"', 't2.example.org. 3600 IN TXT "a$b$c-2"']);
  // an unescaped $ in the template is the counter: "$GENERATE" would become "1GENERATE"
  assert.equal(parseAll('$GENERATE 1-2 \\$GENERATE 1-2 x A 192.0.2.1\n').err, 'db.test: dns: nested $GENERATE directive not allowed: "1-2" at line: 1:14');
});
