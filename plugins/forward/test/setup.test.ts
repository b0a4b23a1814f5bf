import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogs, startUpstream } from '@tsdns/testing';
import { newReply, RCODE } from '@tsdns/core';
import { Forward, RoundRobinPolicy, SequentialPolicy } from '../src/index.js';
import { rcodeReply, setupError, setupForwards } from './helpers.js';

/** A one-block Corefile; `body` starts on line 2. */
function cf(body: string): string {
  return `.:53 {\n${body}\n}\n`;
}

const E = (line: number, msg: string): string => `plugin/forward: Corefile:${line} - Error during parsing: ${msg}`;
/** A plain (unlocated) CoreDNS error: tsdns puts the current token's FILE:LINE in front. */
const P = (line: number, msg: string): string => `Corefile:${line} - plugin/forward: ${msg}`;

test('setup: defaults', async () => {
  const { forwards } = await setupForwards(cf('forward . 127.0.0.1'));
  assert.equal(forwards.length, 1);
  const f = forwards[0]!;
  assert.equal(f.from, '.');
  assert.deepEqual(f.ignored, []);
  assert.equal(f.maxfails, 2);
  assert.equal(f.expire, 10000);
  assert.equal(f.maxAge, 0);
  assert.equal(f.readTimeout, 2000);
  assert.equal(f.hcInterval, 500);
  assert.equal(f.maxIdleConns, 0);
  assert.equal(f.maxConcurrent, 0);
  assert.equal(f.maxConnectAttemptsSet, false);
  assert.equal(f.dohMethod, 'POST');
  assert.equal(f.policy.name, 'random');
  assert.deepEqual(f.opts, { forceTcp: false, preferUdp: false, hcRecursionDesired: true, hcDomain: '.' });
  assert.equal(f.proxies.length, 1);
  const p = f.proxies[0]!;
  assert.equal(p.addr, '127.0.0.1:53');
  assert.equal(p.protocol, 'dns');
  assert.equal(p.readTimeout, 2000);
  assert.equal(p.pool.expire, 10000);
  assert.equal(p.health.transport, 'udp');
  assert.equal(p.health.recursionDesired, true);
  assert.equal(p.health.domain, '.');
});

test('setup: upstream address forms, schemes, default ports and de-duplication', async () => {
  const { forwards } = await setupForwards(
    cf('forward . 127.0.0.1:8080 [::1]:53 ::2 [2003::1] dns://10.0.0.1 tls://9.9.9.9 https://1.1.1.1 https://[2606:4700::1111]:8443 127.0.0.1:8080 dns://10.0.0.1:53'),
  );
  const f = forwards[0]!;
  assert.deepEqual(
    f.proxies.map((p) => [p.addr, p.protocol]),
    [
      ['127.0.0.1:8080', 'dns'],
      ['[::1]:53', 'dns'],
      ['[::2]:53', 'dns'],
      ['[2003::1]:53', 'dns'],
      ['10.0.0.1:53', 'dns'],
      ['9.9.9.9:853', 'tls'],
      ['1.1.1.1:443', 'https'],
      ['[2606:4700::1111]:8443', 'https'],
    ],
  );
  assert.equal(f.proxies[5]!.health.transport, 'tcp-tls');
  assert.equal(f.proxies[6]!.health.transport, 'https');
  // the same address through another scheme is a duplicate too (first wins)
  const { forwards: f2 } = await setupForwards(cf('forward . tls://127.0.0.1:853 127.0.0.1:853'));
  assert.deepEqual(
    f2[0]!.proxies.map((p) => [p.addr, p.protocol]),
    [['127.0.0.1:853', 'tls']],
  );
});

test('setup: per-upstream TLS server names and tls_servername', async () => {
  const { forwards } = await setupForwards(cf('forward . tls://127.0.0.1%example.net:854 tls://127.0.0.2%example.net tls://[::1%example.com]:853 {\ntls\n}'));
  const ps = forwards[0]!.proxies;
  assert.deepEqual(
    ps.map((p) => [p.addr, p.pool.tls?.servername]),
    [
      ['127.0.0.1:854', 'example.net'],
      ['127.0.0.2:853', 'example.net'],
      ['[::1]:853', 'example.com'],
    ],
  );
  assert.equal(ps[0]!.pool.tls, ps[1]!.pool.tls, 'same server name shares the settings');
  assert.equal(ps[0]!.health.tls?.servername, 'example.net');
  const { forwards: f2 } = await setupForwards(cf('forward . tls://127.0.0.1 https://127.0.0.2 {\ntls_servername dns.example\n}'));
  assert.equal(f2[0]!.proxies[0]!.pool.tls?.servername, 'dns.example');
  assert.equal(f2[0]!.tlsServerName, 'dns.example');
  const { forwards: f3 } = await setupForwards(cf('forward . tls://127.0.0.1'));
  assert.equal(f3[0]!.proxies[0]!.pool.tls?.servername, undefined);
  assert.equal(
    await setupError(cf('forward . tls://127.0.0.1%example.net:854 {\ntls_servername foo\n}')),
    P(4, "both forward ('foo') and proxy level ('example.net') TLS servernames are set for upstream proxy 'tls://127.0.0.1:854'"),
  );
});

test('setup: every block option', async () => {
  const { forwards } = await setupForwards(
    cf(
      [
        'forward example.org 127.0.0.1 {',
        '  except sub.example.org OTHER.example.org',
        '  force_tcp',
        '  prefer_udp',
        '  expire 20s',
        '  max_age 1m',
        '  max_idle_conns 7',
        '  read_timeout 300ms',
        '  max_fails 5',
        '  max_connect_attempts 3',
        '  doh_method GET',
        '  policy round_robin',
        '  health_check 250ms no_rec domain Example.NET',
        '  max_concurrent 10',
        '  next NXDOMAIN servfail NotImpl',
        '  next_on_nodata',
        '  failfast_all_unhealthy_upstreams',
        '  failover SERVFAIL refused',
        '  source_address ::ffff:127.0.0.1',
        '  resolver 127.0.0.1 [::1]:5353',
        '}',
      ].join('\n'),
    ),
  );
  const f = forwards[0]!;
  assert.equal(f.from, 'example.org.');
  assert.deepEqual(f.ignored, ['sub.example.org.', 'other.example.org.']);
  assert.deepEqual(f.opts, { forceTcp: true, preferUdp: true, hcRecursionDesired: false, hcDomain: 'example.net.' });
  assert.equal(f.expire, 20000);
  assert.equal(f.maxAge, 60000);
  assert.equal(f.maxIdleConns, 7);
  assert.equal(f.readTimeout, 300);
  assert.equal(f.maxfails, 5);
  assert.equal(f.maxConnectAttempts, 3);
  assert.equal(f.maxConnectAttemptsSet, true);
  assert.equal(f.dohMethod, 'GET');
  assert.ok(f.policy instanceof RoundRobinPolicy);
  assert.equal(f.hcInterval, 250);
  assert.equal(f.maxConcurrent, 10);
  assert.equal(f.errLimitExceeded, 'concurrent queries exceeded maximum 10');
  assert.deepEqual(f.nextAlternateRcodes, [RCODE.NXDOMAIN, RCODE.SERVFAIL, RCODE.NOTIMP]);
  assert.equal(f.nextOnNodata, true);
  assert.equal(f.failfastUnhealthyUpstreams, true);
  assert.deepEqual(f.failoverRcodes, [RCODE.SERVFAIL, RCODE.REFUSED]);
  assert.equal(f.sourceAddress, '127.0.0.1');
  assert.deepEqual(f.resolver, ['127.0.0.1', '[::1]:5353']);
  const p = f.proxies[0]!;
  assert.equal(p.readTimeout, 300);
  assert.equal(p.pool.expire, 20000);
  assert.equal(p.pool.maxAge, 60000);
  assert.equal(p.pool.maxIdleConns, 7);
  assert.equal(p.pool.localAddress, '127.0.0.1');
  assert.equal(p.health.transport, 'tcp', 'force_tcp moves plain DNS health checks to TCP');
  assert.equal(p.health.recursionDesired, false);
  assert.equal(p.health.domain, 'example.net.');
  // max_age equal to expire is fine, zero is unlimited; policy sequential
  const { forwards: f2 } = await setupForwards(cf('forward . 127.0.0.1 {\nexpire 10s\nmax_age 10s\npolicy sequential\nmax_connect_attempts 0\nhealth_check 1s domain .\n}'));
  assert.equal(f2[0]!.maxAge, 10000);
  assert.ok(f2[0]!.policy instanceof SequentialPolicy);
  assert.equal(f2[0]!.maxConnectAttempts, 0);
  assert.equal(f2[0]!.maxConnectAttemptsSet, true);
  assert.equal(f2[0]!.opts.hcDomain, '.');
});

test('setup: FROM normalisation, reverse CIDR (first zone, with a warning)', async () => {
  const logs = captureLogs();
  try {
    const { forwards } = await setupForwards(cf('forward 10.9.3.0/18 127.0.0.1\nforward Example.COM 127.0.0.1\nforward 10.0.0.0/8 127.0.0.1'));
    assert.deepEqual(
      forwards.map((f) => f.from),
      ['0.9.10.in-addr.arpa.', 'example.com.', '10.in-addr.arpa.'],
    );
    assert.deepEqual(
      logs.lines.filter((l) => l.includes('CIDR')),
      ["[WARNING] plugin/forward: Unsupported CIDR notation: '10.9.3.0/18' expands to multiple zones. Using only '0.9.10.in-addr.arpa.'."],
    );
  } finally {
    logs.restore();
  }
});

test('setup: several forward lines are chained in Corefile order', async () => {
  const { forwards, instance } = await setupForwards(cf('forward 1st.example.org 10.0.0.1\nforward 2nd.example.org 10.0.0.2\nforward 3rd.example.org 10.0.0.3\nwhoami'));
  assert.deepEqual(
    forwards.map((f) => f.from),
    ['1st.example.org.', '2nd.example.org.', '3rd.example.org.'],
  );
  const hs = instance.configs[0]!.handlers;
  assert.deepEqual(
    hs.map((h) => h.name),
    ['forward', 'forward', 'forward', 'whoami'],
  );
  assert.equal(forwards[0]!.next, forwards[1]);
  assert.equal(forwards[1]!.next, forwards[2]);
  assert.equal(forwards[2]!.next, hs[3]);
  assert.ok(!(forwards[2]!.next instanceof Forward));
});

test('setup: resolv.conf files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fwd-resolv-'));
  try {
    const resolv = join(dir, 'resolv.conf');
    writeFileSync(resolv, '# comment\nsearch example.org\nnameserver 10.10.255.252\n  nameserver   10.10.255.253  # trailing\noptions ndots:2\n');
    const v6 = join(dir, 'resolv-ipv6.conf');
    writeFileSync(v6, 'nameserver 0388:d254:7aec:6892:9f7f:e93b:5806:1b0f%en0\n');
    const empty = join(dir, 'empty.conf');
    writeFileSync(empty, '# nameserver 1.1.1.1\n# nameserver 1.0.0.1\n');
    let { forwards } = await setupForwards(cf(`forward . ${resolv}`));
    assert.deepEqual(
      forwards[0]!.proxies.map((p) => p.addr),
      ['10.10.255.252:53', '10.10.255.253:53'],
    );
    assert.equal(forwards[0]!.toEntries, 1, 'a file is one TO entry');
    ({ forwards } = await setupForwards(cf(`forward . ${v6}`)));
    assert.deepEqual(
      forwards[0]!.proxies.map((p) => p.addr),
      ['[0388:d254:7aec:6892:9f7f:e93b:5806:1b0f]:53'],
    );
    ({ forwards } = await setupForwards(cf(`forward . ${empty} 127.0.0.1`)));
    assert.deepEqual(
      forwards[0]!.proxies.map((p) => p.addr),
      ['127.0.0.1:53'],
    );
    assert.equal(await setupError(cf(`forward . ${empty}`)), P(2, 'no valid upstream addresses found'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setup: host names are resolved once, with the resolver option (A then AAAA)', async () => {
  const up = await startUpstream((q) => {
    const qq = q.questions[0]!;
    if (qq.name === 'dns.example.test.' && qq.type === 'A') {
      const m = newReply(q);
      m.answers.push({ name: qq.name, type: 'A', class: 'IN', ttl: 5, data: '10.0.0.7' }, { name: qq.name, type: 'A', class: 'IN', ttl: 5, data: '10.0.0.8' });
      return m;
    }
    if (qq.name === 'dns.example.test.' && qq.type === 'AAAA') {
      const m = newReply(q);
      m.answers.push({ name: qq.name, type: 'AAAA', class: 'IN', ttl: 5, data: '2001:db8::7' });
      return m;
    }
    return rcodeReply(q, RCODE.NXDOMAIN);
  });
  try {
    const { forwards } = await setupForwards(cf(`forward . dns.example.test tls://dns.example.test%sni.test:8853 10.0.0.7 {\nresolver ${up.address}\n}`));
    assert.deepEqual(
      forwards[0]!.proxies.map((p) => [p.addr, p.protocol, p.pool.tls?.servername]),
      [
        ['10.0.0.7:53', 'dns', undefined],
        ['10.0.0.8:53', 'dns', undefined],
        ['[2001:db8::7]:53', 'dns', undefined],
        ['10.0.0.7:8853', 'tls', 'sni.test'],
        ['10.0.0.8:8853', 'tls', 'sni.test'],
        ['[2001:db8::7]:8853', 'tls', 'sni.test'],
      ],
    );
    assert.deepEqual(
      up.requests.map((r) => r.msg.questions[0]!.type),
      ['A', 'AAAA', 'A', 'AAAA'],
    );
    assert.equal(
      await setupError(cf(`forward . a27.0.0.1 {\nresolver ${up.address}\n}`)),
      P(4, 'failed to resolve "a27.0.0.1": no addresses found for "a27.0.0.1"'),
    );
  } finally {
    await up.close();
  }
  // the system resolver knows localhost
  const { forwards } = await setupForwards(cf('forward . localhost:5353'));
  const addrs = forwards[0]!.proxies.map((p) => p.addr);
  assert.ok(addrs.includes('127.0.0.1:5353') || addrs.includes('[::1]:5353'), addrs.join(' '));
});

test('setup: error texts', async () => {
  const long = 'x'.repeat(64);
  const cases: [string, string][] = [
    ['forward', E(2, "Wrong argument count or unexpected line ending after 'forward'")],
    ['forward .', E(2, "Wrong argument count or unexpected line ending after '.'")],
    [`forward ${long} 127.0.0.1`, P(2, `unable to normalize '${long}'`)],
    ['forward . 127.0.0.1 {\nblaatl\n}', E(3, "unknown property 'blaatl'")],
    ['forward . 127.0.0.1 {\nmax_fails 3 4\n}', E(3, "unknown property '4'")],
    ['forward . https://1.1.1.1/', P(2, 'paths are not allowed in HTTPS upstream addresses (the /dns-query path is used by default): https://1.1.1.1/')],
    ['forward . grpc://1.2.3.4', P(2, "'grpc' is not supported as a destination protocol in forward: grpc://1.2.3.4:443")],
    [`forward . ${long}.example`, P(2, `not an IP address, file, or valid domain: "${long}.example"`)],
    ['forward . 127.0.0.1 {\nexcept\n}', E(3, "Wrong argument count or unexpected line ending after 'except'")],
    ['forward . 127.0.0.1 {\nhealth_check 0.5s domain\n}', E(3, "Wrong argument count or unexpected line ending after 'domain'")],
    ['forward . 127.0.0.1 {\nhealth_check no_rec\n}', P(3, 'time: invalid duration "no_rec"')],
    ['forward . 127.0.0.1 {\nhealth_check 0.5s rec\n}', P(3, 'health_check: unknown option rec')],
    ['forward . 127.0.0.1 {\nhealth_check 0.5s domain example..org\n}', P(3, 'health_check: invalid domain name example..org')],
    ['forward . 127.0.0.1 {\nhealth_check -1s\n}', P(3, "health_check can't be negative: -1000000000")],
    ['forward . 127.0.0.1 {\nmax_fails many\n}', P(3, 'strconv.ParseUint: parsing "many": invalid syntax')],
    ['forward . 127.0.0.1 {\nmax_fails -1\n}', P(3, 'strconv.ParseUint: parsing "-1": invalid syntax')],
    ['forward . 127.0.0.1 {\nmax_connect_attempts 4294967296\n}', P(3, 'strconv.ParseUint: parsing "4294967296": value out of range')],
    ['forward . 127.0.0.1 {\nmax_concurrent many\n}', P(3, 'strconv.Atoi: parsing "many": invalid syntax')],
    ['forward . 127.0.0.1 {\nmax_concurrent -4\n}', P(3, "max_concurrent can't be negative: -4")],
    ['forward . 127.0.0.1 {\nmax_idle_conns -1\n}', P(3, "max_idle_conns can't be negative: -1")],
    ['forward . 127.0.0.1 {\nexpire -1s\n}', P(3, "expire can't be negative: -1s")],
    ['forward . 127.0.0.1 {\nexpire 1x\n}', P(3, 'time: unknown unit "x" in duration "1x"')],
    ['forward . 127.0.0.1 {\nmax_age -1s\n}', P(3, "max_age can't be negative: -1s")],
    ['forward . 127.0.0.1 {\nmax_age invalid\n}', P(3, 'time: invalid duration "invalid"')],
    ['forward . 127.0.0.1 {\nexpire 30s\nmax_age 10s\n}', P(5, 'max_age (10s) must not be less than expire (30s)')],
    ['forward . 127.0.0.1 {\nread_timeout 0s\n}', P(3, 'read_timeout must be positive: 0s')],
    ['forward . 127.0.0.1 {\nread_timeout -1s\n}', P(3, 'read_timeout must be positive: -1s')],
    ['forward . 127.0.0.1 {\nread_timeout\n}', E(3, "Wrong argument count or unexpected line ending after 'read_timeout'")],
    ['forward . 127.0.0.1 {\ndoh_method PUT\n}', P(3, 'doh_method must be either POST or GET')],
    ['forward . 127.0.0.1 {\npolicy foo\n}', E(3, "unknown policy 'foo'")],
    ['forward . 127.0.0.1 {\nnext\n}', E(3, "Wrong argument count or unexpected line ending after 'next'")],
    ['forward . 127.0.0.1 {\nnext NXDOMAIN INVALID\n}', P(3, 'INVALID is not a valid rcode')],
    ['forward . 127.0.0.1 {\nnext BADVERS\n}', P(3, 'BADVERS is not a valid rcode')],
    ['forward . 127.0.0.1 {\nnext_on_nodata yes\n}', E(3, "Wrong argument count or unexpected line ending after 'yes'")],
    ['forward . 127.0.0.1 {\nfailover NOERROR\n}', P(3, 'NoError cannot be used in failover')],
    ['forward . 127.0.0.1 {\nfailover NOT_A_VALID_RCODE\n}', P(3, 'NOT_A_VALID_RCODE is not a valid rcode')],
    ['forward . 127.0.0.1 {\nfailfast_all_unhealthy_upstreams false\n}', E(3, "Wrong argument count or unexpected line ending after 'false'")],
    ['forward . 127.0.0.1 {\nforce_tcp x\n}', E(3, "Wrong argument count or unexpected line ending after 'x'")],
    ['forward . 127.0.0.1 {\nprefer_udp x\n}', E(3, "Wrong argument count or unexpected line ending after 'x'")],
    ['forward . 127.0.0.1 {\nsource_address not-an-ip\n}', E(3, 'invalid IP address: not-an-ip')],
    ['forward . 127.0.0.1 {\nsource_address\n}', E(3, "Wrong argument count or unexpected line ending after 'source_address'")],
    ['forward . 127.0.0.1 {\nresolver foo:53\n}', P(3, 'resolver must be an IP address or IP:port: "foo:53"')],
    ['forward . 127.0.0.1 {\nresolver\n}', E(3, "Wrong argument count or unexpected line ending after 'resolver'")],
    ['forward . 127.0.0.1 {\ntls a b c d\n}', E(3, "Wrong argument count or unexpected line ending after 'd'")],
    ['forward . 127.0.0.1 {\ntls /nonexistent/ca.pem\n}', P(3, 'error reading /nonexistent/ca.pem: open /nonexistent/ca.pem: no such file or directory')],
    ['forward . 127.0.0.1 {\ntls /nonexistent/c.pem /nonexistent/k.pem\n}', P(3, 'could not load TLS cert: open /nonexistent/c.pem: no such file or directory')],
    ['forward . 127.0.0.1 {\ntls_servername\n}', E(3, "Wrong argument count or unexpected line ending after 'tls_servername'")],
    [`forward . ${Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(' ')}`, P(2, 'more than 15 TOs configured: 16')],
    // a later stanza's error is reported even when an earlier one is fine
    ['forward . 127.0.0.1\nforward example.org 127.0.0.2 {\nmax_fails x\n}', P(4, 'strconv.ParseUint: parsing "x": invalid syntax')],
  ];
  for (const [body, want] of cases) assert.equal(await setupError(cf(body)), want, body);
});

test('setup: 15 upstreams are fine; a CA file without certificates is not', async () => {
  const { forwards } = await setupForwards(cf(`forward . ${Array.from({ length: 15 }, (_, i) => `10.0.0.${i + 1}`).join(' ')}`));
  assert.equal(forwards[0]!.proxies.length, 15);
  const dir = mkdtempSync(join(tmpdir(), 'fwd-ca-'));
  try {
    const bad = join(dir, 'ca.pem');
    writeFileSync(bad, 'not a certificate\n');
    assert.equal(await setupError(cf(`forward . tls://127.0.0.1 {\ntls ${bad}\n}`)), P(3, 'could not read root certs: %!s(<nil>)'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
