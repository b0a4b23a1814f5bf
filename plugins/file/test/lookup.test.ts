/**
 * Table tests modeled on CoreDNS's plugin/file/*_test.go (lookup, wildcard,
 * delegation, ENT, DNAME, alias-to-delegation, apex, escapes, glue, loops),
 * asserting the full sections in order, the rcode and the AA bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RCODE } from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import { substituteDNAME, replaceWithAsteriskLabel, parseZone, Zone } from '../src/index.js';
import { ask, fixture, rrs, zoneHandler, type Case } from './helpers.js';

const miek = zoneHandler(readFileSync(fixture('miek.nl.db'), 'utf8'), 'miek.nl.');

const SOA_MIEK = 'miek.nl. 1800 SOA linode.atoom.net. miek.miek.nl. 1282630057 14400 3600 604800 14400';
const MIEK_AUTH = rrs(
  'miek.nl. 1800 NS linode.atoom.net.',
  'miek.nl. 1800 NS ns-ext.nlnetlabs.nl.',
  'miek.nl. 1800 NS omval.tednet.nl.',
  'miek.nl. 1800 NS ext.ns.whyscream.net.',
);

async function check(h: ReturnType<typeof zoneHandler>['file'], cases: Case[]): Promise<void> {
  for (const c of cases) {
    const r = await ask(h, c.qname, c.qtype);
    const what = `${c.qname} ${c.qtype}`;
    assert.equal(r.rcode, c.rcode ?? RCODE.NOERROR, `${what}: rcode`);
    assert.equal(r.aa, c.aa ?? true, `${what}: AA`);
    assert.deepEqual(r.answer, c.answer ?? [], `${what}: answer`);
    assert.deepEqual(r.ns, c.ns ?? [], `${what}: authority`);
    assert.deepEqual(r.extra, c.extra ?? [], `${what}: additional`);
  }
}

test('lookup: positive answers carry the NS set, negatives the SOA (lookup_test.go)', async () => {
  await check(miek.file, [
    { qname: 'www.miek.nl.', qtype: 'A', answer: rrs('www.miek.nl. 1800 CNAME a.miek.nl.', 'a.miek.nl. 1800 A 139.162.196.78'), ns: MIEK_AUTH },
    {
      qname: 'www.miek.nl.',
      qtype: 'AAAA',
      answer: rrs('www.miek.nl. 1800 CNAME a.miek.nl.', 'a.miek.nl. 1800 AAAA 2a01:7e00::f03c:91ff:fef1:6735'),
      ns: MIEK_AUTH,
    },
    { qname: 'miek.nl.', qtype: 'SOA', answer: rrs(SOA_MIEK), ns: MIEK_AUTH },
    { qname: 'miek.nl.', qtype: 'AAAA', answer: rrs('miek.nl. 1800 AAAA 2a01:7e00::f03c:91ff:fef1:6735'), ns: MIEK_AUTH },
    { qname: 'mIeK.NL.', qtype: 'AAAA', answer: rrs('miek.nl. 1800 AAAA 2a01:7e00::f03c:91ff:fef1:6735'), ns: MIEK_AUTH },
    {
      qname: 'miek.nl.',
      qtype: 'MX',
      answer: rrs(
        'miek.nl. 1800 MX 1 aspmx.l.google.com.',
        'miek.nl. 1800 MX 5 alt1.aspmx.l.google.com.',
        'miek.nl. 1800 MX 5 alt2.aspmx.l.google.com.',
        'miek.nl. 1800 MX 10 aspmx2.googlemail.com.',
        'miek.nl. 1800 MX 10 aspmx3.googlemail.com.',
      ),
      ns: MIEK_AUTH,
    },
    { qname: 'a.miek.nl.', qtype: 'SRV', ns: rrs(SOA_MIEK) },
    { qname: 'b.miek.nl.', qtype: 'A', rcode: RCODE.NXDOMAIN, ns: rrs(SOA_MIEK) },
    {
      qname: 'srv.miek.nl.',
      qtype: 'SRV',
      answer: rrs('srv.miek.nl. 1800 SRV 10 10 8080 a.miek.nl.'),
      ns: MIEK_AUTH,
      extra: rrs('a.miek.nl. 1800 A 139.162.196.78', 'a.miek.nl. 1800 AAAA 2a01:7e00::f03c:91ff:fef1:6735'),
    },
    {
      qname: 'mx.miek.nl.',
      qtype: 'MX',
      answer: rrs('mx.miek.nl. 1800 MX 10 a.miek.nl.'),
      ns: MIEK_AUTH,
      extra: rrs('a.miek.nl. 1800 A 139.162.196.78', 'a.miek.nl. 1800 AAAA 2a01:7e00::f03c:91ff:fef1:6735'),
    },
    { qname: 'asterisk.x.miek.nl.', qtype: 'CNAME', answer: rrs('asterisk.x.miek.nl. 1800 CNAME www.miek.nl.'), ns: MIEK_AUTH },
    { qname: 'a.b.x.miek.nl.', qtype: 'CNAME', rcode: RCODE.NXDOMAIN, ns: rrs(SOA_MIEK) },
    { qname: 'asterisk.y.miek.nl.', qtype: 'A', answer: rrs('asterisk.y.miek.nl. 1800 A 139.162.196.78'), ns: MIEK_AUTH },
    {
      qname: 'foo.dname.miek.nl.',
      qtype: 'CNAME',
      answer: rrs('dname.miek.nl. 1800 DNAME x.miek.nl.', 'foo.dname.miek.nl. 1800 CNAME foo.x.miek.nl.'),
      ns: MIEK_AUTH,
    },
    // the CNAME target is outside the zone and there is no server to ask: SERVFAIL with the CNAME
    { qname: 'ext-cname.miek.nl.', qtype: 'A', rcode: RCODE.SERVFAIL, answer: rrs('ext-cname.miek.nl. 1800 CNAME example.com.'), ns: MIEK_AUTH },
    { qname: 'txt.miek.nl.', qtype: 'TXT', answer: rrs('txt.miek.nl. 1800 TXT "v=spf1 a mx ~all"'), ns: MIEK_AUTH },
    { qname: 'caa.miek.nl.', qtype: 'CAA', answer: rrs('caa.miek.nl. 1800 CAA 0 issue "letsencrypt.org"'), ns: MIEK_AUTH },
    // NS at the apex: the NS set in the answer, nothing in authority
    { qname: 'miek.nl.', qtype: 'NS', answer: MIEK_AUTH },
    // wildcard NODATA
    { qname: 'wildcard.nodata.miek.nl.', qtype: 'MX', ns: rrs(SOA_MIEK) },
    // ANY is not special: no record of type ANY, so NODATA
    { qname: 'a.miek.nl.', qtype: 'ANY', ns: rrs(SOA_MIEK) },
    // a CNAME answers a CNAME query directly
    { qname: 'www.miek.nl.', qtype: 'CNAME', answer: rrs('www.miek.nl. 1800 CNAME a.miek.nl.'), ns: MIEK_AUTH },
    // the wildcard CNAME is chased in the zone: *.x -> www -> a
    {
      qname: 'q.x.miek.nl.',
      qtype: 'A',
      answer: rrs('q.x.miek.nl. 1800 CNAME www.miek.nl.', 'www.miek.nl. 1800 CNAME a.miek.nl.', 'a.miek.nl. 1800 A 139.162.196.78'),
      ns: MIEK_AUTH,
    },
  ]);
});

test('the question is echoed as sent; owners of synthesized records are the lower-cased qname', async () => {
  const r = await ask(miek.file, 'AsTeRiSk.Y.miek.NL.', 'A');
  assert.equal(r.msg.questions[0]!.name, 'AsTeRiSk.Y.miek.NL.');
  assert.deepEqual(r.answer, rrs('asterisk.y.miek.nl. 1800 A 139.162.196.78'));
  const w = await ask(miek.file, 'WWW.Miek.NL.', 'A');
  assert.equal(w.msg.questions[0]!.name, 'WWW.Miek.NL.');
  assert.deepEqual(w.answer, rrs('www.miek.nl. 1800 CNAME a.miek.nl.', 'a.miek.nl. 1800 A 139.162.196.78'));
});

const ADDITIONAL = `
$TTL 30M
$ORIGIN example.org.
@	IN SOA	ns.example.org. admin.example.org. (
			2024010100 ; serial
			14400      ; refresh (4 hours)
			3600       ; retry (1 hour)
			604800     ; expire (1 week)
			14400      ; minimum (4 hours)
			)
	IN NS	ns.example.org.
ns		IN A	192.0.2.1
host		IN A	192.0.2.10
		IN AAAA	2001:db8::10
other		IN A	192.0.2.20
		IN AAAA	2001:db8::20
mx		IN MX	10 host.example.org.
		IN MX	20 host.example.org.
srv		IN SRV	10 50 8080 host.example.org.
		IN SRV	20 50 8080 host.example.org.
mixed		IN SRV	10 50 8080 host.example.org.
		IN SRV	20 50 8080 HOST.EXAMPLE.ORG.
two		IN MX	10 host.example.org.
		IN MX	20 other.example.org.
cname-srv	IN CNAME	srv.example.org.
*.wild		IN CNAME	srv.example.org.
dname		IN DNAME	dsub.example.org.
srv.dsub	IN SRV	10 50 8080 host.example.org.
https		IN HTTPS	1 host.example.org. alpn=h2
out		IN MX	10 mail.example.net.
`;

test('additional section: in-zone MX/SRV/HTTPS targets once each, also after CNAME/wildcard/DNAME (lookup_test.go)', async () => {
  const { file } = zoneHandler(ADDITIONAL, 'example.org.');
  const auth = rrs('example.org. 1800 NS ns.example.org.');
  const host = rrs('host.example.org. 1800 A 192.0.2.10', 'host.example.org. 1800 AAAA 2001:db8::10');
  const srvs = rrs('srv.example.org. 1800 SRV 10 50 8080 host.example.org.', 'srv.example.org. 1800 SRV 20 50 8080 host.example.org.');
  await check(file, [
    { qname: 'mx.example.org.', qtype: 'MX', answer: rrs('mx.example.org. 1800 MX 10 host.example.org.', 'mx.example.org. 1800 MX 20 host.example.org.'), ns: auth, extra: host },
    { qname: 'srv.example.org.', qtype: 'SRV', answer: srvs, ns: auth, extra: host },
    {
      qname: 'two.example.org.',
      qtype: 'MX',
      answer: rrs('two.example.org. 1800 MX 10 host.example.org.', 'two.example.org. 1800 MX 20 other.example.org.'),
      ns: auth,
      extra: [...host, ...rrs('other.example.org. 1800 A 192.0.2.20', 'other.example.org. 1800 AAAA 2001:db8::20')],
    },
    { qname: 'cname-srv.example.org.', qtype: 'SRV', answer: [...rrs('cname-srv.example.org. 1800 CNAME srv.example.org.'), ...srvs], ns: auth, extra: host },
    { qname: 'foo.wild.example.org.', qtype: 'SRV', answer: [...rrs('foo.wild.example.org. 1800 CNAME srv.example.org.'), ...srvs], ns: auth, extra: host },
    {
      qname: 'srv.dname.example.org.',
      qtype: 'SRV',
      answer: rrs(
        'dname.example.org. 1800 DNAME dsub.example.org.',
        'srv.dname.example.org. 1800 CNAME srv.dsub.example.org.',
        'srv.dsub.example.org. 1800 SRV 10 50 8080 host.example.org.',
      ),
      ns: auth,
      extra: host,
    },
    // SRV targets keep their case; both spellings resolve to one target, added once
    {
      qname: 'mixed.example.org.',
      qtype: 'SRV',
      answer: rrs('mixed.example.org. 1800 SRV 10 50 8080 host.example.org.', 'mixed.example.org. 1800 SRV 20 50 8080 HOST.EXAMPLE.ORG.'),
      ns: auth,
      extra: host,
    },
    { qname: 'https.example.org.', qtype: 'HTTPS', answer: rrs('https.example.org. 1800 HTTPS \\# 27 000104686f7374076578616d706c65036f72670000010003026832'), ns: auth, extra: host },
    // a target outside the zone gets nothing
    { qname: 'out.example.org.', qtype: 'MX', answer: rrs('out.example.org. 1800 MX 10 mail.example.net.'), ns: auth },
  ]);
});

const EXAMPLE_ORG = `; example.org test file
$TTL 3600
example.org.		IN	SOA	sns.dns.icann.org. noc.dns.icann.org. 2015082541 7200 3600 1209600 3600
example.org.		IN	NS	b.iana-servers.net.
example.org.		IN	NS	a.iana-servers.net.
example.org.		IN	A	127.0.0.1
example.org.		IN	A	127.0.0.2
*.w.example.org.        IN      TXT     "Wildcard"
a.b.c.w.example.org.    IN      TXT     "Not a wildcard"
*.c.example.org.        IN      TXT     "c Wildcard"
*.d.example.org.        IN      CNAME   alias.example.org.
alias.example.org.      IN      TXT     "Wildcard CNAME expansion"
`;
const EXAMPLE_AUTH = rrs('example.org. 3600 NS b.iana-servers.net.', 'example.org. 3600 NS a.iana-servers.net.');
const SOA_EXAMPLE = 'example.org. 3600 SOA sns.dns.icann.org. noc.dns.icann.org. 2015082541 7200 3600 1209600 3600';

test('wildcards: synthesis with owner = qname, CNAME expansion, deeper names (wildcard_test.go)', async () => {
  const { file } = zoneHandler(EXAMPLE_ORG, 'example.org.');
  await check(file, [
    { qname: 'wild.w.example.org.', qtype: 'TXT', answer: rrs('wild.w.example.org. 3600 TXT "Wildcard"'), ns: EXAMPLE_AUTH },
    { qname: 'wild.c.example.org.', qtype: 'TXT', answer: rrs('wild.c.example.org. 3600 TXT "c Wildcard"'), ns: EXAMPLE_AUTH },
    {
      qname: 'wild.d.example.org.',
      qtype: 'TXT',
      answer: rrs('wild.d.example.org. 3600 CNAME alias.example.org.', 'alias.example.org. 3600 TXT "Wildcard CNAME expansion"'),
      ns: EXAMPLE_AUTH,
    },
    { qname: 'alias.example.org.', qtype: 'TXT', answer: rrs('alias.example.org. 3600 TXT "Wildcard CNAME expansion"'), ns: EXAMPLE_AUTH },
    // the wildcard matches more than one label
    { qname: 'x.y.w.example.org.', qtype: 'TXT', answer: rrs('x.y.w.example.org. 3600 TXT "Wildcard"'), ns: EXAMPLE_AUTH },
    // b.c.w exists as an empty non-terminal: NODATA, the wildcard does not apply below it
    { qname: 'b.c.w.example.org.', qtype: 'TXT', ns: rrs(SOA_EXAMPLE) },
    { qname: 'x.b.c.w.example.org.', qtype: 'TXT', rcode: RCODE.NXDOMAIN, ns: rrs(SOA_EXAMPLE) },
    // wildcard NODATA
    { qname: 'wild.w.example.org.', qtype: 'A', ns: rrs(SOA_EXAMPLE) },
    { qname: 'example.org.', qtype: 'A', answer: rrs('example.org. 3600 A 127.0.0.1', 'example.org. 3600 A 127.0.0.2'), ns: EXAMPLE_AUTH },
  ]);
});

test('wildcards at the apex and at two levels; a closer empty non-terminal wins (wildcard_test.go)', async () => {
  const apex = zoneHandler(
    `$TTL 3600
example.org.		IN	SOA	sns.dns.icann.org. noc.dns.icann.org. 2015082541 7200 3600 1209600 3600
example.org.		IN	NS	b.iana-servers.net.
*.example.org.          IN      A       127.0.0.53
*.intern.example.org.   IN      A       127.0.1.52
foo.example.org.        IN      A       127.0.0.54
real.deeper.example.org. IN     A       127.0.0.55
`,
    'example.org.',
  );
  const auth = rrs('example.org. 3600 NS b.iana-servers.net.');
  await check(apex.file, [
    { qname: 'foo.example.org.', qtype: 'A', answer: rrs('foo.example.org. 3600 A 127.0.0.54'), ns: auth },
    { qname: 'bar.example.org.', qtype: 'A', answer: rrs('bar.example.org. 3600 A 127.0.0.53'), ns: auth },
    { qname: 'bar.intern.example.org.', qtype: 'A', answer: rrs('bar.intern.example.org. 3600 A 127.0.1.52'), ns: auth },
    { qname: 'a.b.example.org.', qtype: 'A', answer: rrs('a.b.example.org. 3600 A 127.0.0.53'), ns: auth },
    {
      qname: 'nonexistent.deeper.example.org.',
      qtype: 'A',
      rcode: RCODE.NXDOMAIN,
      ns: rrs('example.org. 3600 SOA sns.dns.icann.org. noc.dns.icann.org. 2015082541 7200 3600 1209600 3600'),
    },
  ]);

  const ent = zoneHandler(
    `$TTL 3600
example.org.             IN     SOA     ns.example.org. hostmaster.example.org. 1 7200 3600 1209600 3600
example.org.             IN     NS      ns.example.org.
f.*.e.example.org.       IN     A       192.0.2.1
t.e.example.org.         IN     A       192.0.2.2
real.deep.e.example.org. IN     A       192.0.2.3
*.ordinary.example.org.  IN     A       192.0.2.4
`,
    'example.org.',
  );
  const soa = rrs('example.org. 3600 SOA ns.example.org. hostmaster.example.org. 1 7200 3600 1209600 3600');
  const nsAuth = rrs('example.org. 3600 NS ns.example.org.');
  await check(ent.file, [
    // *.e.example.org. only exists as an empty non-terminal: NODATA
    { qname: 'something.e.example.org.', qtype: 'A', ns: soa },
    { qname: 'something.e.example.org.', qtype: 'AAAA', ns: soa },
    { qname: 'something.somewhere.e.example.org.', qtype: 'A', ns: soa },
    { qname: 'f.*.e.example.org.', qtype: 'A', answer: rrs('f.*.e.example.org. 3600 A 192.0.2.1'), ns: nsAuth },
    { qname: 'missing.*.e.example.org.', qtype: 'A', rcode: RCODE.NXDOMAIN, ns: soa },
    { qname: 'missing.deep.e.example.org.', qtype: 'A', rcode: RCODE.NXDOMAIN, ns: soa },
    { qname: 'something.ordinary.example.org.', qtype: 'A', answer: rrs('something.ordinary.example.org. 3600 A 192.0.2.4'), ns: nsAuth },
  ]);
});

test('wildcard MX gets additional addresses', async () => {
  const { file } = zoneHandler(
    `$TTL 30M
$ORIGIN example.org.
@	IN SOA	ns.example.org. admin.example.org. 2024010100 14400 3600 604800 14400
	IN NS	ns.example.org.
ns	IN A	192.0.2.1
mail	IN A	192.0.2.10
	IN AAAA	2001:db8::10
*.wild	IN MX	10 mail.example.org.
`,
    'example.org.',
  );
  await check(file, [
    {
      qname: 'foo.wild.example.org.',
      qtype: 'MX',
      answer: rrs('foo.wild.example.org. 1800 MX 10 mail.example.org.'),
      ns: rrs('example.org. 1800 NS ns.example.org.'),
      extra: rrs('mail.example.org. 1800 A 192.0.2.10', 'mail.example.org. 1800 AAAA 2001:db8::10'),
    },
  ]);
});

const DELEGATION = `
$TTL    30M
$ORIGIN miek.nl.
@       IN      SOA     linode.atoom.net. miek.miek.nl. (
                             1282630057 ; Serial
                             4H         ; Refresh
                             1H         ; Retry
                             7D         ; Expire
                             4H )       ; Negative Cache TTL
                IN      NS      linode.atoom.net.
                IN      NS      ns-ext.nlnetlabs.nl.
                IN      NS      omval.tednet.nl.
                IN      NS      ext.ns.whyscream.net.

                IN      MX      1  aspmx.l.google.com.

delegated	IN	NS      a.delegated
		IN	NS      ns-ext.nlnetlabs.nl.

a.delegated     IN      TXT     "obscured"
                IN      A       139.162.196.78
                IN      AAAA    2a01:7e00::f03c:91ff:fef1:6735

a               IN      A       139.162.196.78
                IN      AAAA    2a01:7e00::f03c:91ff:fef1:6735
www             IN      CNAME   a
archive         IN      CNAME   a`;

test('delegations: referral with NS in authority and glue, AA=0 (delegation_test.go)', async () => {
  const { file } = zoneHandler(DELEGATION, 'miek.nl.');
  const referral = rrs('delegated.miek.nl. 1800 NS a.delegated.miek.nl.', 'delegated.miek.nl. 1800 NS ns-ext.nlnetlabs.nl.');
  const glue = rrs('a.delegated.miek.nl. 1800 A 139.162.196.78', 'a.delegated.miek.nl. 1800 AAAA 2a01:7e00::f03c:91ff:fef1:6735');
  await check(file, [
    { qname: 'a.delegated.miek.nl.', qtype: 'TXT', aa: false, ns: referral, extra: glue },
    { qname: 'delegated.miek.nl.', qtype: 'NS', aa: false, ns: referral, extra: glue },
    { qname: 'foo.delegated.miek.nl.', qtype: 'A', aa: false, ns: referral, extra: glue },
    { qname: 'foo.delegated.miek.nl.', qtype: 'TXT', aa: false, ns: referral, extra: glue },
    { qname: 'foo.delegated.miek.nl.', qtype: 'SOA', aa: false, ns: referral, extra: glue },
    // DS at the cut is answered by the parent: here NODATA
    { qname: 'delegated.miek.nl.', qtype: 'DS', ns: rrs(SOA_MIEK) },
    { qname: 'miek.nl.', qtype: 'SOA', answer: rrs(SOA_MIEK), ns: MIEK_AUTH },
    { qname: 'miek.nl.', qtype: 'AAAA', ns: rrs(SOA_MIEK) },
  ]);
});

test('aliases into delegations: the CNAME stays authoritative, the referral follows (alias_delegation_test.go)', async () => {
  const { file } = zoneHandler(
    `
$TTL 300
$ORIGIN example.org.
@	IN SOA	ns.example.org. admin.example.org. 1 3600 600 86400 300
	IN NS	ns.example.org.
ns	IN A	192.0.2.1
alias	IN CNAME	host.child.example.org.
chain	IN CNAME	alias.example.org.
*.wild	IN CNAME	host.child.example.org.
child	IN NS	ns.child.example.org.
ns.child	IN A	192.0.2.2
		IN AAAA	2001:db8::2
mapped	IN DNAME	example.org.
host	IN NS	ns.host.example.org.
ns.host	IN A	192.0.2.3
	IN AAAA	2001:db8::3
`,
    'example.org.',
  );
  const child = rrs('child.example.org. 300 NS ns.child.example.org.');
  const childGlue = rrs('ns.child.example.org. 300 A 192.0.2.2', 'ns.child.example.org. 300 AAAA 2001:db8::2');
  const host = rrs('host.example.org. 300 NS ns.host.example.org.');
  const hostGlue = rrs('ns.host.example.org. 300 A 192.0.2.3', 'ns.host.example.org. 300 AAAA 2001:db8::3');
  await check(file, [
    { qname: 'alias.example.org.', qtype: 'A', answer: rrs('alias.example.org. 300 CNAME host.child.example.org.'), ns: child, extra: childGlue },
    {
      qname: 'chain.example.org.',
      qtype: 'A',
      answer: rrs('chain.example.org. 300 CNAME alias.example.org.', 'alias.example.org. 300 CNAME host.child.example.org.'),
      ns: child,
      extra: childGlue,
    },
    { qname: 'name.wild.example.org.', qtype: 'A', answer: rrs('name.wild.example.org. 300 CNAME host.child.example.org.'), ns: child, extra: childGlue },
    {
      qname: 'host.mapped.example.org.',
      qtype: 'A',
      answer: rrs('mapped.example.org. 300 DNAME example.org.', 'host.mapped.example.org. 300 CNAME host.example.org.'),
      ns: host,
      extra: hostGlue,
    },
    {
      qname: 'host.mapped.example.org.',
      qtype: 'NS',
      answer: rrs('mapped.example.org. 300 DNAME example.org.', 'host.mapped.example.org. 300 CNAME host.example.org.'),
      ns: host,
      extra: hostGlue,
    },
    { qname: 'host.child.example.org.', qtype: 'A', aa: false, ns: child, extra: childGlue },
  ]);
});

test('empty non-terminals are NODATA with the SOA (ent_test.go)', async () => {
  const { file } = zoneHandler(
    `miek.nl.		1800	IN SOA	linode.atoom.net. miek.miek.nl. 1282630057 14400 3600 604800 14400
			1800	NS	linode.atoom.net.
a.miek.nl.		1800	IN A	127.0.0.1
a.b.c.miek.nl.		1800	IN A	127.0.0.1
`,
    'miek.nl.',
  );
  await check(file, [
    { qname: 'b.c.miek.nl.', qtype: 'A', ns: rrs(SOA_MIEK) },
    { qname: 'c.miek.nl.', qtype: 'A', ns: rrs(SOA_MIEK) },
    { qname: 'x.c.miek.nl.', qtype: 'A', rcode: RCODE.NXDOMAIN, ns: rrs(SOA_MIEK) },
    { qname: 'a.b.c.miek.nl.', qtype: 'A', answer: rrs('a.b.c.miek.nl. 1800 A 127.0.0.1'), ns: rrs('miek.nl. 1800 NS linode.atoom.net.') },
  ]);
});

test('DNAME: substitution, the DNAME in the answer, chasing the synthesized CNAME (dname_test.go)', async () => {
  const { file } = zoneHandler(
    `
$TTL    30M
$ORIGIN miek.nl.
@       IN      SOA     linode.atoom.net. miek.miek.nl. 1282630057 4H 1H 7D 4H
                IN      NS      linode.atoom.net.
test            IN      MX      1  aspmx.l.google.com.
a.test          IN      A       139.162.196.78
                IN      AAAA    2a01:7e00::f03c:91ff:fef1:6735
www.test        IN      CNAME   a.test
dname           IN      DNAME   test
dname           IN      A       127.0.0.1
a.dname         IN      A       127.0.0.1
`,
    'miek.nl.',
  );
  const auth = rrs('miek.nl. 1800 NS linode.atoom.net.');
  await check(file, [
    { qname: 'dname.miek.nl.', qtype: 'DNAME', answer: rrs('dname.miek.nl. 1800 DNAME test.miek.nl.'), ns: auth },
    { qname: 'dname.miek.nl.', qtype: 'A', answer: rrs('dname.miek.nl. 1800 A 127.0.0.1'), ns: auth },
    { qname: 'dname.miek.nl.', qtype: 'MX', ns: rrs(SOA_MIEK) },
    {
      qname: 'a.dname.miek.nl.',
      qtype: 'A',
      answer: rrs('dname.miek.nl. 1800 DNAME test.miek.nl.', 'a.dname.miek.nl. 1800 CNAME a.test.miek.nl.', 'a.test.miek.nl. 1800 A 139.162.196.78'),
      ns: auth,
    },
    {
      qname: 'www.dname.miek.nl.',
      qtype: 'A',
      answer: rrs(
        'dname.miek.nl. 1800 DNAME test.miek.nl.',
        'www.dname.miek.nl. 1800 CNAME www.test.miek.nl.',
        'www.test.miek.nl. 1800 CNAME a.test.miek.nl.',
        'a.test.miek.nl. 1800 A 139.162.196.78',
      ),
      ns: auth,
    },
  ]);
});

test('DNAME substitution table (RFC 6672 2.2)', () => {
  const cases: [string, string, string, string][] = [
    ['com.', 'example.com.', 'example.net.', ''],
    ['example.com.', 'example.com.', 'example.net.', ''],
    ['a.example.com.', 'example.com.', 'example.net.', 'a.example.net.'],
    ['a.b.example.com.', 'example.com.', 'example.net.', 'a.b.example.net.'],
    ['ab.example.com.', 'b.example.com.', 'example.net.', ''],
    ['foo.example.com.', 'example.com.', 'example.net.', 'foo.example.net.'],
    ['a.x.example.com.', 'x.example.com.', 'example.net.', 'a.example.net.'],
    ['a.example.com.', 'example.com.', 'y.example.net.', 'a.y.example.net.'],
    ['cyc.example.com.', 'example.com.', 'example.com.', 'cyc.example.com.'],
    ['cyc.example.com.', 'example.com.', 'c.example.com.', 'cyc.c.example.com.'],
    ['shortloop.x.x.', 'x.', '.', 'shortloop.x.'],
    ['shortloop.x.', 'x.', '.', 'shortloop.'],
  ];
  for (const [qname, owner, target, want] of cases) assert.equal(substituteDNAME(qname, owner, target), want, qname);
  assert.equal(replaceWithAsteriskLabel('.'), '');
  assert.equal(replaceWithAsteriskLabel('miek.nl.'), '*.nl.');
  assert.equal(replaceWithAsteriskLabel('www.miek.nl.'), '*.miek.nl.');
});

test('loops: a DNAME onto itself is SERVFAIL without an answer (file_loop_test.go)', async () => {
  const { file } = zoneHandler(
    `example.com. 500 IN SOA ns1.outside.com. root.example.com. 3 604800 86400 2419200 604800
example.com. 500 IN NS ns1.outside.com.
a.example.com. 500 IN CNAME b.example.com.
alias.example.com. 500 IN DNAME alias.example.com.
redirect.example.com. 500 IN DNAME target.example.com.
www.target.example.com. 500 IN A 192.0.2.1
`,
    'example.com.',
  );
  await check(file, [
    { qname: 'www.alias.example.com.', qtype: 'A', rcode: RCODE.SERVFAIL, aa: false },
    {
      qname: 'www.redirect.example.com.',
      qtype: 'A',
      answer: rrs(
        'redirect.example.com. 500 DNAME target.example.com.',
        'www.redirect.example.com. 500 CNAME www.target.example.com.',
        'www.target.example.com. 500 A 192.0.2.1',
      ),
      ns: rrs('example.com. 500 NS ns1.outside.com.'),
    },
  ]);
});

test('a zone with only an apex answers NXDOMAIN for the apex, as CoreDNS does (apex_test.go)', async () => {
  const { file } = zoneHandler(
    `$ORIGIN example.com.
@   IN      SOA     ns1.example.com. admin.example.com.  (
                               2005011437 ; Serial
                               1200       ; Refresh
                               144        ; Retry
                               1814400    ; Expire
                               2h )       ; Minimum
@           IN  NS      ns1.example.com.
`,
    'example.com.',
  );
  const r = await ask(file, 'example.com.', 'A');
  assert.equal(r.rcode, RCODE.NXDOMAIN);
  assert.deepEqual(r.ns, ['example.com. 0 IN SOA ns1.example.com. admin.example.com. 2005011437 1200 144 1814400 7200']);
});

test('escaped owner names match the wire form of the query (escape_test.go)', async () => {
  const { file } = zoneHandler(
    `campus.edu.              500 IN SOA ns1.outside.edu. root.campus.edu. 8 6048 4000 2419200 6048
campus.edu.              500 IN NS  ns1.outside.edu.
has\\046dot.campus.edu.   500 IN A   192.0.2.2
`,
    'campus.edu.',
  );
  await check(file, [{ qname: 'has\\.dot.campus.edu.', qtype: 'A', answer: rrs('has\\.dot.campus.edu. 500 A 192.0.2.2'), ns: rrs('campus.edu. 500 NS ns1.outside.edu.') }]);
});

test('apex NS queries get glue for in-zone name servers (glue_test.go)', async () => {
  const { file } = zoneHandler(
    `atoom.net.		1800	IN SOA	linode.atoom.net. miek.miek.nl. 1481602381 14400 3600 604800 14400
			1800	NS	omval.tednet.nl.
			1800	NS	linode.atoom.net.
			1800	NS	ns-ext.nlnetlabs.nl.
linode.atoom.net.	1800	IN A	176.58.119.54
linode.atoom.net.	1800	IN AAAA	2a01:7e00::f03c:91ff:fe79:234c
`,
    'atoom.net.',
  );
  await check(file, [
    {
      qname: 'atoom.net.',
      qtype: 'NS',
      answer: rrs('atoom.net. 1800 NS omval.tednet.nl.', 'atoom.net. 1800 NS linode.atoom.net.', 'atoom.net. 1800 NS ns-ext.nlnetlabs.nl.'),
      extra: rrs('linode.atoom.net. 1800 A 176.58.119.54', 'linode.atoom.net. 1800 AAAA 2a01:7e00::f03c:91ff:fe79:234c'),
    },
  ]);
});

test('fallthrough: only NXDOMAIN and empty NOERROR go to the next plugin, within the fallthrough zones (lookup_test.go)', async () => {
  const text = readFileSync(fixture('miek.nl.db'), 'utf8');
  // no next plugin: going to the next plugin ends in SERVFAIL
  const all = zoneHandler(text, 'miek.nl.', ['.']);
  assert.equal((await ask(all.file, 'doesnotexist.miek.nl.', 'A')).rcode, RCODE.SERVFAIL);
  assert.equal((await ask(all.file, 'x.miek.nl.', 'A')).rcode, RCODE.SERVFAIL);
  // NODATA for an existing name does not fall through
  assert.equal((await ask(all.file, 'a.miek.nl.', 'MX')).rcode, RCODE.NOERROR);
  const a = zoneHandler(text, 'miek.nl.', ['a.miek.nl.']);
  assert.equal((await ask(a.file, 'a.miek.nl.', 'A')).rcode, RCODE.NOERROR);
  assert.equal((await ask(a.file, 'doesnotexist.miek.nl.', 'A')).rcode, RCODE.NXDOMAIN);
  assert.equal((await ask(a.file, 'passthrough.a.miek.nl.', 'A')).rcode, RCODE.SERVFAIL);
  const x = zoneHandler(text, 'miek.nl.', ['x.miek.nl.']);
  assert.equal((await ask(x.file, 'x.miek.nl.', 'A')).rcode, RCODE.SERVFAIL);
  // the wildcard answers (CNAME to www, then a): no fallthrough
  assert.equal((await ask(x.file, 'wildcard.x.miek.nl.', 'A')).rcode, RCODE.NOERROR);
});

test('names outside the zones go to the next plugin, or REFUSED without one; AXFR/IXFR are REFUSED; NOTIFY is dropped', async () => {
  const r = await ask(miek.file, 'example.com.', 'A');
  assert.equal(r.rcode, RCODE.REFUSED);
  assert.equal(r.aa, false);
  assert.equal((await ask(miek.file, 'miek.nl.', 'AXFR')).rcode, RCODE.REFUSED);
  assert.equal((await ask(miek.file, 'miek.nl.', 'IXFR')).rcode, RCODE.REFUSED);
  const w = new TestWriter();
  const n = await serveHandler(miek.file, makeQuery('miek.nl.', 'SOA', { opcode: 4 }), { writer: w });
  assert.equal(n.rcode, RCODE.NOERROR);
  assert.equal(w.written.length, 0);
});

test('a zone that could not be loaded (no SOA) answers SERVFAIL', async () => {
  const z = new Zone('example.org.', 'db.missing');
  const { File } = await import('../src/index.js');
  const f = new File(undefined, { z: new Map([['example.org.', z]]), names: ['example.org.'] });
  const r = await ask(f, 'www.example.org.', 'A');
  assert.equal(r.rcode, RCODE.SERVFAIL);
  assert.equal(r.answer.length, 0);
});

test('the longest matching zone serves the query', async () => {
  const parent = parseZone(Buffer.from('$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nwww.sub A 192.0.2.1\n'), 'example.org.', 'p');
  const child = parseZone(Buffer.from('$TTL 60\n@ SOA ns hm 2 1 1 1 1\n@ NS ns\nwww A 192.0.2.2\n'), 'sub.example.org.', 'c');
  const { File } = await import('../src/index.js');
  const f = new File(undefined, {
    z: new Map([
      ['example.org.', parent],
      ['sub.example.org.', child],
    ]),
    names: ['example.org.', 'sub.example.org.'],
  });
  assert.deepEqual((await ask(f, 'www.sub.example.org.', 'A')).answer, rrs('www.sub.example.org. 60 A 192.0.2.2'));
});
