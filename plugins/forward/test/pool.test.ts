import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { decodeMessage, encodeMessage } from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import type { Forward } from '../src/index.js';
import { aReply, handles, metric0, setupForwards, sleep, socketsBackTo, upstream, waitFor } from './helpers.js';

let baseline = 0;
before(() => {
  baseline = handles().sockets;
});
after(async () => {
  assert.equal(await socketsBackTo(baseline), baseline, 'no sockets left open');
});

async function started(body: string): Promise<Forward> {
  const { forwards } = await setupForwards(`.:53 {\n${body}\n}`);
  forwards[0]!.onStartup();
  return forwards[0]!;
}

test('UDP sockets are reused, oldest first; cache hits and misses are counted', async () => {
  const up = await upstream((q) => aReply(q));
  const f = await started(`forward . ${up.address}`);
  const p = f.proxies[0]!;
  const labels = { proxy_name: 'forward', to: up.address, proto: 'udp' };
  const hits0 = await metric0('coredns_proxy_conn_cache_hits_total', labels);
  const miss0 = await metric0('coredns_proxy_conn_cache_misses_total', labels);
  try {
    for (let i = 0; i < 5; i++) assert.equal((await serveHandler(f, makeQuery(`q${i}.example.org`))).rcode, 0);
    assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', labels), miss0 + 1);
    assert.equal(await metric0('coredns_proxy_conn_cache_hits_total', labels), hits0 + 4);
    assert.deepEqual(p.pool.idle(), { udp: 1, tcp: 0 });
    // three at once: three sockets; then sequential queries take the oldest idle one first
    await Promise.all([0, 1, 2].map((i) => serveHandler(f, makeQuery(`c${i}.example.org`))));
    assert.equal(p.pool.idle().udp, 3);
    assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', labels), miss0 + 3);
  } finally {
    f.onShutdown();
    await up.stop();
  }
  assert.deepEqual(p.pool.idle(), { udp: 0, tcp: 0 }, 'shutdown closes the cache');
});

test('expire 0 never reuses; max_idle_conns caps the cache; max_age and the sweep close old connections', async () => {
  const up = await upstream();
  let f = await started(`forward . ${up.address} {\n expire 0s\n}`);
  try {
    const labels = { proxy_name: 'forward', to: up.address, proto: 'udp' };
    const miss0 = await metric0('coredns_proxy_conn_cache_misses_total', labels);
    await serveHandler(f, makeQuery('a.example.org'));
    await sleep(2);
    await serveHandler(f, makeQuery('b.example.org'));
    assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', labels), miss0 + 2);
  } finally {
    f.onShutdown();
  }
  f = await started(`forward . ${up.address} {\n max_idle_conns 1\n}`);
  try {
    await Promise.all([0, 1, 2].map((i) => serveHandler(f, makeQuery(`c${i}.example.org`))));
    assert.equal(f.proxies[0]!.pool.idle().udp, 1);
  } finally {
    f.onShutdown();
  }
  f = await started(`forward . ${up.address} {\n expire 40ms\n max_age 40ms\n}`);
  const pool = f.proxies[0]!.pool;
  try {
    await serveHandler(f, makeQuery('a.example.org'));
    assert.equal(pool.idle().udp, 1);
    await sleep(60);
    pool.cleanup(false); // what the 10 s sweep does
    assert.equal(pool.idle().udp, 0, 'idle longer than expire: closed');
    pool.expire = 10_000;
    pool.maxAge = 150;
    const udp = { proto: 'udp', proxy_name: 'forward', to: up.address };
    const tB = performance.now();
    await serveHandler(f, makeQuery('b.example.org'));
    const hits = await metric0('coredns_proxy_conn_cache_hits_total', udp);
    await serveHandler(f, makeQuery('c.example.org'));
    const tC = performance.now();
    if (tC - tB < 100) assert.equal(await metric0('coredns_proxy_conn_cache_hits_total', udp), hits + 1, 'younger than max_age: reused');
    assert.equal(pool.idle().udp, 1);
    await waitFor(() => performance.now() > tC + 160, 1000);
    const miss = await metric0('coredns_proxy_conn_cache_misses_total', udp);
    await serveHandler(f, makeQuery('d.example.org'));
    assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', udp), miss + 1, 'older than max_age: not reused');
  } finally {
    f.onShutdown();
    await up.stop();
  }
});

test('TCP connections are reused; one closed by the upstream while idle is dropped, not used', async () => {
  let conns = 0;
  const open = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    conns++;
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      const q = decodeMessage(d.subarray(2));
      const b = encodeMessage(aReply(q));
      const fr = Buffer.alloc(b.length + 2);
      fr.writeUInt16BE(b.length, 0);
      b.copy(fr, 2);
      sock.write(fr);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  const f = await started(`forward . 127.0.0.1:${port}`);
  const w = (): TestWriter => new TestWriter({ proto: 'tcp' });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await serveHandler(f, makeQuery(`q${i}.example.org`), { writer: w() })).rcode, 0);
    assert.equal(conns, 1);
    assert.equal(f.proxies[0]!.pool.idle().tcp, 1);
    for (const s of open) s.end(); // the upstream's idle timeout
    await sleep(30);
    const res = await serveHandler(f, makeQuery('again.example.org'), { writer: w() });
    assert.equal(res.rcode, 0, String(res.error));
    assert.equal(conns, 2);
  } finally {
    f.onShutdown();
    for (const s of open) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('after shutdown nothing is left: no sockets, no timers; dialing fails', async () => {
  const timers0 = handles().timers;
  const up = await upstream();
  const f = await started(`forward . ${up.address} {\n force_tcp\n}`);
  try {
    assert.equal(handles().timers, timers0, 'the sweep and health timers do not hold the process');
    await serveHandler(f, makeQuery('example.org'));
  } finally {
    f.onShutdown();
  }
  const res = await serveHandler(f, makeQuery('example.org'));
  assert.equal((res.error as Error).message, 'proxy: transport stopped');
  await up.stop();
  await waitFor(() => handles().timers <= timers0, 1000, 'timers to go');
});
