/**
 * The plugin in a running server: Corefile setup, real UDP/TCP queries,
 * several `file` lines, CNAME targets resolved through the server itself,
 * fallthrough, and the error texts of setup.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RCODE,
  lowerName,
  newReply,
  nextOrFailure,
  setRcode,
  type Controller,
  type Handler,
  type PluginDefinition,
} from '@tsdns/core';
import hosts from '@tsdns/plugin-hosts';
import whoami from '@tsdns/plugin-whoami';
import { buildCorefile, captureLog, serveCorefile, setupError, type TestServer } from '@tsdns/testing';
import file, { File } from '../src/index.js';
import { fixture, reply, rrs } from './helpers.js';

/** Answers a few names under example.net. the way CoreDNS's template plugin does in file_upstream_test.go. */
const fake: PluginDefinition = {
  name: 'fake',
  setup(c: Controller): void {
    while (c.next()) c.remainingArgs();
    c.addPlugin(
      (next): Handler => ({
        name: 'fake',
        ServeDNS(ctx, w, r) {
          const q = r.questions[0]!;
          const name = lowerName(q.name);
          const m = newReply(r);
          switch (name) {
            case 'nxdomain.example.net.':
              setRcode(m, RCODE.NXDOMAIN);
              w.writeMsg(m);
              return RCODE.NXDOMAIN;
            case 'srvfail.example.net.':
              setRcode(m, RCODE.SERVFAIL);
              w.writeMsg(m);
              return RCODE.NOERROR;
            case 'nodata.example.net.':
              w.writeMsg(m);
              return RCODE.NOERROR;
            case 'addr.example.net.':
              m.answers.push({ name: q.name, type: 'A', class: 'IN', ttl: 77, data: '198.51.100.7' });
              w.writeMsg(m);
              return RCODE.NOERROR;
            default:
              return nextOrFailure('fake', next, ctx, w, r);
          }
        },
      }),
    );
  },
};

const plugins = [hosts, fake, file, whoami];

const ORG = `$ORIGIN example.org.
@	3600 IN	SOA   sns.dns.icann.org. noc.dns.icann.org. (
        2017042745 ; serial
        7200       ; refresh (2 hours)
        3600       ; retry (1 hour)
        1209600    ; expire (2 weeks)
        3600       ; minimum (1 hour)
)
    3600 IN NS    a.iana-servers.net.
    3600 IN NS    b.iana-servers.net.
www      3600 IN CNAME www.example.net.
chain1   3600 IN CNAME nxdomain
nxdomain 3600 IN CNAME nxdomain.example.net.
chain2   3600 IN CNAME srvfail
srvfail  3600 IN CNAME srvfail.example.net.
chain3   3600 IN CNAME nodata
nodata   3600 IN CNAME nodata.example.net.
addr     3600 IN CNAME addr.example.net.
dangling 3600 IN CNAME name2.example.org.
to-net   3600 IN CNAME host.example.com.
*.loop   3600 IN CNAME bar.loop.example.org.
mx       3600 IN MX 10 mail.example.com.
`;

const COM = `$ORIGIN example.com.
$TTL 300
@	IN	SOA	ns.example.com. hm.example.com. 1 7200 3600 1209600 300
	IN	NS	ns.example.com.
ns	IN	A	192.0.2.53
host	IN	A	192.0.2.80
	IN	AAAA	2001:db8::80
mail	IN	A	192.0.2.25
`;

const SOA_ORG = 'example.org. 3600 SOA sns.dns.icann.org. noc.dns.icann.org. 2017042745 7200 3600 1209600 3600';
const ORG_AUTH = rrs('example.org. 3600 NS a.iana-servers.net.', 'example.org. 3600 NS b.iana-servers.net.');

let dir: string;
let orgFile: string;
let comFile: string;
let srv: TestServer;
let twoBlocks: TestServer;
let fall: TestServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'file-server-'));
  orgFile = join(dir, 'db.example.org');
  comFile = join(dir, 'db.example.com');
  writeFileSync(orgFile, ORG);
  writeFileSync(comFile, COM);
  // one block, two file lines, hosts in front with fallthrough (test/file_upstream_test.go)
  srv = await serveCorefile(
    `. {
      file ${orgFile} example.org
      file ${comFile} example.com
      hosts {
        10.0.0.1 www.example.net.
        fallthrough
      }
      fake
    }`,
    { plugins },
  );
  // the CNAME target is in a zone of another block on the same listener
  twoBlocks = await serveCorefile(
    `example.org {
      file ${orgFile}
    }
    example.com {
      file ${comFile}
    }`,
    { plugins, defaultPort: '0' },
  );
  fall = await serveCorefile(
    `. {
      file ${comFile} example.com {
        fallthrough
      }
      whoami
    }`,
    { plugins },
  );
});

after(async () => {
  await srv?.close();
  await twoBlocks?.close();
  await fall?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('UDP and TCP answers from the zone, AA set, NS in authority, question case echoed', async () => {
  for (const tcp of [false, true]) {
    const r = reply((await srv.query('HOST.example.COM', 'AAAA', { tcp })).msg);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(r.aa, true);
    assert.equal(r.msg.questions[0]!.name, 'HOST.example.COM.');
    assert.deepEqual(r.answer, rrs('host.example.com. 300 AAAA 2001:db8::80'));
    assert.deepEqual(r.ns, rrs('example.com. 300 NS ns.example.com.'));
    assert.deepEqual(r.extra, []);
  }
  const ns = reply((await srv.query('example.com', 'NS')).msg);
  assert.deepEqual(ns.answer, rrs('example.com. 300 NS ns.example.com.'));
  assert.deepEqual(ns.extra, rrs('ns.example.com. 300 A 192.0.2.53'));
  const nx = reply((await srv.query('nope.example.com', 'A')).msg);
  assert.equal(nx.rcode, RCODE.NXDOMAIN);
  assert.deepEqual(nx.ns, rrs('example.com. 300 SOA ns.example.com. hm.example.com. 1 7200 3600 1209600 300'));
});

test('EDNS0 is echoed on file answers', async () => {
  const m = (await srv.query('host.example.com', 'A', { edns: true })).msg;
  const opt = m.additionals.find((r) => r.type === 'OPT');
  assert.ok(opt);
});

test('an out-of-zone CNAME target is resolved through the server (hosts answers it)', async () => {
  const r = reply((await srv.query('www.example.org', 'A', { edns: true })).msg);
  assert.equal(r.rcode, RCODE.NOERROR);
  assert.equal(r.aa, true);
  assert.deepEqual(r.answer, rrs('www.example.org. 3600 CNAME www.example.net.', 'www.example.net. 3600 A 10.0.0.1'));
  assert.deepEqual(r.ns, ORG_AUTH);
});

test('the CNAME target can be another zone of the same file plugin (and its MX target stays out of the additional section)', async () => {
  const r = reply((await srv.query('to-net.example.org', 'A')).msg);
  assert.deepEqual(r.answer, rrs('to-net.example.org. 3600 CNAME host.example.com.', 'host.example.com. 300 A 192.0.2.80'));
  assert.deepEqual(r.ns, ORG_AUTH);
  const mx = reply((await srv.query('mx.example.org', 'MX')).msg);
  assert.deepEqual(mx.answer, rrs('mx.example.org. 3600 MX 10 mail.example.com.'));
  assert.deepEqual(mx.extra, []);
});

test('the CNAME target can be in another server block on the listener', async () => {
  const r = reply((await twoBlocks.query('to-net.example.org', 'AAAA')).msg);
  assert.equal(r.rcode, RCODE.NOERROR);
  assert.deepEqual(r.answer, rrs('to-net.example.org. 3600 CNAME host.example.com.', 'host.example.com. 300 AAAA 2001:db8::80'));
  // the target has no server block: REFUSED there, the CNAME alone here
  const w = reply((await twoBlocks.query('www.example.org', 'A')).msg);
  assert.equal(w.rcode, RCODE.NOERROR);
  assert.deepEqual(w.answer, rrs('www.example.org. 3600 CNAME www.example.net.'));
  assert.deepEqual(w.ns, ORG_AUTH);
});

test('rcode of the CNAME target lookup: NXDOMAIN, SERVFAIL, NODATA, also after a chain (test/file_upstream_test.go)', async () => {
  const cases: [string, number, string[], string[]][] = [
    ['nxdomain.example.org', RCODE.NXDOMAIN, rrs('nxdomain.example.org. 3600 CNAME nxdomain.example.net.'), rrs(SOA_ORG)],
    [
      'chain1.example.org',
      RCODE.NXDOMAIN,
      rrs('chain1.example.org. 3600 CNAME nxdomain.example.org.', 'nxdomain.example.org. 3600 CNAME nxdomain.example.net.'),
      rrs(SOA_ORG),
    ],
    ['srvfail.example.org', RCODE.SERVFAIL, rrs('srvfail.example.org. 3600 CNAME srvfail.example.net.'), ORG_AUTH],
    [
      'chain2.example.org',
      RCODE.SERVFAIL,
      rrs('chain2.example.org. 3600 CNAME srvfail.example.org.', 'srvfail.example.org. 3600 CNAME srvfail.example.net.'),
      ORG_AUTH,
    ],
    ['nodata.example.org', RCODE.NOERROR, rrs('nodata.example.org. 3600 CNAME nodata.example.net.'), rrs(SOA_ORG)],
    [
      'chain3.example.org',
      RCODE.NOERROR,
      rrs('chain3.example.org. 3600 CNAME nodata.example.org.', 'nodata.example.org. 3600 CNAME nodata.example.net.'),
      rrs(SOA_ORG),
    ],
    ['addr.example.org', RCODE.NOERROR, rrs('addr.example.org. 3600 CNAME addr.example.net.', 'addr.example.net. 77 A 198.51.100.7'), ORG_AUTH],
  ];
  for (const [name, rcode, answer, ns] of cases) {
    const r = reply((await srv.query(name, 'A', { edns: true })).msg);
    assert.equal(r.rcode, rcode, name);
    assert.equal(r.aa, true, name);
    assert.deepEqual(r.answer, answer, name);
    assert.deepEqual(r.ns, ns, name);
  }
});

test('a CNAME to a missing in-zone name is NXDOMAIN with the SOA (test/file_dangling_cname_test.go)', async () => {
  const r = reply((await srv.query('dangling.example.org', 'A')).msg);
  assert.equal(r.rcode, RCODE.NXDOMAIN);
  assert.deepEqual(r.answer, rrs('dangling.example.org. 3600 CNAME name2.example.org.'));
  assert.deepEqual(r.ns, rrs(SOA_ORG));
});

test('a wildcard CNAME onto itself ends in SERVFAIL (test/file_loop_test.go)', async () => {
  const r = await srv.query('something.loop.example.org', 'A');
  assert.equal(r.msg.flags & 0xf, RCODE.SERVFAIL);
});

test('fallthrough hands NXDOMAIN to the next plugin; answers and NODATA stay', async () => {
  const miss = (await fall.query('nope.example.com', 'A')).msg;
  // whoami answered: the client's address in the additional section
  assert.equal(miss.flags & 0xf, RCODE.NOERROR);
  assert.equal(miss.answers.length, 0);
  assert.equal(miss.additionals[0]!.type, 'A');
  const hit = reply((await fall.query('host.example.com', 'A')).msg);
  assert.deepEqual(hit.answer, rrs('host.example.com. 300 A 192.0.2.80'));
  const nodata = reply((await fall.query('host.example.com', 'MX')).msg);
  assert.deepEqual(nodata.ns, rrs('example.com. 300 SOA ns.example.com. hm.example.com. 1 7200 3600 1209600 300'));
  // names outside the plugin's zones go to the next plugin anyway
  const other = (await fall.query('example.net', 'A')).msg;
  assert.equal(other.additionals[0]!.type, 'A');
});

test('without a next plugin, names outside the zones are REFUSED', async () => {
  const s = await serveCorefile(`. {\n  file ${comFile} example.com\n}`, { plugins });
  try {
    const r = await s.query('example.net', 'A');
    assert.equal(r.msg.flags & 0xf, RCODE.REFUSED);
  } finally {
    await s.close();
  }
});

test('setup: zones from the arguments or the block keys, options, defaults', async () => {
  const inst = await buildCorefile(
    `example.org example.net {
      file ${orgFile}
      file ${comFile} example.com 10.0.0.0/24 {
        reload 5s
        fallthrough example.com
        upstream 8.8.8.8
      }
    }`,
    { plugins },
  );
  const f = inst.configs[0]!.handler('file') as File;
  assert.deepEqual(f.zones.names, ['example.org.', 'example.net.', 'example.com.', '0.0.10.in-addr.arpa.']);
  assert.equal(f.zones.z.get('example.org.')!.reloadInterval, 60_000);
  assert.equal(f.zones.z.get('example.com.')!.reloadInterval, 5000);
  assert.equal(f.zones.z.get('example.com.')!.reloadByMtime, false);
  assert.deepEqual(f.fall, ['example.com.']);
  // the same file read for the block's second key: its records get that origin
  assert.equal(f.zones.z.get('example.net.')!.apex.soa?.name, 'example.org.');

  const inst2 = await buildCorefile(`example.com {\n  file ${comFile} {\n    reload_by_mtime\n    reload 0\n    fallthrough\n  }\n}`, { plugins });
  const f2 = inst2.configs[0]!.handler('file') as File;
  assert.equal(f2.zones.z.get('example.com.')!.reloadInterval, 0);
  assert.equal(f2.zones.z.get('example.com.')!.reloadByMtime, true);
  assert.deepEqual(f2.fall, ['.']);
});

test('setup errors as CoreDNS prints them', async () => {
  const bad = fixture('bad-a.db');
  const cases: [string, string][] = [
    ['. {\n  file\n}', "plugin/file: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'file'"],
    [`example.org {\n  file ${orgFile} {\n    no_reload\n  }\n}`, "plugin/file: Corefile:3 - Error during parsing: unknown property 'no_reload'"],
    [`example.org {\n  file ${orgFile} {\n    transfer from 127.0.0.1\n  }\n}`, "plugin/file: Corefile:3 - Error during parsing: unknown property 'transfer'"],
    [`example.org {\n  file ${orgFile} {\n    reload\n  }\n}`, 'Corefile:3 - plugin/file: reload duration value is expected'],
    [`example.org {\n  file ${orgFile} {\n    reload 5\n  }\n}`, 'Corefile:3 - plugin/file: plugin/file: time: missing unit in duration "5"'],
    [
      `example.org {\n  file ${bad}\n}`,
      `Corefile:2 - plugin/file: failed to parse file "${bad}" for origin example.org. with error ${bad}: dns: bad A A: "192.0.2.300" at line: 5:20`,
    ],
    [`example.org {\n  file ${fixture('no-soa.db')}\n}`, `Corefile:2 - plugin/file: file "${fixture('no-soa.db')}" has no SOA record for origin example.org.`],
    [
      `example.org {\n  file ${join(dir, 'missing.db')} {\n    reload 0\n  }\n}`,
      `Corefile:4 - plugin/file: plugin/file: open ${join(dir, 'missing.db')}: no such file or directory`,
    ],
  ];
  for (const [corefile, want] of cases) assert.equal(await setupError(corefile, { plugins }), want, corefile);
});

test('a missing zone file only warns (with reload): SERVFAIL until it appears', async () => {
  const missing = join(dir, 'later.db');
  const { lines, result: s } = await captureLog(() => serveCorefile(`example.org {\n  file ${missing} {\n    reload 30ms\n  }\n}`, { plugins }));
  try {
    assert.deepEqual(
      lines.filter((l) => l.includes('plugin/file')),
      [`[WARNING] plugin/file: Failed to open "open ${missing}: no such file or directory": trying again in 30ms`],
    );
    assert.equal((await s.query('www.example.org', 'A')).msg.flags & 0xf, RCODE.SERVFAIL);
    writeFileSync(missing, ORG);
    let rcode = -1;
    for (let i = 0; i < 100 && rcode !== RCODE.NOERROR; i++) {
      await new Promise((r) => setTimeout(r, 20));
      rcode = (await s.query('example.org', 'SOA')).msg.flags & 0xf;
    }
    assert.equal(rcode, RCODE.NOERROR);
  } finally {
    await s.close();
  }
});
