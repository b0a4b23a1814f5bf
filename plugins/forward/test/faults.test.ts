import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, newReply, RCODE, TRUNCATED_RESPONSE, type Msg } from '@tsdns/core';
import { makeQuery, serveHandler, TestWriter } from '@tsdns/testing';
import type { Forward } from '../src/index.js';
import { aReply, closeAll, handles, serve, setupForwards, sleep, socketsBackTo, upstream, type Upstream } from './helpers.js';

const rejections: unknown[] = [];
const onRejection = (e: unknown): void => {
  rejections.push(e);
};
let baseline = 0;
before(() => {
  process.on('unhandledRejection', onRejection);
  baseline = handles().sockets;
});
after(async () => {
  process.off('unhandledRejection', onRejection);
  assert.deepEqual(rejections, [], 'no unhandled rejections');
  assert.equal(await socketsBackTo(baseline), baseline, 'no sockets left open');
});

/** A Forward from a Corefile body, started; stop it with onShutdown. */
async function forward(body: string): Promise<Forward> {
  const { forwards } = await setupForwards(`.:53 {\n${body}\n}`);
  const f = forwards[0]!;
  f.onStartup();
  return f;
}

function queriesFor(up: Upstream, name: string): number {
  return up.requests.filter((r) => r.msg.questions[0]?.name === name).length;
}

test('an upstream that never answers: SERVFAIL with the read timeout error, after two attempts', async () => {
  const up = await upstream(() => null);
  const f = await forward(`forward . ${up.address} {\n read_timeout 150ms\n health_check 1s\n}`);
  try {
    const t0 = performance.now();
    const res = await serveHandler(f, makeQuery('example.org'), { writer: new TestWriter() });
    const took = performance.now() - t0;
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.match((res.error as Error).message, new RegExp(`^read udp 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${up.port}: i/o timeout$`));
    assert.equal(res.reply?.flags !== undefined && (res.reply.flags & 0xf), RCODE.SERVFAIL, 'the server writes SERVFAIL');
    assert.equal(queriesFor(up, 'example.org.'), 2, 'max_connect_attempts defaults to 2 per upstream');
    assert.ok(took >= 290 && took < 1500, `took ${took} ms`);
  } finally {
    f.onShutdown();
    await up.stop();
  }
});

test('the 5 s budget ends retries when attempts are not capped', async () => {
  const up = await upstream(() => null);
  const f = await forward(`forward . ${up.address} {\n read_timeout 100ms\n max_connect_attempts 0\n max_fails 0\n}`);
  f.timeout = 450; // CoreDNS's defaultTimeout, shortened for the test
  try {
    const t0 = performance.now();
    const res = await serveHandler(f, makeQuery('example.org'));
    const took = performance.now() - t0;
    assert.equal(res.rcode, RCODE.SERVFAIL);
    const n = queriesFor(up, 'example.org.');
    assert.ok(n >= 4 && n <= 5, `attempts start at 0, 100, 200, 300, 400 ms: ${n}`);
    assert.ok(took >= 450 && took < 2000, `took ${took} ms`);
  } finally {
    f.onShutdown();
    await up.stop();
  }
});

test('an upstream that answers late: the other one answers; a late reply within the read timeout is used', async () => {
  const slow = await upstream(async (q) => {
    await sleep(q.questions[0]!.name.startsWith('fast') ? 60 : 300);
    return aReply(q, '192.0.2.1');
  });
  const good = await upstream((q) => aReply(q, '192.0.2.2'));
  const s = await serve(`.:0 {\n  forward . ${slow.address} ${good.address} {\n    policy sequential\n    read_timeout 150ms\n    max_fails 0\n  }\n}`);
  try {
    let t0 = performance.now();
    let r = await s.query('late.example.org');
    assert.equal((r.msg.answers[0] as { data: string }).data, '192.0.2.2');
    assert.ok(performance.now() - t0 >= 140);
    t0 = performance.now();
    r = await s.query('fast.example.org');
    assert.equal((r.msg.answers[0] as { data: string }).data, '192.0.2.1');
    await sleep(200); // the late reply to the first query arrives on a closed socket: nothing happens
  } finally {
    await closeAll(s, slow, good);
  }
});

test('replies with a wrong ID are ignored; the right one is taken; only wrong ones time out', async () => {
  let onlyWrong = false;
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  sock.on('message', (raw, rinfo) => {
    const q = decodeMessage(raw);
    const wrong = aReply(q, '203.0.113.66');
    wrong.id = (q.id + 1) & 0xffff;
    sock.send(encodeMessage(wrong), rinfo.port, rinfo.address);
    sock.send(Buffer.from([1, 2, 3]), rinfo.port, rinfo.address); // too short for a header: ignored
    if (!onlyWrong) setTimeout(() => sock.send(encodeMessage(aReply(q, '192.0.2.7')), rinfo.port, rinfo.address), 20);
  });
  const f = await forward(`forward . 127.0.0.1:${port} {\n read_timeout 150ms\n max_fails 0\n}`);
  try {
    let res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, 0);
    assert.equal((res.reply!.answers[0] as { data: string }).data, '192.0.2.7');
    onlyWrong = true;
    res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.match((res.error as Error).message, /i\/o timeout$/);
  } finally {
    f.onShutdown();
    sock.close();
  }
});

test('a reply to another question gives the client FORMERR (no retry)', async () => {
  const up = await upstream((q) => {
    const m = aReply(q);
    m.questions = [{ name: 'other.example.', type: 'A', class: 'IN' }];
    return m;
  });
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    const q = makeQuery('Example.org', 'A', { id: 99 });
    const r = await s.send(q);
    assert.equal(r.rcode, RCODE.FORMERR);
    assert.equal(r.id, 99);
    assert.deepEqual(r.msg.questions, q.questions);
    assert.equal(r.msg.answers.length, 0);
    assert.equal(up.requests.length, 1);
    // same name in another case is a match; another type is not
    up.handler = (qq) => {
      const m = aReply(qq);
      m.questions = [{ name: qq.questions[0]!.name.toUpperCase(), type: 'A', class: 'IN' }];
      return m;
    };
    assert.equal((await s.query('example.org', 'A')).rcode, RCODE.NOERROR);
    up.handler = (qq) => {
      const m = aReply(qq);
      m.questions = [{ name: qq.questions[0]!.name, type: 'AAAA', class: 'IN' }];
      return m;
    };
    assert.equal((await s.query('example.org', 'A')).rcode, RCODE.FORMERR);
    up.handler = (qq) => {
      const m = aReply(qq);
      m.type = 'query'; // QR not set
      return m;
    };
    assert.equal((await s.query('example.org', 'A')).rcode, RCODE.FORMERR);
  } finally {
    await closeAll(s, up);
  }
});

test('TCP: an upstream closing mid-message, or before answering, is an error (SERVFAIL)', async () => {
  let mode: 'partial' | 'close' = 'partial';
  const srv = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', () => {
      if (mode === 'partial') sock.end(Buffer.from([0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
      else sock.end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  const f = await forward(`forward . 127.0.0.1:${port} {\n force_tcp\n max_fails 0\n}`);
  try {
    let res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'unexpected EOF');
    mode = 'close';
    res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'EOF');
  } finally {
    f.onShutdown();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('TCP: a cached connection the peer closed is retried on a new one, transparently', async () => {
  let served = 0;
  const srv = net.createServer((sock) => {
    sock.on('error', () => undefined);
    let first = true;
    sock.on('data', (d: Buffer) => {
      if (!first) {
        sock.destroy(); // the upstream's idle timeout raced with our query
        return;
      }
      first = false;
      served++;
      const q = decodeMessage(d.subarray(2));
      const b = encodeMessage(aReply(q));
      const f = Buffer.alloc(b.length + 2);
      f.writeUInt16BE(b.length, 0);
      b.copy(f, 2);
      sock.write(f);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  const f = await forward(`forward . 127.0.0.1:${port} {\n max_fails 0\n}`);
  try {
    const w = (): TestWriter => new TestWriter({ proto: 'tcp' });
    for (let i = 0; i < 3; i++) {
      const res = await serveHandler(f, makeQuery('example.org'), { writer: w() });
      assert.equal(res.rcode, 0, `query ${i}: ${String(res.error)}`);
      assert.equal(res.reply!.answers.length, 1);
    }
    assert.equal(served, 3);
  } finally {
    f.onShutdown();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('a UDP reply larger than the client buffer becomes an empty reply with TC', async () => {
  const up = await upstream((q) => {
    const m = newReply(q);
    for (let i = 0; i < 60; i++) m.answers.push({ name: q.questions[0]!.name, type: 'A', class: 'IN', ttl: 60, data: `10.0.0.${i}` });
    return m; // ~1700 bytes, uncompressed, no TC: a misbehaving upstream
  });
  const s = await serve(`.:0 {\n  forward . ${up.address}\n}`);
  try {
    let r = await s.query('example.org', 'A', { bufsize: 1232 });
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(r.msg.flags & TRUNCATED_RESPONSE, TRUNCATED_RESPONSE);
    assert.equal(r.msg.answers.length, 0);
    assert.equal(r.msg.questions[0]!.name, 'example.org.');
    r = await s.query('example.org', 'A');
    assert.equal(r.msg.flags & TRUNCATED_RESPONSE, TRUNCATED_RESPONSE);
    assert.equal(r.msg.answers.length, 0);
    // a client buffer big enough: the whole reply
    r = await s.query('example.org', 'A', { bufsize: 4096 });
    assert.equal(r.msg.flags & TRUNCATED_RESPONSE, 0);
    assert.equal(r.msg.answers.length, 60);
    // over TCP there is no such limit
    r = await s.query('example.org', 'A', { tcp: true });
    assert.equal(r.msg.answers.length, 60);
  } finally {
    await closeAll(s, up);
  }
});

test('connection refused (UDP and TCP) and undecodable replies are errors with Go-like texts', async () => {
  const probe = await upstream();
  const deadPort = probe.port;
  await probe.stop();
  let f = await forward(`forward . 127.0.0.1:${deadPort} {\n max_fails 0\n}`);
  try {
    const res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.match((res.error as Error).message, new RegExp(`^read udp 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${deadPort}: read: connection refused$`));
  } finally {
    f.onShutdown();
  }
  f = await forward(`forward . 127.0.0.1:${deadPort} {\n force_tcp\n max_fails 0\n}`);
  try {
    const res = await serveHandler(f, makeQuery('example.org'));
    assert.equal((res.error as Error).message, `dial tcp 127.0.0.1:${deadPort}: connect: connection refused`);
  } finally {
    f.onShutdown();
  }
  let cut = false;
  const up = await upstream((q: Msg) => {
    const b = encodeMessage(aReply(q));
    if (cut) return b.subarray(0, b.length - 2); // reads as an overflow, as in CoreDNS: empty reply with TC
    // the A record claims 5 bytes of RDATA: "bad rdlength"
    const out = Buffer.concat([b, Buffer.from([0])]);
    out.writeUInt16BE(5, b.length - 6);
    return out;
  });
  f = await forward(`forward . ${up.address} {\n max_fails 0\n}`);
  try {
    let res = await serveHandler(f, makeQuery('example.org', 'A', { bufsize: 4096 }));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'dns: bad rdlength');
    assert.equal(up.requests.length, 2, 'an error: tried again');
    cut = true;
    res = await serveHandler(f, makeQuery('example.org', 'A', { bufsize: 4096 }));
    assert.equal(res.rcode, 0);
    assert.equal(res.reply!.flags & TRUNCATED_RESPONSE, TRUNCATED_RESPONSE);
    assert.equal(res.reply!.answers.length, 0);
  } finally {
    f.onShutdown();
    await up.stop();
  }
});

test('two dead upstreams: the client still gets SERVFAIL within the deadline', async () => {
  const a = await upstream(() => null);
  const b = await upstream(() => null);
  const s = await serve(`.:0 {\n  forward . ${a.address} ${b.address} {\n    read_timeout 100ms\n  }\n}`);
  try {
    const t0 = performance.now();
    const r = await s.query('example.org', 'A', { timeoutMs: 5000 });
    const took = performance.now() - t0;
    assert.equal(r.rcode, RCODE.SERVFAIL);
    assert.ok(took >= 390 && took < 2000, `took ${took}`);
    assert.equal(queriesFor(a, 'example.org.') + queriesFor(b, 'example.org.'), 4);
    assert.equal(queriesFor(a, 'example.org.'), 2);
  } finally {
    await closeAll(s, a, b);
  }
});

test('an upstream the socket cannot connect to: the dial error, SERVFAIL, and health checks that fail quietly', async () => {
  // connect(2) to the broadcast address fails (EACCES without SO_BROADCAST) on any
  // machine, as connect fails with ENETUNREACH where no route leads to the upstream
  const f = await forward(`forward . 255.255.255.255 {\n read_timeout 100ms\n health_check 100ms\n}`);
  try {
    for (let i = 0; i < 3; i++) {
      const res = await serveHandler(f, makeQuery('example.org'), { writer: new TestWriter() });
      assert.equal(res.rcode, RCODE.SERVFAIL);
      assert.equal((res.error as Error).message, 'dial udp 255.255.255.255:53: connect: permission denied');
    }
    // the health checks the failures started run (and fail) while nothing waits for them
    await sleep(400);
  } finally {
    f.onShutdown();
  }
});
