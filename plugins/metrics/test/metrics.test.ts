import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PluginError, RCODE, encodeMessage, messageLen, newReply, type Controller, type Msg, type PluginDefinition } from '@tsdns/core';
import { captureLogs, freePort, makeQuery, serveCorefile, type TestServer } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import prometheus, { metricsListener, runningListeners } from '../src/index.js';
import { answering, fakePlugin, get, parseExposition, samples, value } from './helpers.js';

async function scrape(addr: string): Promise<string> {
  const r = await get(addr, '/metrics');
  assert.equal(r.status, 200);
  parseExposition(r.body); // must always be valid
  return r.body;
}

async function withServer<T>(corefile: string, plugins: Parameters<typeof serveCorefile>[1], fn: (s: TestServer) => Promise<T>): Promise<T> {
  const s = await serveCorefile(corefile, plugins);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

test('{ prometheus; whoami }: one UDP query is counted with CoreDNS label values', async () => {
  const dns = await freePort();
  const mport = await freePort();
  const maddr = `127.0.0.1:${mport}`;
  await withServer(`.:${dns} {\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins: [prometheus, whoami] }, async (s) => {
    const q = makeQuery('www.example.org.', 'A');
    const r = await s.send(q);
    assert.equal(r.rcode, 0);
    const server = `dns://127.0.0.1:${dns}`;
    const body = await scrape(maddr);
    assert.ok(body.includes(`coredns_dns_responses_total{server="${server}",zone=".",view="",rcode="NOERROR",plugin="whoami"} 1\n`), body);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, zone: '.', view: '', proto: 'udp', family: '1', type: 'A' }), 1);
    assert.equal(value(body, 'coredns_dns_request_duration_seconds_count', { server, zone: '.', view: '' }), 1);
    const dur = value(body, 'coredns_dns_request_duration_seconds_sum', { server, zone: '.', view: '' })!;
    assert.ok(dur > 0 && dur < 1, `duration ${dur}`);
    // request size: the query's uncompressed length; response size: whoami's reply as written (before scrub)
    const qlen = encodeMessage(q).length;
    assert.equal(value(body, 'coredns_dns_request_size_bytes_sum', { server, zone: '.', proto: 'udp' }), qlen);
    assert.equal(value(body, 'coredns_dns_request_size_bytes_bucket', { server, zone: '.', proto: 'udp', le: '0' }), 0);
    assert.equal(value(body, 'coredns_dns_request_size_bytes_bucket', { server, zone: '.', proto: 'udp', le: '100' }), 1);
    const rlen = messageLen(r.msg, false);
    assert.equal(value(body, 'coredns_dns_response_size_bytes_sum', { server, zone: '.', proto: 'udp' }), rlen);
    assert.equal(value(body, 'coredns_dns_response_size_bytes_count', { server, zone: '.', proto: 'udp' }), 1);
    // no DO bit: no DO series yet
    assert.equal(samples(body, 'coredns_dns_do_requests_total', { server }).length, 0);
    // the time buckets, exactly as CoreDNS exports them
    const les = samples(body, 'coredns_dns_request_duration_seconds_bucket', { server }).map((x) => x.labels['le']);
    assert.deepEqual(les, ['0.00025', '0.0005', '0.001', '0.002', '0.004', '0.008', '0.016', '0.032', '0.064', '0.128', '0.256', '0.512', '1.024', '2.048', '4.096', '8.192', '+Inf']);
    const sizes = samples(body, 'coredns_dns_request_size_bytes_bucket', { server, proto: 'udp' }).map((x) => x.labels['le']);
    assert.deepEqual(sizes, ['0', '100', '200', '300', '400', '511', '1023', '2047', '4095', '8291', '16000', '32000', '48000', '64000', '+Inf']);
    // help strings and types
    const fams = parseExposition(body);
    assert.equal(fams.get('coredns_dns_responses_total')!.help, 'Counter of response status codes.');
    assert.equal(fams.get('coredns_dns_requests_total')!.help, 'Counter of DNS requests made per zone, protocol and family.');
    assert.equal(fams.get('coredns_dns_request_duration_seconds')!.type, 'histogram');
    assert.equal(fams.get('coredns_dns_request_size_bytes')!.help, 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.');
    assert.equal(fams.get('coredns_dns_response_size_bytes')!.help, 'Size of the returned response in bytes.');
    assert.equal(value(body, 'coredns_panics_total'), 0);
  });
});

test('TCP, DO bit and uncommon types: proto, do_requests_total and type="other"', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  await withServer(`.:${dns} {\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins: [prometheus, whoami] }, async (s) => {
    await s.query('a.example.', 'AAAA', { tcp: true });
    await s.query('a.example.', 'MX', { do: true });
    await s.query('a.example.', 'NULL');
    await s.query('a.example.', 'HTTPS');
    const server = `dns://127.0.0.1:${dns}`;
    const body = await scrape(maddr);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, proto: 'tcp', family: '1', type: 'AAAA' }), 1);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, proto: 'udp', type: 'MX' }), 1);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, proto: 'udp', type: 'other' }), 1);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, proto: 'udp', type: 'HTTPS' }), 1);
    assert.equal(value(body, 'coredns_dns_do_requests_total', { server, zone: '.', view: '' }), 1);
    assert.equal(value(body, 'coredns_dns_request_size_bytes_count', { server, proto: 'tcp' }), 1);
    assert.equal(value(body, 'coredns_dns_response_size_bytes_count', { server, proto: 'udp' }), 3);
    assert.equal(value(body, 'coredns_dns_responses_total', { server, rcode: 'NOERROR', plugin: 'whoami' }), 4);
  });
});

test('REFUSED for a name outside the block is reported with zone "dropped" and plugin ""', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  await withServer(`example.org:${dns} {\n  whoami\n  prometheus ${maddr}\n}\n`, { plugins: [prometheus, whoami] }, async (s) => {
    const r = await s.query('google.com.', 'A');
    assert.equal(r.rcode, RCODE.REFUSED);
    const body = await scrape(maddr);
    const server = `dns://127.0.0.1:${dns}`;
    const refused = samples(body, 'coredns_dns_responses_total', { server });
    assert.deepEqual(refused, [
      { name: 'coredns_dns_responses_total', labels: { server, zone: 'dropped', view: '', rcode: 'REFUSED', plugin: '' }, value: 1 },
    ]);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, zone: 'dropped', type: 'A' }), 1);
  });
});

test('zone label: the longest zone of the block that contains the name', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  await withServer(`example.org:${dns} a.example.org:${dns} {\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins: [prometheus, whoami] }, async (s) => {
    await s.query('x.a.example.org.', 'A');
    await s.query('X.A.EXAMPLE.ORG.', 'A');
    await s.query('b.example.org.', 'A');
    await s.query('example.org.', 'SOA');
    const body = await scrape(maddr);
    const server = `dns://127.0.0.1:${dns}`;
    assert.equal(value(body, 'coredns_dns_responses_total', { server, zone: 'a.example.org.', rcode: 'NOERROR', plugin: 'whoami' }), 2);
    assert.equal(value(body, 'coredns_dns_responses_total', { server, zone: 'example.org.', rcode: 'NOERROR', plugin: 'whoami' }), 2);
    assert.equal(value(body, 'coredns_dns_requests_total', { server, zone: 'example.org.', type: 'SOA' }), 1);
  });
});

test('rcode and plugin labels: written rcode, returned rcode when nothing was written, the plugin right after prometheus', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  // chain order = this list: prometheus -> pass -> nx/refuse/servfail/... -> whoami
  const pass = fakePlugin('pass', (next) => ({
    name: 'pass',
    ServeDNS(ctx, w, r): number | Promise<number> {
      const n = r.questions[0]!.name;
      if (n.startsWith('nx.')) {
        const m = newReply(r);
        m.flags = (m.flags & ~0xf) | RCODE.NXDOMAIN;
        w.writeMsg(m);
        return RCODE.NXDOMAIN;
      }
      if (n.startsWith('refuse.')) return RCODE.REFUSED; // nothing written: the server writes REFUSED
      if (n.startsWith('error.')) throw PluginError.of('pass', RCODE.SERVFAIL, 'upstream went away'); // CoreDNS's (SERVFAIL, err)
      if (n.startsWith('silent.')) return RCODE.NOERROR; // "written" but nothing was: no reply, rcode NOERROR, plugin ""
      return next!.ServeDNS(ctx, w, r);
    },
  }));
  await withServer(`.:${dns} {\n  prometheus ${maddr}\n  pass\n  whoami\n}\n`, { plugins: [prometheus, pass, whoami] }, async (s) => {
    assert.equal((await s.query('nx.example.', 'A')).rcode, RCODE.NXDOMAIN);
    assert.equal((await s.query('refuse.example.', 'A')).rcode, RCODE.REFUSED);
    assert.equal((await s.query('error.example.', 'A')).rcode, RCODE.SERVFAIL);
    await assert.rejects(s.query('silent.example.', 'A', { timeoutMs: 300 }));
    assert.equal((await s.query('ok.example.', 'A')).rcode, RCODE.NOERROR);
    const body = await scrape(maddr);
    const server = `dns://127.0.0.1:${dns}`;
    const got = samples(body, 'coredns_dns_responses_total', { server })
      .map((x) => `${x.labels['zone']} ${x.labels['rcode']} ${JSON.stringify(x.labels['plugin'])} ${x.value}`)
      .sort();
    assert.deepEqual(got, ['. NOERROR "" 1', '. NOERROR "pass" 1', '. NXDOMAIN "pass" 1', '. REFUSED "" 1', '. SERVFAIL "" 1']);
    // the unanswered query still has its request counted, with a response size of 0
    assert.equal(value(body, 'coredns_dns_response_size_bytes_bucket', { server, proto: 'udp', le: '0' }), 3);
  });
});

test('a handler exception (panic) is reported once, by the server, in zone "dropped"', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const boom = fakePlugin('boom', () => ({
    name: 'boom',
    ServeDNS(): number {
      throw new TypeError('kaboom');
    },
  }));
  const logs = captureLogs();
  try {
    await withServer(`.:${dns} {\n  prometheus ${maddr}\n  boom\n}\n`, { plugins: [prometheus, boom] }, async (s) => {
      const body0 = await scrape(maddr);
      const panics0 = value(body0, 'coredns_panics_total')!;
      assert.equal((await s.query('x.example.', 'A')).rcode, RCODE.SERVFAIL);
      const body = await scrape(maddr);
      const server = `dns://127.0.0.1:${dns}`;
      assert.deepEqual(
        samples(body, 'coredns_dns_responses_total', { server }).map((x) => [x.labels['zone'], x.labels['rcode'], x.labels['plugin'], x.value]),
        [['dropped', 'SERVFAIL', '', 1]],
      );
      assert.equal(value(body, 'coredns_panics_total'), panics0 + 1);
    });
  } finally {
    logs.restore();
  }
  assert.ok(logs.lines.some((l) => l.includes('Recovered from panic in server') && l.includes('kaboom')), logs.lines.join('\n'));
});

test('asynchronous chains: the duration runs from when prometheus got the query until the chain returned', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const slow = fakePlugin('slow', (next) => ({
    name: 'slow',
    async ServeDNS(ctx, w, r: Msg): Promise<number> {
      await sleep(60);
      return next!.ServeDNS(ctx, w, r);
    },
  }));
  await withServer(`.:${dns} {\n  prometheus ${maddr}\n  slow\n  whoami\n}\n`, { plugins: [prometheus, slow, whoami] }, async (s) => {
    assert.equal((await s.query('x.example.', 'A')).rcode, 0);
    const body = await scrape(maddr);
    const server = `dns://127.0.0.1:${dns}`;
    const sum = value(body, 'coredns_dns_request_duration_seconds_sum', { server })!;
    assert.ok(sum >= 0.055 && sum < 2, `duration ${sum}`);
    assert.equal(value(body, 'coredns_dns_request_duration_seconds_bucket', { server, le: '0.032' }), 0);
    assert.equal(value(body, 'coredns_dns_request_duration_seconds_bucket', { server, le: '2.048' }), 1);
    assert.equal(value(body, 'coredns_dns_responses_total', { server, plugin: 'slow' }), 1);
  });
});

test('request size is measured before plugins rewrite the request', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const grow = fakePlugin('grow', (next) => ({
    name: 'grow',
    ServeDNS(ctx, w, r: Msg): number | Promise<number> {
      r.questions[0]!.name = 'a-much-longer-name-that-a-rewrite-would-make.' + r.questions[0]!.name;
      return next!.ServeDNS(ctx, w, r);
    },
  }));
  await withServer(`.:${dns} {\n  prometheus ${maddr}\n  grow\n  whoami\n}\n`, { plugins: [prometheus, grow, whoami] }, async (s) => {
    const q = makeQuery('x.example.', 'A');
    await s.send(q);
    const body = await scrape(maddr);
    assert.equal(value(body, 'coredns_dns_request_size_bytes_sum', { server: `dns://127.0.0.1:${dns}` }), encodeMessage(q).length);
  });
});

test('coredns_plugin_enabled: every handler of each block with prometheus, first key, per listen host', async () => {
  const p1 = await freePort();
  const p2 = await freePort();
  const p3 = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const chaos = answering('chaos');
  await withServer(
    `example.org:${p1} {\n  chaos\n  prometheus ${maddr}\n}\nexample.com:${p2} example.net:${p2} {\n  whoami\n  prometheus ${maddr}\n}\nexample.info:${p3} {\n  whoami\n}\n`,
    { plugins: [prometheus, chaos, whoami] },
    async () => {
      const body = await scrape(maddr);
      const got = samples(body, 'coredns_plugin_enabled')
        .filter((x) => [p1, p2, p3].some((p) => x.labels['server'] === `dns://127.0.0.1:${p}`))
        .map((x) => `${x.labels['server']} ${x.labels['zone']} ${JSON.stringify(x.labels['view'])} ${x.labels['name']} ${x.value}`)
        .sort();
      assert.deepEqual(got, [
        `dns://127.0.0.1:${p1} example.org. "" chaos 1`,
        `dns://127.0.0.1:${p1} example.org. "" prometheus 1`,
        `dns://127.0.0.1:${p2} example.com. "" prometheus 1`,
        `dns://127.0.0.1:${p2} example.com. "" whoami 1`,
      ].sort());
      assert.equal(parseExposition(body).get('coredns_plugin_enabled')!.help, 'A metric that indicates whether a plugin is enabled on per server and zone basis.');
      // one listener for the address both blocks name
      assert.deepEqual(runningListeners().filter((a) => a === maddr), [maddr]);
    },
  );
  assert.equal(metricsListener(maddr), undefined);
});

test('HTTP: only /metrics (any query string), 404 elsewhere, HEAD, gzip, process metrics', async () => {
  const maddr = `127.0.0.1:${await freePort()}`;
  await withServer(`.:0 {\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins: [prometheus, whoami] }, async () => {
    const nf = await get(maddr, '/');
    assert.equal(nf.status, 404);
    assert.equal(nf.body, '404 page not found\n');
    assert.equal(nf.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await get(maddr, '/metrics/')).status, 404);
    assert.equal((await get(maddr, '/health')).status, 404);
    const q = await get(maddr, '/metrics?name[]=x');
    assert.equal(q.status, 200);
    assert.equal(q.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    const head = await get(maddr, '/metrics', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const gz = await get(maddr, '/metrics', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const fams = parseExposition(gz.body);
    // prom-client's process collector (process_*) replaces Go's; nodejs_* replace go_*
    for (const n of ['process_cpu_seconds_total', 'process_start_time_seconds', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(fams.has(n), `missing ${n}`);
    }
    assert.ok(![...fams.keys()].some((n) => n.startsWith('go_') || n.startsWith('promhttp_')));
    assert.ok(value(gz.body, 'process_start_time_seconds')! > 1.6e9);
    // families are sorted by name, as client_golang writes them
    const names = [...fams.keys()];
    assert.deepEqual(names, [...names].sort());
  });
});

test('a listen failure is logged and DNS still starts (CoreDNS ignores it)', async () => {
  const mport = await freePort();
  const maddr = `127.0.0.1:${mport}`;
  const dns = await freePort();
  const holder = await serveCorefile(`.:0 {\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins: [prometheus, whoami] });
  try {
    // same address, but as another configured string: uniq by address text lets it try
    const logs = captureLogs();
    let s: TestServer | undefined;
    try {
      s = await serveCorefile(`.:${dns} {\n  prometheus 127.0.0.1:${String(mport).padStart(6, '0')}\n  whoami\n}\n`, { plugins: [prometheus, whoami] });
      assert.equal((await s.query('x.example.', 'A')).rcode, 0);
    } finally {
      logs.restore();
      await s?.close();
    }
    assert.ok(
      logs.lines.includes(`[ERROR] Failed to start metrics handler: listen tcp 127.0.0.1:${mport}: bind: address already in use`),
      logs.lines.join('\n'),
    );
    assert.equal((await get(maddr, '/metrics')).status, 200);
  } finally {
    await holder.close();
  }
});

test('several listen hosts: one server label each, plugin_enabled once per host', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const hosts: PluginDefinition = {
    name: 'twohosts',
    setup(c: Controller): void {
      c.next();
      c.config.listenHosts = ['127.0.0.1', '127.0.0.2'];
    },
  };
  await withServer(`example.org:${dns} {\n  twohosts\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins: [hosts, prometheus, whoami], loopback: false }, async (s) => {
    const a = `dns://127.0.0.1:${dns}`;
    const b = `dns://127.0.0.2:${dns}`;
    assert.equal((await s.query('a.example.org.', 'A', { server: a })).rcode, 0);
    assert.equal((await s.query('b.example.org.', 'A', { server: b })).rcode, 0);
    assert.equal((await s.query('c.example.org.', 'A', { server: b })).rcode, 0);
    const body = await scrape(maddr);
    assert.equal(value(body, 'coredns_dns_responses_total', { server: a, zone: 'example.org.', plugin: 'whoami' }), 1);
    assert.equal(value(body, 'coredns_dns_responses_total', { server: b, zone: 'example.org.', plugin: 'whoami' }), 2);
    const got = samples(body, 'coredns_plugin_enabled')
      .filter((x) => x.labels['server'] === a || x.labels['server'] === b)
      .map((x) => `${x.labels['server']} ${x.labels['name']}`)
      .sort();
    assert.deepEqual(got, [`${a} prometheus`, `${a} whoami`, `${b} prometheus`, `${b} whoami`]);
  });
});
