/**
 * End to end: a client queries tsdns over real sockets; gathersrv sends its
 * sub-queries through `forward` to two cluster DNS servers on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTHORITATIVE_ANSWER, DNSSEC_OK, getOpt, RCODE, type RR, type SrvData } from '@tsdns/core';
import { freePort, makeQuery, serveCorefile } from '@tsdns/testing';
import { ede, plugins, scenario, text } from './helpers.js';

const SRV_Q = '_demo._tcp.demo-service.default.svc.distributed.local.';

test("the README's SRV query: both clusters merged, masqueraded, in cluster order", async () => {
  const sc = await scenario();
  try {
    // answer order does not depend on which cluster is faster
    sc.a.behaviour = { delayMs: 30 };
    const r = await sc.s.query(SRV_Q, 'SRV', { id: 4321 });
    const m = r.msg;
    assert.equal(r.id, 4321);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(m.flags & AUTHORITATIVE_ANSWER, AUTHORITATIVE_ANSWER);
    assert.deepEqual(m.questions, [{ name: SRV_Q, type: 'SRV', class: 'IN' }]);
    assert.deepEqual(text(m.answers), [
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 a-demo-service-0.default.svc.distributed.local.',
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 a-demo-service-1.default.svc.distributed.local.',
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 b-demo-service-0.default.svc.distributed.local.',
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 b-demo-service-1.default.svc.distributed.local.',
    ]);
    assert.deepEqual(m.authorities, []);
    assert.deepEqual(text(m.additionals), [
      'a-demo-service-0.default.svc.distributed.local. 30 IN A 10.8.1.2',
      'a-demo-service-1.default.svc.distributed.local. 30 IN A 10.8.1.2',
      'b-demo-service-0.default.svc.distributed.local. 30 IN A 10.9.1.2',
      'b-demo-service-1.default.svc.distributed.local. 30 IN A 10.9.1.2',
    ]);
    assert.equal(getOpt(m), undefined, 'no OPT for a client without EDNS');
    // each cluster got the question with its own domain
    assert.deepEqual(sc.a.names(), ['_demo._tcp.demo-service.default.svc.cluster-a.local.']);
    assert.deepEqual(sc.b.names(), ['_demo._tcp.demo-service.default.svc.cluster-b.local.']);

    // the same over TCP
    const t = await sc.s.query(SRV_Q, 'SRV', { tcp: true });
    assert.equal(t.msg.answers.length, 4);
    assert.equal(t.msg.additionals.length, 4);
  } finally {
    await sc.close();
  }
});

test('sub-queries run concurrently', async () => {
  const sc = await scenario({ a: { delayMs: 400 }, b: { delayMs: 400 } });
  try {
    const t0 = performance.now();
    const r = await sc.s.query(SRV_Q, 'SRV');
    const ms = performance.now() - t0;
    assert.equal(r.msg.answers.length, 4);
    assert.ok(ms < 780, `took ${ms} ms: the clusters were asked one after the other`);
  } finally {
    await sc.close();
  }
});

test('A and AAAA for a prefixed host name go to that cluster only and come back under the asked name', async () => {
  const sc = await scenario();
  try {
    const a = await sc.s.query('a-demo-service-0.default.svc.distributed.local.', 'A');
    assert.equal(a.rcode, RCODE.NOERROR);
    assert.deepEqual(text(a.msg.answers), ['a-demo-service-0.default.svc.distributed.local. 30 IN A 10.8.1.2']);
    assert.deepEqual(sc.a.names(), ['demo-service-0.default.svc.cluster-a.local.']);
    assert.deepEqual(sc.b.names(), []);

    const b = await sc.s.query('b-demo-service-0.default.svc.distributed.local.', 'AAAA');
    assert.deepEqual(text(b.msg.answers), ['b-demo-service-0.default.svc.distributed.local. 30 IN AAAA fd00:9::102']);
    assert.deepEqual(sc.b.names(), ['demo-service-0.default.svc.cluster-b.local.']);
    assert.equal(sc.a.names().length, 1);

    // case does not matter for the prefix and the domain; the question's case is echoed
    const c = await sc.s.query('B-Demo-Service-1.default.svc.Distributed.LOCAL.', 'A');
    assert.deepEqual(text(c.msg.answers), ['B-Demo-Service-1.default.svc.Distributed.LOCAL. 30 IN A 10.9.1.2']);
    assert.deepEqual(sc.b.names().slice(-1), ['demo-service-1.default.svc.cluster-b.local.']);
  } finally {
    await sc.close();
  }
});

test('an A query for an un-prefixed name fans out and the answers keep the asked name', async () => {
  const sc = await scenario({ a: { delayMs: 20 } });
  try {
    const r = await sc.s.query('demo-service.default.svc.distributed.local.', 'A');
    assert.deepEqual(text(r.msg.answers), [
      'demo-service.default.svc.distributed.local. 30 IN A 10.8.1.2',
      'demo-service.default.svc.distributed.local. 30 IN A 10.9.1.2',
    ]);
  } finally {
    await sc.close();
  }
});

test('a CNAME chain is masqueraded consistently: owner, target and the target host', async () => {
  const sc = await scenario();
  try {
    const r = await sc.s.query('a-www.default.svc.distributed.local.', 'A');
    assert.deepEqual(text(r.msg.answers), [
      'a-www.default.svc.distributed.local. 30 IN CNAME a-demo-service-0.default.svc.distributed.local.',
      'a-demo-service-0.default.svc.distributed.local. 30 IN A 10.8.1.2',
    ]);
  } finally {
    await sc.close();
  }
});

test('TXT fans out to every cluster; the owners match the question', async () => {
  const sc = await scenario({ b: { delayMs: 20 } });
  try {
    const r = await sc.s.query('demo-service.default.svc.distributed.local.', 'TXT');
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(text(r.msg.answers), [
      'demo-service.default.svc.distributed.local. 30 IN TXT "cluster=a"',
      'demo-service.default.svc.distributed.local. 30 IN TXT "cluster=b"',
    ]);
    assert.deepEqual(sc.a.names(), ['demo-service.default.svc.cluster-a.local.']);
    assert.deepEqual(sc.b.names(), ['demo-service.default.svc.cluster-b.local.']);
  } finally {
    await sc.close();
  }
});

test('non-qualified types and names pass through to the next plugin unchanged', async () => {
  const sc = await scenario();
  try {
    // MX below the distributed domain: not gathered; no forward matches -> SERVFAIL from the chain's end
    const mx = await sc.s.query('_smtp._tcp.demo.svc.distributed.local.', 'MX');
    assert.equal(mx.rcode, RCODE.SERVFAIL);
    // a cluster name is answered by that cluster's forward, untouched
    const direct = await sc.s.query('_demo._tcp.demo-service.default.svc.cluster-a.local.', 'SRV');
    assert.deepEqual(text(direct.msg.answers), [
      '_demo._tcp.demo-service.default.svc.cluster-a.local. 30 IN SRV 0 50 8080 demo-service-0.default.svc.cluster-a.local.',
      '_demo._tcp.demo-service.default.svc.cluster-a.local. 30 IN SRV 0 50 8080 demo-service-1.default.svc.cluster-a.local.',
    ]);
    // label-aware: foo.xdistributed.local. is not below distributed.local. (gathersrv's string suffix says it is)
    const x = await sc.s.query('_demo._tcp.svc.xdistributed.local.', 'SRV');
    assert.equal(x.rcode, RCODE.SERVFAIL);
    assert.deepEqual(sc.a.names(), ['_demo._tcp.demo-service.default.svc.cluster-a.local.']);
    assert.deepEqual(sc.b.names(), []);
  } finally {
    await sc.close();
  }
});

test('the question is qualified case-insensitively and echoed as asked', async () => {
  const sc = await scenario();
  try {
    const q = '_demo._tcp.Demo-Service.default.svc.DISTRIBUTED.Local.';
    const r = await sc.s.query(q, 'SRV');
    assert.equal(r.msg.questions[0]!.name, q);
    assert.equal(r.msg.answers.length, 4);
    for (const a of r.msg.answers) assert.equal(a.name, q);
    assert.deepEqual(sc.a.names(), ['_demo._tcp.demo-service.default.svc.cluster-a.local.']);
  } finally {
    await sc.close();
  }
});

test('NXDOMAIN from one cluster and NOERROR from the other: NOERROR with the records found', async () => {
  const sc = await scenario({ a: { delayMs: 30 } });
  try {
    // only-b exists in cluster b only; cluster a answers NXDOMAIN (and first, when a is fast)
    const r = await sc.s.query('only-b.default.svc.distributed.local.', 'A');
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(text(r.msg.answers), ['only-b.default.svc.distributed.local. 30 IN A 10.9.1.2']);
    assert.deepEqual(r.msg.authorities, []);

    sc.a.behaviour = {};
    sc.b.behaviour = { delayMs: 30 };
    const r2 = await sc.s.query('only-b.default.svc.distributed.local.', 'A');
    assert.equal(r2.rcode, RCODE.NOERROR, 'the NXDOMAIN that came first is overridden');
    assert.equal(r2.msg.answers.length, 1);
  } finally {
    await sc.close();
  }
});

test('negative answers carry an SOA moved into the distributed domain', async () => {
  const sc = await scenario();
  try {
    const nx = await sc.s.query('_none._tcp.nothing.default.svc.distributed.local.', 'SRV');
    assert.equal(nx.rcode, RCODE.NXDOMAIN);
    assert.deepEqual(nx.msg.answers, []);
    assert.deepEqual(text(nx.msg.authorities), ['distributed.local. 30 IN SOA ns.dns.distributed.local. hostmaster.distributed.local. 1700000000 7200 1800 86400 30']);

    const nodata = await sc.s.query('demo-service-1.default.svc.distributed.local.', 'AAAA');
    assert.equal(nodata.rcode, RCODE.NOERROR);
    assert.deepEqual(nodata.msg.answers, []);
    assert.equal(nodata.msg.authorities.length, 1);
    assert.equal(nodata.msg.authorities[0]!.name, 'distributed.local.');
  } finally {
    await sc.close();
  }
});

test('a cluster slower than cancel: the reply at the deadline has what arrived (NOERROR)', async () => {
  const sc = await scenario({ cancel: '300ms', b: { delayMs: 1500 } });
  try {
    const t0 = performance.now();
    const r = await sc.s.query(SRV_Q, 'SRV');
    const ms = performance.now() - t0;
    assert.ok(ms >= 280 && ms < 1000, `answered after ${ms} ms`);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(
      r.msg.answers.map((a) => ((a as RR).data as SrvData).target),
      ['a-demo-service-0.default.svc.distributed.local.', 'a-demo-service-1.default.svc.distributed.local.'],
    );
    assert.equal(r.msg.additionals.length, 2);
  } finally {
    await sc.close();
  }
});

test('no cluster answers before cancel: SERVFAIL with Extended DNS Error 23', async () => {
  const sc = await scenario({ cancel: '250ms', a: { silent: true }, b: { silent: true } });
  try {
    for (const edns of [false, true]) {
      const t0 = performance.now();
      const r = await sc.s.query(SRV_Q, 'SRV', edns ? { bufsize: 1232 } : {});
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `answered after ${ms} ms`);
      assert.equal(r.rcode, RCODE.SERVFAIL);
      assert.deepEqual(r.msg.answers, []);
      const opt = getOpt(r.msg)!;
      assert.ok(opt, 'an OPT record carries the EDE');
      assert.equal(opt.flags & DNSSEC_OK, DNSSEC_OK, 'gathersrv sets DO on this reply');
      assert.equal(opt.udpPayloadSize, edns ? 1232 : 4096);
      assert.deepEqual(ede(r.msg), { info: 23, text: 'Sub-queries canceled due to timeout', options: 1 });
    }
  } finally {
    await sc.close();
  }
});

test('every sub-query failing without a reply: SERVFAIL with EDE 23 that says so', async () => {
  const sc = await scenario({ a: { silent: true }, b: { silent: true } });
  try {
    // both clusters' servers are gone: forward fails fast (connection refused)
    await sc.a.close();
    await sc.b.close();
    const r = await sc.s.query(SRV_Q, 'SRV', { timeoutMs: 8000 });
    assert.equal(r.rcode, RCODE.SERVFAIL);
    assert.deepEqual(ede(r.msg), { info: 23, text: 'All sub-queries failed', options: 1 });
  } finally {
    await sc.close();
  }
});

test('timeout: answers with what was gathered once the timeout passed and a cluster said NOERROR', async () => {
  const sc = await scenario({ cancel: '3s', gathersrv: 'timeout 150ms\nmax_fails 0', b: { delayMs: 1200 } });
  try {
    const t0 = performance.now();
    const r = await sc.s.query(SRV_Q, 'SRV');
    const ms = performance.now() - t0;
    assert.ok(ms >= 140 && ms < 800, `answered after ${ms} ms`);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(r.msg.answers.length, 2);

    // before the timeout every cluster is waited for
    sc.b.behaviour = { delayMs: 60 };
    const r2 = await sc.s.query(SRV_Q, 'SRV');
    assert.equal(r2.msg.answers.length, 4);
  } finally {
    await sc.close();
  }
});

test('timeout: without a NOERROR yet, waiting goes on until one arrives', async () => {
  // cluster a says NXDOMAIN at once, cluster b has the name but is slow
  const sc = await scenario({ cancel: '3s', gathersrv: 'timeout 100ms', b: { delayMs: 400 } });
  try {
    const t0 = performance.now();
    const r = await sc.s.query('only-b.default.svc.distributed.local.', 'A');
    const ms = performance.now() - t0;
    assert.ok(ms >= 380 && ms < 1500, `answered after ${ms} ms`);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(text(r.msg.answers), ['only-b.default.svc.distributed.local. 30 IN A 10.9.1.2']);
  } finally {
    await sc.close();
  }
});

test('a dead cluster stops costing every query the cancel deadline', async () => {
  const sc = await scenario({ cancel: '800ms', b: { silent: true } });
  try {
    const timed = async (): Promise<{ ms: number; n: number }> => {
      const t0 = performance.now();
      const r = await sc.s.query(SRV_Q, 'SRV');
      assert.equal(r.rcode, RCODE.NOERROR);
      return { ms: performance.now() - t0, n: r.msg.answers.length };
    };
    // max_fails (2) queries wait for the deadline...
    for (let i = 0; i < 2; i++) {
      const { ms, n } = await timed();
      assert.ok(ms >= 780, `query ${i} answered after ${ms} ms`);
      assert.equal(n, 2);
    }
    // ...then cluster b is down: not waited for (one probe query at a time goes to it)
    const before = sc.b.names().length;
    for (let i = 0; i < 5; i++) {
      const { ms, n } = await timed();
      assert.ok(ms < 600, `answered after ${ms} ms with cluster b down`);
      assert.equal(n, 2);
    }
    assert.equal(sc.b.names().length - before, 1, 'a single probe is in flight');
  } finally {
    await sc.close();
  }
});

test('a cluster that was down is gathered again once a probe gets an answer', async () => {
  const sc = await scenario({ cancel: '2s', gathersrv: 'timeout 400ms', b: { silent: true } });
  try {
    const answers = async (): Promise<number> => (await sc.s.query(SRV_Q, 'SRV')).msg.answers.length;
    assert.equal(await answers(), 2);
    assert.equal(await answers(), 2);
    const t0 = performance.now();
    assert.equal(await answers(), 2);
    assert.ok(performance.now() - t0 < 300, 'cluster b is down: not waited for');
    sc.b.behaviour = {};
    let back = false;
    for (let i = 0; i < 40 && !back; i++) {
      back = (await answers()) === 4;
      if (!back) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(back, 'cluster b is gathered again');
  } finally {
    await sc.close();
  }
});

test('EDNS: the OPT of the last sub-reply is kept and fitted to the client', async () => {
  const sc = await scenario();
  try {
    const q = makeQuery(SRV_Q, 'SRV', { edns: { udpPayloadSize: 4000, do: true } });
    const r = await sc.s.send(q);
    const opts = r.msg.additionals.filter((x) => x.type === 'OPT');
    assert.equal(opts.length, 1);
    assert.equal(getOpt(r.msg)!.udpPayloadSize, 4000);
    assert.equal(getOpt(r.msg)!.flags & DNSSEC_OK, DNSSEC_OK);
    assert.equal(r.msg.additionals[r.msg.additionals.length - 1]!.type, 'OPT');
    assert.equal(r.msg.additionals.length, 5);
  } finally {
    await sc.close();
  }
});

test("gathersrv README's first form: one forward . to a second server that splits by zone", async () => {
  const sc = await scenario();
  const p = await freePort();
  const s = await serveCorefile(
    `distributed.local.:0 {
  gathersrv distributed.local. {
    cluster-a.local. a-
    cluster-b.local. b-
  }
  forward . 127.0.0.1:${p}
}
cluster-a.local.:${p} {
  forward . ${sc.a.address}
}
cluster-b.local.:${p} {
  forward . ${sc.b.address}
}
`,
    { plugins },
  );
  try {
    const front = s.addresses().find((x) => x.port !== p && x.transport === 'udp')!;
    const r = await s.query(SRV_Q, 'SRV', { server: front.server });
    assert.deepEqual(
      r.msg.answers.map((x) => ((x as RR).data as SrvData).target),
      [
        'a-demo-service-0.default.svc.distributed.local.',
        'a-demo-service-1.default.svc.distributed.local.',
        'b-demo-service-0.default.svc.distributed.local.',
        'b-demo-service-1.default.svc.distributed.local.',
      ],
    );
    assert.equal(r.msg.additionals.length, 4);
  } finally {
    await s.close();
    await sc.close();
  }
});
