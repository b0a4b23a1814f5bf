/**
 * examples/Corefile.kubernetes-default (kubeadm's Corefile without the
 * kubernetes block) runs unchanged on the real tsdns: only its ports and the
 * resolv.conf it forwards to are swapped for test ones.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newReply, type RR } from '@tsdns/core';
import { freePort, httpGet, makeQuery, queryUdp, queryTcp, REPO_ROOT, spawnTsdns, startUpstream, type TsdnsProcess, type Upstream } from '@tsdns/testing';

let proc: TsdnsProcess | undefined;
let up: Upstream | undefined;
after(async () => {
  proc?.kill('SIGKILL');
  await up?.close();
});

test('the kubeadm-style Corefile starts and serves: forward, cache, health, ready, metrics', async () => {
  up = await startUpstream((q) => {
    const m = newReply(q);
    m.flags |= 0x0080; // RA
    m.answers.push({ name: q.questions[0]!.name, type: 'A', class: 'IN', ttl: 300, data: '192.0.2.80' });
    return m;
  });
  const [dns, health, ready, metrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-k8s-default-'));
  writeFileSync(join(dir, 'resolv.conf'), `# test resolver\nnameserver 127.0.0.1\n`);
  let text = readFileSync(join(REPO_ROOT, 'examples', 'Corefile.kubernetes-default'), 'utf8');
  text = text
    .replace('.:53 {', `.:${dns} {\n    bind 127.0.0.1`)
    .replace('    health {', `    health 127.0.0.1:${health} {`)
    .replace('    ready\n', `    ready 127.0.0.1:${ready}\n`)
    .replace('prometheus :9153', `prometheus 127.0.0.1:${metrics}`)
    .replace('forward . /etc/resolv.conf', `forward . 127.0.0.1:${up.port}`);
  proc = await spawnTsdns(text, { port: dns });

  const a = await queryUdp('127.0.0.1', dns, makeQuery('svc.example.com.', 'A'));
  assert.equal((a.msg.answers[0] as RR).data, '192.0.2.80');
  assert.equal((a.msg.answers[0] as RR).ttl, 30, 'cache 30 caps the TTL');
  const b = await queryTcp('127.0.0.1', dns, makeQuery('svc.example.com.', 'A'));
  assert.equal((b.msg.answers[0] as RR).data, '192.0.2.80');
  // (spawnTsdns's readiness probe went upstream too)
  assert.equal(up.requests.filter((r) => r.msg.questions[0]?.name === 'svc.example.com.').length, 1, 'the second query was a cache hit');
  assert.equal(b.msg.flags & 0x0400, 0x0400, 'hits are authoritative (AA), as in CoreDNS');

  assert.deepEqual([(await httpGet(`127.0.0.1:${health}`, '/health')).status, (await httpGet(`127.0.0.1:${health}`, '/health')).body], [200, 'OK']);
  assert.equal((await httpGet(`127.0.0.1:${ready}`, '/ready')).status, 200);
  const m = (await httpGet(`127.0.0.1:${metrics}`, '/metrics')).body;
  // one query over TCP (the UDP ones include spawnTsdns's readiness probe)
  assert.match(m, new RegExp(`coredns_dns_requests_total\\{server="dns://127\\.0\\.0\\.1:${dns}",zone="\\.",view="",proto="tcp",family="1",type="A"\\} 1`));
  assert.match(m, /coredns_cache_hits_total\{server="[^"]+",type="success",zones="\.",view=""\} 1/);
  assert.match(m, /coredns_proxy_request_duration_seconds_count\{[^}]*rcode="NOERROR"[^}]*\} 2/); // the probe and the miss
});
