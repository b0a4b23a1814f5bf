import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
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

/**
 * A UDP upstream that holds its replies until `hold` queries are in (or
 * 300 ms passed), recording the source port and ID of every query.
 */
async function holdingUpstream(hold: number): Promise<{ address: string; seen: { port: number; id: number }[]; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const seen: { port: number; id: number }[] = [];
  let waiting: { m: Buffer; port: number }[] = [];
  const flush = (): void => {
    for (const x of waiting) sock.send(encodeMessage({ ...aReply(decodeMessage(x.m)), id: x.m.readUInt16BE(0) }), x.port, '127.0.0.1');
    waiting = [];
  };
  let timer: NodeJS.Timeout | undefined;
  sock.on('message', (m, rinfo) => {
    seen.push({ port: rinfo.port, id: m.readUInt16BE(0) });
    waiting.push({ m, port: rinfo.port });
    timer ??= setTimeout(() => {
      timer = undefined;
      flush();
    }, 300);
    if (waiting.length >= hold) {
      clearTimeout(timer);
      timer = undefined;
      flush();
    }
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${sock.address().port}`,
    seen,
    close: () => {
      clearTimeout(timer);
      return new Promise<void>((r) => sock.close(() => r()));
    },
  };
}

test('UDP queries share a socket, up to 64 in flight, under IDs unique on it; hits and misses count queries that found a socket or opened one', async () => {
  const up = await holdingUpstream(100);
  const f = await started(`forward . ${up.address}`);
  const p = f.proxies[0]!;
  const labels = { proxy_name: 'forward', to: up.address, proto: 'udp' };
  const hits0 = await metric0('coredns_proxy_conn_cache_hits_total', labels);
  const miss0 = await metric0('coredns_proxy_conn_cache_misses_total', labels);
  const counts = async (): Promise<[number, number]> => [
    (await metric0('coredns_proxy_conn_cache_misses_total', labels)) - miss0,
    (await metric0('coredns_proxy_conn_cache_hits_total', labels)) - hits0,
  ];
  try {
    // one after the other: one socket, as CoreDNS reuses its pooled socket
    for (let i = 0; i < 5; i++) assert.equal((await serveHandler(f, makeQuery(`q${i}.example.org`))).rcode, 0);
    assert.deepEqual(await counts(), [1, 4]);
    assert.deepEqual(p.pool.idle(), { udp: 1, tcp: 0 });
    assert.equal(new Set(up.seen.map((x) => x.port)).size, 1);
    // 100 at once (the upstream answers when all are in): 64 share the socket, the rest share a second one
    up.seen.length = 0;
    const res = await Promise.all(Array.from({ length: 100 }, (_, i) => serveHandler(f, makeQuery(`c${i}.example.org`))));
    assert.ok(res.every((x) => x.rcode === 0 && x.reply?.answers.length === 1));
    assert.deepEqual(await counts(), [2, 103]);
    assert.equal(p.pool.udpSockets(), 2);
    assert.deepEqual(p.pool.idle(), { udp: 2, tcp: 0 });
    const byPort = new Map<number, Set<number>>();
    for (const x of up.seen) {
      const ids = byPort.get(x.port) ?? new Set<number>();
      assert.ok(!ids.has(x.id), `ID ${x.id} twice in flight on port ${x.port}`);
      ids.add(x.id);
      byPort.set(x.port, ids);
    }
    assert.deepEqual([...byPort.values()].map((ids) => ids.size).sort((a, b) => a - b), [36, 64]);
    // sequential queries take the oldest socket
    up.seen.length = 0;
    await serveHandler(f, makeQuery('after.example.org'));
    assert.equal(up.seen[0]!.port, [...byPort.keys()][0]);
  } finally {
    f.onShutdown();
    await up.close();
  }
  assert.deepEqual(p.pool.idle(), { udp: 0, tcp: 0 }, 'shutdown closes the cache');
  assert.equal(p.pool.udpSockets(), 0);
});

test('expire 0: every UDP query has a socket of its own, closed after the reply', async () => {
  const up = await holdingUpstream(3);
  const f = await started(`forward . ${up.address} {\n expire 0s\n}`);
  const labels = { proxy_name: 'forward', to: up.address, proto: 'udp' };
  const miss0 = await metric0('coredns_proxy_conn_cache_misses_total', labels);
  const sockets0 = handles().sockets;
  try {
    await Promise.all([0, 1, 2].map((i) => serveHandler(f, makeQuery(`c${i}.example.org`))));
    await serveHandler(f, makeQuery('d.example.org'));
    assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', labels), miss0 + 4);
    assert.equal(new Set(up.seen.map((x) => x.port)).size, 4);
    assert.equal(f.proxies[0]!.pool.udpSockets(), 0);
    assert.ok((await socketsBackTo(sockets0)) <= sockets0, 'each socket closed after its reply');
  } finally {
    f.onShutdown();
    await up.close();
  }
});

test('max_idle_conns caps the idle sockets kept; max_age and the sweep close old connections', async () => {
  const held = await holdingUpstream(200);
  let f = await started(`forward . ${held.address} {\n max_idle_conns 1\n}`);
  try {
    // 200 at once with no socket open yet: those arriving while one opens wait for it, 64 to a socket
    const res = await Promise.all(Array.from({ length: 200 }, (_, i) => serveHandler(f, makeQuery(`c${i}.example.org`))));
    assert.ok(res.every((x) => x.rcode === 0));
    const perPort = new Map<number, number>();
    for (const x of held.seen) perPort.set(x.port, (perPort.get(x.port) ?? 0) + 1);
    assert.deepEqual([...perPort.values()].sort((a, b) => a - b), [8, 64, 64, 64]);
    assert.deepEqual(f.proxies[0]!.pool.idle(), { udp: 1, tcp: 0 }, 'one kept idle');
    assert.equal(f.proxies[0]!.pool.udpSockets(), 1);
  } finally {
    f.onShutdown();
    await held.close();
  }
  const up = await upstream();
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
