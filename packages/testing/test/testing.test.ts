import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  AUTHORITATIVE_ANSWER,
  DNSSEC_OK,
  EDNS,
  PluginError,
  RCODE,
  decodeMessage,
  encodeMessage,
  getOpt,
  log,
  newReply,
  nextOrFailure,
  type Controller,
  type Handler,
  type DnsRecord,
  type PluginDefinition,
  type RR,
} from '@tsdns/core';
import {
  DnsTcpClient,
  QueryTimeoutError,
  TestWriter,
  captureLogs,
  freePort,
  isPortFree,
  listeningPorts,
  makeQuery,
  packQuery,
  parseAddress,
  queryTcp,
  queryUdp,
  serveCorefile,
  serveHandler,
  spawnTsdns,
  startUpstream,
  tcpFrame,
  udpNoReply,
} from '../src/index.js';

/** The first string of a TXT record. */
function txt(r: DnsRecord | undefined): string {
  return Buffer.from(((r as RR).data as Uint8Array[])[0]!).toString();
}

/** Answers with one TXT record naming the client's transport. */
const echoHandler: Handler = {
  name: 'echo',
  ServeDNS(_ctx, w, r) {
    const m = newReply(r);
    m.flags |= AUTHORITATIVE_ANSWER;
    m.answers.push({ name: r.questions[0]!.name, type: 'TXT', ttl: 0, data: [`${w.proto} ${w.remote.address} ${w.remote.port}`] });
    w.writeMsg(m);
    return 0;
  },
};

/** `echo` as a plugin definition; `echo fail` makes it return SERVFAIL without writing. */
const echoPlugin: PluginDefinition = {
  name: 'echo',
  setup(c: Controller) {
    c.next();
    const fail = c.nextArg() && c.val() === 'fail';
    c.addPlugin(() => (fail ? { name: 'echo', ServeDNS: () => RCODE.SERVFAIL } : echoHandler));
  },
};

describe('makeQuery', () => {
  it('builds a query with RD, a random ID and optional EDNS', () => {
    const q = makeQuery('Example.org', 'AAAA');
    assert.equal(q.questions[0]!.name, 'Example.org.');
    assert.equal(q.questions[0]!.type, 'AAAA');
    assert.equal(q.flags, 0x0100);
    assert.equal(q.additionals.length, 0);
    const e = makeQuery('x.', 'A', { id: 5, rd: false, cd: true, do: true, bufsize: 4000, class: 'CH', opcode: 4 });
    assert.equal(e.id, 5);
    assert.equal(e.flags, (4 << 11) | 0x10);
    assert.equal(e.questions[0]!.class, 'CH');
    assert.deepEqual(getOpt(e), { name: '.', type: 'OPT', udpPayloadSize: 4000, extendedRcode: 0, ednsVersion: 0, flags: DNSSEC_OK, options: [] });
    assert.deepEqual(decodeMessage(packQuery('x.', 'A', { id: 9 })).questions, [{ name: 'x.', type: 'A', class: 'IN' }]);
  });
});

describe('TestWriter', () => {
  it('records messages written with writeMsg, write and send', () => {
    const w = new TestWriter({ remote: '[2001:db8::1]:5353', proto: 'tcp' });
    assert.deepEqual(w.remote, { address: '2001:db8::1', port: 5353, family: 6 });
    assert.equal(w.transport, 'tcp');
    assert.equal(w.msg, undefined);
    const q = makeQuery('a.example.', 'A', { id: 1 });
    const m = newReply(q);
    w.writeMsg(m);
    w.write(encodeMessage({ ...m, id: 2 }));
    w.send({ ...m, id: 3 }, true);
    assert.deepEqual(
      w.msgs.map((x) => x.id),
      [1, 2, 3],
    );
    assert.deepEqual(
      w.written.map((x) => x.via),
      ['writeMsg', 'write', 'send'],
    );
    assert.equal(w.raw.length, 3);
    assert.equal(w.rcode, 0);
    w.reset();
    assert.equal(w.written.length, 0);
  });

  it('has CoreDNS test.ResponseWriter defaults', () => {
    const w = new TestWriter();
    assert.deepEqual(w.remote, { address: '10.240.0.1', port: 40212, family: 4 });
    assert.equal(w.proto, 'udp');
    assert.deepEqual(parseAddress({ address: '::ffff:1.2.3.4', port: 1 }), { address: '1.2.3.4', port: 1, family: 4 });
  });
});

describe('serveHandler', () => {
  it('runs a handler behind the scrub writer (OPT echo)', async () => {
    const q = makeQuery('b.example.', 'A', { edns: { udpPayloadSize: 1400, options: [{ code: EDNS.COOKIE, data: Buffer.alloc(8, 1) }] } });
    const res = await serveHandler(echoHandler, q);
    assert.equal(res.rcode, 0);
    assert.equal(res.error, undefined);
    assert.equal(res.reply!.answers.length, 1);
    const opt = getOpt(res.reply!)!;
    assert.equal(opt.udpPayloadSize, 1400);
    assert.equal(opt.options[0]!.code, EDNS.COOKIE);
  });

  it('writes the error reply for SERVFAIL/REFUSED returns and for exceptions', async () => {
    const refuse: Handler = { name: 'r', ServeDNS: () => RCODE.REFUSED };
    const r1 = await serveHandler(refuse, makeQuery('c.example.'));
    assert.equal(r1.rcode, RCODE.REFUSED);
    assert.equal(r1.writer.rcode, RCODE.REFUSED);
    const thrower: Handler = { name: 't', ServeDNS: () => { throw new PluginError(RCODE.NOTIMP, 'plugin/t: nope'); } };
    const r2 = await serveHandler(thrower, makeQuery('c.example.'));
    assert.equal(r2.rcode, RCODE.NOTIMP);
    assert.ok(r2.error instanceof PluginError);
    assert.equal(r2.reply!.flags & 0xf, RCODE.NOTIMP);
    const none: Handler = { name: 'n', ServeDNS: (ctx, w, r) => nextOrFailure('n', undefined, ctx, w, r) };
    const r3 = await serveHandler(none, makeQuery('c.example.'), { server: false });
    assert.equal(r3.rcode, RCODE.SERVFAIL);
    assert.equal(r3.reply, undefined, 'nothing written without server behaviour');
  });
});

describe('clients and startUpstream', () => {
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it('queryUdp/queryTcp (single and pipelined) against an upstream', async () => {
    const up = await startUpstream((q, req) => {
      const m = newReply(q);
      m.answers.push({ name: q.questions[0]!.name, type: 'TXT', ttl: 1, data: [req.proto] });
      return m;
    });
    closers.push(() => up.close());
    assert.match(up.address, /^127\.0\.0\.1:\d+$/);
    const u = await queryUdp(up.host, up.port, makeQuery('u.example.', 'A', { id: 3 }));
    assert.equal(u.id, 3);
    assert.equal(u.proto, 'udp');
    assert.equal(txt(u.msg.answers[0]), 'udp');
    const t = await queryTcp(up.host, up.port, [makeQuery('a.', 'A', { id: 1 }), makeQuery('b.', 'A', { id: 2 })]);
    assert.deepEqual(
      t.map((r) => r.msg.id),
      [1, 2],
    );
    assert.equal(up.requests.length, 3);
    assert.deepEqual(
      up.requests.map((r) => r.proto),
      ['udp', 'tcp', 'tcp'],
    );
    assert.deepEqual(listeningPorts(process.pid).udp.includes(up.port), process.platform === 'linux');
  });

  it('times out when nothing answers; raw bytes can be answered', async () => {
    const up = await startUpstream((q) => (q.questions[0]!.name === 'raw.' ? Buffer.from('abc') : null));
    closers.push(() => up.close());
    await assert.rejects(queryUdp(up.host, up.port, makeQuery('silent.'), { timeoutMs: 100 }), QueryTimeoutError);
    await assert.rejects(queryTcp(up.host, up.port, makeQuery('silent.'), { timeoutMs: 100 }), QueryTimeoutError);
    assert.equal(await udpNoReply(up.host, up.port, makeQuery('silent.'), 100), true);
    const r = await queryUdp(up.host, up.port, makeQuery('raw.'));
    assert.equal(r.raw.toString(), 'abc');
    assert.throws(() => r.msg);
  });

  it('DnsTcpClient sends raw bytes and frames, and sees the server close', async () => {
    const up = await startUpstream((q) => newReply(q));
    closers.push(() => up.close());
    const c = await DnsTcpClient.connect(up.host, up.port);
    const f = tcpFrame(makeQuery('split.', 'A', { id: 77 }));
    await c.writeRaw(f.subarray(0, 3));
    await c.writeRaw(f.subarray(3));
    assert.equal((await c.next()).msg.id, 77);
    await up.close();
    assert.equal(await c.waitClosed(2000), true);
    assert.equal(c.isOpen, false);
    await assert.rejects(c.next(100));
  });
});

describe('freePort', () => {
  it('returns a port free for TCP and UDP, never the same twice', async () => {
    const a = await freePort();
    const b = await freePort();
    assert.notEqual(a, b);
    assert.equal(await isPortFree(a), true);
    const s = net.createServer();
    await new Promise<void>((r) => s.listen({ port: a }, () => r()));
    assert.equal(await isPortFree(a), false);
    await new Promise<void>((r) => s.close(() => r()));
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.bind(b, () => r()));
    assert.equal(await isPortFree(b), false);
    u.close();
  });
});

describe('serveCorefile', () => {
  it('serves a Corefile in-process on 127.0.0.1 with a random port', async () => {
    const srv = await serveCorefile('example.org:0 {\n    echo\n}\nexample.net:0 {\n    echo fail\n}\n', { plugins: [echoPlugin] });
    try {
      const addrs = srv.addresses();
      assert.deepEqual(new Set(addrs.map((a) => a.transport)), new Set(['udp', 'tcp']));
      assert.ok(addrs.every((a) => a.address === '127.0.0.1' && a.port > 0 && a.server === 'dns://127.0.0.1:0'));
      const u = await srv.query('www.example.org', 'A');
      assert.equal(u.msg.answers.length, 1);
      assert.equal(txt(u.msg.answers[0]), `udp 127.0.0.1 ${u.localPort}`);
      const t = await srv.query('www.example.org', 'A', { tcp: true });
      assert.equal(txt(t.msg.answers[0]), `tcp 127.0.0.1 ${t.localPort}`);
      assert.equal((await srv.query('www.example.net')).msg.flags & 0xf, RCODE.SERVFAIL);
      assert.equal((await srv.query('www.example.com')).msg.flags & 0xf, RCODE.REFUSED);
      assert.equal(srv.udpAddress().port, srv.tcpAddress().port);
    } finally {
      await srv.close();
    }
  });

  it('reports Corefile errors like the executable', async () => {
    await assert.rejects(serveCorefile('.:0 {\n    nope\n}\n', { plugins: [echoPlugin] }), /Corefile:2 - Error during parsing: Unknown directive 'nope'/);
  });

  it('captureLogs collects log lines', () => {
    const c = captureLogs();
    try {
      log.info('hello');
      log.error('bad');
    } finally {
      c.restore();
    }
    assert.deepEqual(c.lines, ['[INFO] hello', '[ERROR] bad']);
  });
});

describe('spawnTsdns', () => {
  it('runs the executable and collects output; resolves at exit when it does not serve', async () => {
    const p = await spawnTsdns(null, { conf: 'none', args: ['-version'], quiet: false });
    const st = await p.waitForExit();
    assert.equal(st.code, 0);
    assert.equal(p.stdout()[0], 'CoreDNS-1.14.7');
    assert.equal(await p.waitForLine(/^CoreDNS/), 'CoreDNS-1.14.7');
    await assert.rejects(p.waitForLine('never printed', { timeoutMs: 200 }), /exited/);
  });
});
