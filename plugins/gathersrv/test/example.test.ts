/**
 * The examples/gathersrv scenario, run by the real `tsdns` executable (with
 * the repository's plugin.cfg): both cluster zones served by the file plugin
 * and the distributed domain by gathersrv + forward, in one Corefile. The
 * ports (1053/1054) are swapped for free ones and the zone file paths made
 * absolute, nothing else changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RCODE } from '@tsdns/core';
import { freePort, REPO_ROOT, spawnTsdns } from '@tsdns/testing';
import { text } from './helpers.js';

const DIR = join(REPO_ROOT, 'examples', 'gathersrv');

test("examples/gathersrv: the README's query gets the README's merged answer from the real tsdns", async () => {
  const [front, clusters] = [await freePort(), await freePort()];
  const corefile = readFileSync(join(DIR, 'Corefile'), 'utf8')
    .replaceAll(':1053', `:${front}`)
    .replaceAll(':1054', `:${clusters}`)
    .replaceAll('examples/gathersrv/', `${DIR}/`);
  const p = await spawnTsdns(corefile, { port: front });
  try {
    const r = await p.query('_demo._tcp.demo-service.default.svc.distributed.local', 'SRV');
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(text(r.msg.answers), [
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 a-demo-service-0.default.svc.distributed.local.',
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 a-demo-service-1.default.svc.distributed.local.',
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 b-demo-service-0.default.svc.distributed.local.',
      '_demo._tcp.demo-service.default.svc.distributed.local. 30 IN SRV 0 50 8080 b-demo-service-1.default.svc.distributed.local.',
    ]);
    assert.deepEqual(text(r.msg.additionals), [
      'a-demo-service-0.default.svc.distributed.local. 30 IN A 10.8.1.2',
      'a-demo-service-1.default.svc.distributed.local. 30 IN A 10.8.1.2',
      'b-demo-service-0.default.svc.distributed.local. 30 IN A 10.9.1.2',
      'b-demo-service-1.default.svc.distributed.local. 30 IN A 10.9.1.2',
    ]);

    // the host names resolve through the same server, routed by prefix
    const host = await p.query('b-demo-service-1.default.svc.distributed.local', 'A');
    assert.deepEqual(text(host.msg.answers), ['b-demo-service-1.default.svc.distributed.local. 30 IN A 10.9.1.2']);

    // TXT of the service name: both clusters, owned by the asked name
    const txt = await p.query('demo-service.default.svc.distributed.local', 'TXT');
    assert.deepEqual(text(txt.msg.answers), [
      'demo-service.default.svc.distributed.local. 30 IN TXT "cluster=cluster-a" "service=demo-service"',
      'demo-service.default.svc.distributed.local. 30 IN TXT "cluster=cluster-b" "service=demo-service"',
    ]);

    // a name no cluster has: NXDOMAIN with the SOA moved into the distributed domain
    const nx = await p.query('nothing.default.svc.distributed.local', 'A');
    assert.equal(nx.rcode, RCODE.NXDOMAIN);
    assert.deepEqual(text(nx.msg.authorities), ['distributed.local. 30 IN SOA ns.distributed.local. hostmaster.distributed.local. 2024010101 7200 3600 1209600 30']);
  } finally {
    p.kill('SIGTERM');
    await p.waitForExit();
  }
});
