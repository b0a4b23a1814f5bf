/**
 * UDP sockets shared by queries (UdpMux): what one query sees is what it would
 * see on a socket of its own, including replies that come after it gave up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { decodeMessage, encodeMessage, signalSource, WireReply, type Msg } from '@tsdns/core';
import { makeQuery } from '@tsdns/testing';
import { MUX_MAX_SET_ASIDE, UdpMux, type MuxSink } from '../src/mux.js';
import type { Reply } from '../src/conn.js';
import { aReply, handles, sleep, socketsBackTo } from './helpers.js';

let baseline = 0;
before(() => {
  baseline = handles().sockets;
});
after(async () => {
  assert.equal(await socketsBackTo(baseline), baseline, 'no sockets left open');
});

/** An upstream that answers only when told to: its queries wait in `got`. */
async function silentUpstream(): Promise<{ port: number; got: { q: Msg; port: number }[]; answer(i: number, ip?: string): void; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const got: { q: Msg; port: number }[] = [];
  sock.on('message', (m, rinfo) => got.push({ q: decodeMessage(m), port: rinfo.port }));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    port: sock.address().port,
    got,
    answer: (i, ip) => sock.send(encodeMessage(aReply(got[i]!.q, ip)), got[i]!.port, '127.0.0.1'),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

const sink: MuxSink = { muxReplied: () => undefined };

function send(m: UdpMux, name: string, id: number, timeoutMs = 2000, signal?: AbortSignal): Promise<Reply> {
  const q = makeQuery(name);
  q.id = id;
  return m.exchange(encodeMessage(q), id, 512, timeoutMs, signal && signalSource(signal), sink, 0, performance.now());
}

function answerOf(r: Reply): string {
  const m = r instanceof WireReply ? r.toMsg() : r;
  const a = m.answers[0];
  return a !== undefined && 'data' in a ? String(a.data) : '';
}

test('replies are matched by ID; one that comes after its query timed out is not taken for the next query', async () => {
  const up = await silentUpstream();
  const m = await UdpMux.open('127.0.0.1', up.port, `127.0.0.1:${up.port}`, undefined);
  try {
    await assert.rejects(send(m, 'late.example.org', 0x1111, 50), /^UpstreamError: read udp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: i\/o timeout$/);
    assert.notEqual(m.freeId(0x1111), 0x1111, 'the ID of the query that timed out is set aside');
    assert.equal(m.freeId(0x2222), 0x2222);
    // two queries in flight: answers in reverse order reach the right query
    const a = send(m, 'a.example.org', 0x2222);
    const b = send(m, 'b.example.org', 0x3333);
    await waitForQueries(up, 3);
    up.answer(0, '192.0.2.99'); // the late reply (ID 0x1111): ignored
    up.answer(2, '192.0.2.3');
    up.answer(1, '192.0.2.2');
    assert.equal(answerOf(await a), '192.0.2.2');
    assert.equal(answerOf(await b), '192.0.2.3');
    assert.equal(m.size, 0);
    // a cancelled query's ID is set aside too
    const ac = new AbortController();
    const c = send(m, 'c.example.org', 0x4444, 2000, ac.signal);
    ac.abort();
    await assert.rejects(c, /context canceled/);
    assert.notEqual(m.freeId(0x4444), 0x4444);
  } finally {
    m.close();
    await up.close();
  }
});

test(`a socket that set aside ${MUX_MAX_SET_ASIDE} IDs takes no more queries and closes when the last one is settled`, async () => {
  const up = await silentUpstream();
  const m = await UdpMux.open('127.0.0.1', up.port, `127.0.0.1:${up.port}`, undefined);
  try {
    const all = Array.from({ length: MUX_MAX_SET_ASIDE - 1 }, (_, i) => send(m, `t${i}.example.org`, i, 30).catch(() => 'timeout'));
    assert.deepEqual(new Set(await Promise.all(all)), new Set(['timeout']));
    assert.equal(m.available, true, `${MUX_MAX_SET_ASIDE - 1} set aside`);
    const last = send(m, 'last.example.org', 0xffff, 2000);
    const held = send(m, 'held.example.org', 0xfffe, 30).catch(() => 'timeout');
    assert.equal(await held, 'timeout');
    assert.equal(m.available, false, 'retired');
    assert.equal(m.dead, false, 'still waiting for a query in flight');
    // (a burst of a thousand datagrams may overflow the upstream's receive buffer: only this one matters)
    for (let i = 0; i < 300 && !up.got.some((x) => x.q.id === 0xffff); i++) await sleep(5);
    up.answer(up.got.findIndex((x) => x.q.id === 0xffff), '192.0.2.7');
    assert.equal(answerOf(await last), '192.0.2.7');
    assert.equal(m.dead, true, 'closed after its last query');
  } finally {
    m.close();
    await up.close();
  }
});

test('a socket error (port unreachable) fails every query in flight on the socket and closes it', async () => {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const m = await UdpMux.open('127.0.0.1', port, `127.0.0.1:${port}`, undefined);
  try {
    const res = await Promise.allSettled([send(m, 'a.example.org', 1), send(m, 'b.example.org', 2), send(m, 'c.example.org', 3)]);
    const texts = res.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'answered'));
    for (const t of texts) assert.match(t, new RegExp(`^read udp 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}: read: connection refused$`));
    assert.equal(m.dead, true);
    await assert.rejects(send(m, 'd.example.org', 4), /use of closed network connection/);
  } finally {
    m.close();
  }
});

async function waitForQueries(up: { got: unknown[] }, n: number): Promise<void> {
  for (let i = 0; i < 300 && up.got.length < n; i++) await sleep(5);
  assert.equal(up.got.length, n);
}
