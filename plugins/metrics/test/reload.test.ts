import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Instance } from '@tsdns/core';
import { freePort, queryUdp, serveCorefile } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import prometheus, { metricsListener, runningListeners } from '../src/index.js';
import { answering, get, refused, reloadInput, samples, value } from './helpers.js';

const chaos = answering('chaos');
const plugins = [prometheus, chaos, whoami];

async function stop(inst: Instance): Promise<void> {
  await inst.stopListeners(0);
  await inst.lifecycle.runAll('shutdown');
  await inst.lifecycle.runAll('finalShutdown');
}

function enabled(body: string, port: number): string[] {
  return samples(body, 'coredns_plugin_enabled', { server: `dns://127.0.0.1:${port}` })
    .map((x) => `${x.labels['zone']} ${x.labels['name']}`)
    .sort();
}

test('reload: the listener is stopped by the old instance and started by the new one, one per address; plugin_enabled is reset', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const s = await serveCorefile(`example.org:${dns} {\n  prometheus ${maddr}\n  chaos\n}\nexample.com:${dns} {\n  prometheus ${maddr}\n  whoami\n}\n`, { plugins });
  let inst: Instance = s.instance;
  try {
    const before = metricsListener(maddr);
    assert.ok(before);
    assert.deepEqual(enabled((await get(maddr, '/metrics')).body, dns), ['example.com. prometheus', 'example.com. whoami', 'example.org. chaos', 'example.org. prometheus']);

    inst = await inst.restart(reloadInput(`example.com:${dns} {\n  prometheus ${maddr}\n  whoami\n}\n`, plugins));
    const after = metricsListener(maddr);
    assert.ok(after && after !== before, 'a new listener');
    assert.equal(before.server.listening, false, 'the old listener is closed');
    assert.deepEqual(runningListeners().filter((a) => a === maddr), [maddr]);

    // DNS kept its socket; the new chain counts
    const r = await queryUdp('127.0.0.1', dns, (await import('@tsdns/testing')).makeQuery('www.example.com.', 'A'));
    assert.equal(r.rcode, 0);
    const body = (await get(maddr, '/metrics')).body;
    assert.deepEqual(enabled(body, dns), ['example.com. prometheus', 'example.com. whoami'], 'chaos is gone after the reset');
    assert.equal(value(body, 'coredns_dns_responses_total', { server: `dns://127.0.0.1:${dns}`, zone: 'example.com.', plugin: 'whoami' }), 1);

    // reload to another address: the old one closes
    const maddr2 = `127.0.0.1:${await freePort()}`;
    inst = await inst.restart(reloadInput(`example.com:${dns} {\n  prometheus ${maddr2}\n  whoami\n}\n`, plugins));
    assert.equal(metricsListener(maddr), undefined);
    assert.ok(await refused(maddr));
    assert.equal((await get(maddr2, '/metrics')).status, 200);

    // reload without prometheus: no listener at all
    inst = await inst.restart(reloadInput(`example.com:${dns} {\n  whoami\n}\n`, plugins));
    assert.equal(metricsListener(maddr2), undefined);
    assert.ok(await refused(maddr2));
  } finally {
    await stop(inst);
  }
});

test('reload failure: the old instance restarts its listener and re-sets plugin_enabled', async () => {
  const dns = await freePort();
  const maddr = `127.0.0.1:${await freePort()}`;
  const s = await serveCorefile(`.:${dns} {\n  prometheus ${maddr}\n  chaos\n}\n`, { plugins });
  try {
    await assert.rejects(s.instance.restart(reloadInput(`.:${dns} {\n  prometheus ${maddr} extra\n  chaos\n}\n`, plugins)), /Wrong argument count/);
    const l = metricsListener(maddr);
    assert.ok(l && l.server.listening);
    const body = (await get(maddr, '/metrics')).body;
    assert.deepEqual(enabled(body, dns), ['. chaos', '. prometheus']);
  } finally {
    await s.close();
  }
  assert.equal(metricsListener(maddr), undefined);
  assert.ok(await refused(maddr));
});
