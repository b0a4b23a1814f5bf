/**
 * Query routing inside a listener (runtime.md §2): longest suffix match among
 * the zones of one listener, root last, REFUSED when nothing matches, empty
 * blocks, DS to the parent-most zone, ports, multi-key blocks, reverse CIDR
 * keys and -dns.port/-p. A third-party `zonetag` plugin (loaded through a
 * plugin.cfg copy) tells which block answered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DNSSEC_OK, EDNS, RCODE, getOpt, type Msg } from '@tsdns/core';
import { freePort, makeQuery, queryTcp, queryUdp, spawnTsdns, type TsdnsProcess } from '@tsdns/testing';
import { HOST, dig, requireDig, resolver, resolverCode, txtOf, writeTestPlugins, type TestPlugins } from './helpers.js';

function tagOf(m: Msg): { tag: string; zone: string } {
  assert.equal(m.flags & 0xf, RCODE.NOERROR, `expected NOERROR, got rcode ${m.flags & 0xf}`);
  const t = txtOf(m);
  assert.equal(t.length, 2, 'two TXT records from zonetag');
  return { tag: t[0]!, zone: t[1]!.replace(/^zone=/, '') };
}

describe('routing', { concurrency: true }, () => {
  let plugins: TestPlugins;
  let p: TsdnsProcess;
  let p1: number;
  let p2: number;

  before(async () => {
    plugins = writeTestPlugins();
    p1 = await freePort();
    p2 = await freePort();
    const corefile = `
example.org:${p1} {
    zonetag example
}
sub.example.org:${p1} {
}
deep.sub.example.org:${p1} {
    zonetag deep
}
a.example.net:${p1} b.example.net:${p1} {
    zonetag multi
}
org:${p1} {
    zonetag org
}
ds.test:${p1} {
    zonetag ds-parent
}
child.ds.test:${p1} {
    zonetag ds-child
}
.:${p1} {
    zonetag root
}
10.0.0.0/24:${p1} {
    zonetag rev24
}
example.com:${p2} 192.168.1.0/25:${p2} {
    zonetag port2
}
mixed.example:${p2} other.example:${p1} {
    zonetag mixed
}
`;
    p = await spawnTsdns(corefile, { env: plugins.env, port: p1 });
    assert.ok(!p.exited, p.stderrText());
  });
  after(() => {
    p?.kill('SIGKILL');
    plugins?.cleanup();
  });

  const q = async (name: string, type = 'A', port = p1): Promise<Msg> => (await queryUdp(HOST, port, makeQuery(name, type))).msg;

  it('the longest matching zone of the listener answers', async () => {
    assert.deepEqual(tagOf(await q('www.example.org.')), { tag: 'example', zone: 'example.org.' });
    assert.deepEqual(tagOf(await q('example.org.')), { tag: 'example', zone: 'example.org.' });
    assert.deepEqual(tagOf(await q('a.b.deep.sub.example.org.')), { tag: 'deep', zone: 'deep.sub.example.org.' });
    assert.deepEqual(tagOf(await q('foo.org.')), { tag: 'org', zone: 'org.' });
    assert.deepEqual(tagOf(await q('org.')), { tag: 'org', zone: 'org.' });
  });

  it('matching is case-insensitive and the question keeps its case', async () => {
    const m = await q('WWW.Example.ORG.');
    assert.deepEqual(tagOf(m), { tag: 'example', zone: 'example.org.' });
    assert.equal(m.questions[0]!.name, 'WWW.Example.ORG.');
    assert.equal(m.answers[0]!.name, 'WWW.Example.ORG.');
  });

  it('the root zone is the last resort', async () => {
    assert.deepEqual(tagOf(await q('nothing.else.')), { tag: 'root', zone: '.' });
    assert.deepEqual(tagOf(await q('.', 'NS')), { tag: 'root', zone: '.' });
    assert.deepEqual(tagOf(await q('c.example.net.')), { tag: 'root', zone: '.' });
    // example.com is served on the other port only
    assert.deepEqual(tagOf(await q('www.example.com.')), { tag: 'root', zone: '.' });
  });

  it('an empty block answers REFUSED, without falling back to a parent zone or the root', async () => {
    for (const name of ['sub.example.org.', 'x.sub.example.org.', 'X.Sub.Example.Org.']) {
      const m = await q(name);
      assert.equal(m.flags & 0xf, RCODE.REFUSED, name);
      assert.equal(m.answers.length, 0);
      assert.equal(m.questions[0]!.name, name);
      assert.equal(m.flags & 0x0400, 0, 'AA not set');
      assert.equal(getOpt(m), undefined, 'no OPT without EDNS');
    }
  });

  it('a server-generated REFUSED echoes the OPT (size, DO, cookie; unknown options dropped)', async () => {
    const cookie = Buffer.from('0102030405060708', 'hex');
    const query = makeQuery('x.sub.example.org.', 'A', {
      id: 999,
      edns: {
        udpPayloadSize: 3000,
        do: true,
        options: [
          { code: EDNS.COOKIE, data: cookie },
          { code: 65001, data: Buffer.from('local') },
        ],
      },
    });
    for (const m of [(await queryUdp(HOST, p1, query)).msg, (await queryTcp(HOST, p1, query)).msg]) {
      assert.equal(m.id, 999);
      assert.equal(m.flags & 0xf, RCODE.REFUSED);
      const opt = getOpt(m)!;
      assert.ok(opt, 'OPT echoed');
      assert.equal(opt.udpPayloadSize, 3000);
      assert.equal(opt.flags & DNSSEC_OK, DNSSEC_OK);
      assert.deepEqual(opt.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]), [[EDNS.COOKIE, cookie.toString('hex')]]);
    }
  });

  it('DS goes to the parent-most matching zone, other types to the closest', async () => {
    assert.deepEqual(tagOf(await q('child.ds.test.', 'DS')), { tag: 'ds-parent', zone: 'ds.test.' });
    assert.deepEqual(tagOf(await q('x.child.ds.test.', 'DS')), { tag: 'ds-parent', zone: 'ds.test.' });
    assert.deepEqual(tagOf(await q('ds.test.', 'DS')), { tag: 'ds-parent', zone: 'ds.test.' });
    assert.deepEqual(tagOf(await q('child.ds.test.', 'A')), { tag: 'ds-child', zone: 'child.ds.test.' });
    assert.deepEqual(tagOf(await q('x.child.ds.test.', 'NS')), { tag: 'ds-child', zone: 'child.ds.test.' });
    // below org. and example.org., DS still climbs to the parent-most zone (org.), not the root
    assert.deepEqual(tagOf(await q('www.example.org.', 'DS')), { tag: 'org', zone: 'org.' });
    // the walk stops at an empty block with REFUSED
    assert.equal((await q('a.deep.sub.example.org.', 'DS')).flags & 0xf, RCODE.REFUSED);
  });

  it('a multi-key block serves all its keys with the same plugins', async () => {
    assert.deepEqual(tagOf(await q('a.example.net.')), { tag: 'multi', zone: 'a.example.net.' });
    assert.deepEqual(tagOf(await q('www.b.example.net.')), { tag: 'multi', zone: 'b.example.net.' });
  });

  it('keys of one block may name different ports', async () => {
    assert.deepEqual(tagOf(await q('www.other.example.', 'A', p1)), { tag: 'mixed', zone: 'other.example.' });
    assert.deepEqual(tagOf(await q('www.mixed.example.', 'A', p2)), { tag: 'mixed', zone: 'mixed.example.' });
    // the other port's zone is invisible here: root answers on p1, REFUSED on p2
    assert.deepEqual(tagOf(await q('www.mixed.example.', 'A', p1)), { tag: 'root', zone: '.' });
    assert.equal((await q('www.other.example.', 'A', p2)).flags & 0xf, RCODE.REFUSED);
  });

  it('a second port has its own zones and no root: REFUSED when nothing matches', async () => {
    assert.deepEqual(tagOf(await q('www.example.com.', 'A', p2)), { tag: 'port2', zone: 'example.com.' });
    const m = await q('www.example.org.', 'A', p2);
    assert.equal(m.flags & 0xf, RCODE.REFUSED);
    assert.equal(m.questions[0]!.name, 'www.example.org.');
    const tcp = await queryTcp(HOST, p2, makeQuery('nothing.here.', 'A'));
    assert.equal(tcp.msg.flags & 0xf, RCODE.REFUSED);
  });

  it('reverse CIDR keys: /24 is one zone, /25 is 128 zones (the upper half is not served)', async () => {
    assert.deepEqual(tagOf(await q('5.0.0.10.in-addr.arpa.', 'PTR')), { tag: 'rev24', zone: '0.0.10.in-addr.arpa.' });
    assert.deepEqual(tagOf(await q('0.0.10.in-addr.arpa.', 'SOA')), { tag: 'rev24', zone: '0.0.10.in-addr.arpa.' });
    // 10.0.1.x is outside the /24: the root block answers
    assert.deepEqual(tagOf(await q('5.1.0.10.in-addr.arpa.', 'PTR')), { tag: 'root', zone: '.' });
    assert.deepEqual(tagOf(await q('5.1.168.192.in-addr.arpa.', 'PTR', p2)), { tag: 'port2', zone: '5.1.168.192.in-addr.arpa.' });
    assert.deepEqual(tagOf(await q('127.1.168.192.in-addr.arpa.', 'PTR', p2)), { tag: 'port2', zone: '127.1.168.192.in-addr.arpa.' });
    assert.deepEqual(tagOf(await q('0.1.168.192.in-addr.arpa.', 'PTR', p2)), { tag: 'port2', zone: '0.1.168.192.in-addr.arpa.' });
    for (const name of ['128.1.168.192.in-addr.arpa.', '200.1.168.192.in-addr.arpa.', '1.168.192.in-addr.arpa.']) {
      assert.equal((await q(name, 'PTR', p2)).flags & 0xf, RCODE.REFUSED, name);
    }
  });

  it("Node's resolver sees the tagged TXT answers and REFUSED", async () => {
    const r1 = resolver(p1);
    assert.deepEqual(await r1.resolveTxt('www.example.org'), [['example'], ['zone=example.org.']]);
    assert.deepEqual(await r1.resolveTxt('a.example.net'), [['multi'], ['zone=a.example.net.']]);
    assert.equal(await resolverCode(r1.resolveTxt('x.sub.example.org')), 'EREFUSED');
    assert.equal(await resolverCode(resolver(p2).resolveTxt('not.served.here')), 'EREFUSED');
  });

  it('dig sees the same routing', async () => {
    requireDig();
    const d = await dig(p1, ['TXT', 'x.deep.sub.example.org']);
    assert.equal(d.status, 'NOERROR', d.stdout);
    assert.deepEqual(
      d.answer.map((r) => r.data),
      ['"deep"', '"zone=deep.sub.example.org."'],
    );
    const refused = await dig(p2, ['TXT', 'example.org']);
    assert.equal(refused.status, 'REFUSED');
    assert.ok(refused.edns, 'OPT echoed to dig');
    const ds = await dig(p1, ['DS', 'child.ds.test', '+tcp']);
    assert.deepEqual(
      ds.answer.map((r) => r.data),
      ['"ds-parent"', '"zone=ds.test."'],
    );
  });
});

describe('default port for keys without one', { concurrency: true }, () => {
  let plugins: TestPlugins;
  const procs: TsdnsProcess[] = [];
  before(() => {
    plugins = writeTestPlugins();
  });
  after(() => {
    for (const x of procs) x.kill('SIGKILL');
    plugins?.cleanup();
  });

  for (const flag of ['-dns.port', '-p']) {
    it(`${flag} PORT applies to keys without a port only`, async () => {
      const dflt = await freePort();
      const explicit = await freePort();
      const corefile = `example.org {\n    zonetag noport\n}\nexample.net:${explicit} {\n    zonetag explicit\n}\n`;
      const p = await spawnTsdns(corefile, { env: plugins.env, args: [flag, String(dflt)], port: dflt });
      procs.push(p);
      assert.ok(!p.exited, p.stderrText());
      assert.deepEqual(tagOf((await queryUdp(HOST, dflt, makeQuery('www.example.org.'))).msg), { tag: 'noport', zone: 'example.org.' });
      assert.deepEqual(tagOf((await queryTcp(HOST, explicit, makeQuery('www.example.net.'))).msg), { tag: 'explicit', zone: 'example.net.' });
      // each zone only on its own port
      assert.equal((await queryUdp(HOST, dflt, makeQuery('www.example.net.'))).msg.flags & 0xf, RCODE.REFUSED);
      assert.equal((await queryUdp(HOST, explicit, makeQuery('www.example.org.'))).msg.flags & 0xf, RCODE.REFUSED);
      assert.deepEqual(p.listeningPorts(), { udp: [dflt, explicit].sort((a, b) => a - b), tcp: [dflt, explicit].sort((a, b) => a - b) });
    });
  }
});
