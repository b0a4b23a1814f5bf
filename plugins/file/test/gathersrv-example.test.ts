/**
 * examples/gathersrv: the cluster zones of the gathersrv scenario, served
 * with the example's own Corefile and queried over UDP.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RCODE } from '@tsdns/core';
import bind from '@tsdns/plugin-bind';
import errors from '@tsdns/plugin-errors';
import log from '@tsdns/plugin-log';
import { captureLogs, serveCorefile, type CapturedLogs, type TestServer } from '@tsdns/testing';
import file from '../src/index.js';
import { example, reply, rrs } from './helpers.js';

let srv: TestServer;
let logs: CapturedLogs;

before(async () => {
  // the example's Corefile, on a free port and with absolute zone paths
  const corefile = readFileSync(example('gathersrv/Corefile.clusters'), 'utf8')
    .replace(/:1054/g, ':0')
    .replace(/file (\S+\.db)/g, (_m, f: string) => `file ${example(`gathersrv/${f}`)}`);
  logs = captureLogs();
  srv = await serveCorefile(corefile, { plugins: [bind, errors, log, file] });
});

after(async () => {
  await srv?.close();
  logs?.restore();
});

for (const [cluster, ip, ip6] of [
  ['cluster-a', '10.8.1.2', 'fd00:10:8::102'],
  ['cluster-b', '10.9.1.2', 'fd00:10:9::102'],
] as const) {
  test(`SRV of the headless service in ${cluster}.local. with the pods' addresses`, async () => {
    const r = reply((await srv.query(`_demo._tcp.demo-service.default.svc.${cluster}.local`, 'SRV')).msg);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(r.aa, true);
    assert.deepEqual(
      r.answer,
      rrs(
        `_demo._tcp.demo-service.default.svc.${cluster}.local. 30 SRV 0 50 8080 demo-service-0.default.svc.${cluster}.local.`,
        `_demo._tcp.demo-service.default.svc.${cluster}.local. 30 SRV 0 50 8080 demo-service-1.default.svc.${cluster}.local.`,
      ),
    );
    assert.deepEqual(r.ns, rrs(`${cluster}.local. 30 NS ns.${cluster}.local.`));
    assert.deepEqual(
      r.extra,
      rrs(`demo-service-0.default.svc.${cluster}.local. 30 A ${ip}`, `demo-service-1.default.svc.${cluster}.local. 30 A ${ip}`),
    );
  });

  test(`A, AAAA and TXT of the service in ${cluster}.local.; NXDOMAIN for an unknown service`, async () => {
    const svc = `demo-service.default.svc.${cluster}.local`;
    assert.deepEqual(reply((await srv.query(svc, 'A')).msg).answer, rrs(`${svc}. 30 A ${ip}`));
    assert.deepEqual(reply((await srv.query(svc, 'AAAA')).msg).answer, rrs(`${svc}. 30 AAAA ${ip6}`));
    assert.deepEqual(reply((await srv.query(svc, 'TXT', { tcp: true })).msg).answer, rrs(`${svc}. 30 TXT "cluster=${cluster}" "service=demo-service"`));
    const nx = reply((await srv.query(`_demo._tcp.other.default.svc.${cluster}.local`, 'SRV')).msg);
    assert.equal(nx.rcode, RCODE.NXDOMAIN);
    assert.deepEqual(nx.ns, rrs(`${cluster}.local. 30 SOA ns.${cluster}.local. hostmaster.${cluster}.local. 2024010101 7200 3600 1209600 30`));
  });
}

test('names outside the cluster zones are refused', async () => {
  const r = await srv.query('_demo._tcp.demo-service.default.svc.distributed.local', 'SRV');
  assert.equal(r.msg.flags & 0xf, RCODE.REFUSED);
});
