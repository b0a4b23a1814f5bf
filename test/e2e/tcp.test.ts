/**
 * DNS over TCP (runtime.md §5): pipelining, framing split across writes,
 * zero-length frames, read/idle timeouts, long-lived connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RCODE } from '@tsdns/core';
import { DnsTcpClient, makeQuery, queryTcp, tcpFrame, type TsdnsProcess } from '@tsdns/testing';
import { HOST, assertWhoami, startWhoami } from './helpers.js';

const tick = (ms = 15): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('DNS over TCP', { concurrency: true }, () => {
  let p: TsdnsProcess;
  let port: number;
  const clients: DnsTcpClient[] = [];
  const connect = async (): Promise<DnsTcpClient> => {
    const c = await DnsTcpClient.connect(HOST, port);
    clients.push(c);
    return c;
  };

  before(async () => {
    ({ p, port } = await startWhoami());
  });
  after(() => {
    for (const c of clients) c.close();
    p?.kill('SIGKILL');
  });

  it('pipelining: many queries in one write are all answered, in order', async () => {
    const qs = Array.from({ length: 50 }, (_, i) => makeQuery(`pipe${i}.example.`, i % 2 ? 'AAAA' : 'A', { id: 1000 + i }));
    const c = await connect();
    c.send(...qs);
    for (let i = 0; i < qs.length; i++) {
      const r = await c.next();
      assertWhoami(r.msg, { id: 1000 + i, qname: `pipe${i}.example.`, proto: 'tcp', port: c.localPort });
    }
    c.close();
    // the one-shot helper does the same
    const replies = await queryTcp(HOST, port, qs.slice(0, 5));
    assert.deepEqual(
      replies.map((r) => r.msg.id),
      [1000, 1001, 1002, 1003, 1004],
    );
  });

  it('a message split across several writes is reassembled', async () => {
    const c = await connect();
    const f = tcpFrame(makeQuery('split.example.', 'A', { id: 4321 }));
    await c.writeRaw(f.subarray(0, 1));
    await tick();
    await c.writeRaw(f.subarray(1, 2));
    await tick();
    await c.writeRaw(f.subarray(2, 9));
    await tick();
    await c.writeRaw(f.subarray(9));
    const r = await c.next();
    assertWhoami(r.msg, { id: 4321, qname: 'split.example.', proto: 'tcp', port: c.localPort });
    // and a frame whose end arrives with the start of the next one
    const g1 = tcpFrame(makeQuery('a.split.example.', 'A', { id: 1 }));
    const g2 = tcpFrame(makeQuery('b.split.example.', 'A', { id: 2 }));
    const both = Buffer.concat([g1, g2]);
    await c.writeRaw(both.subarray(0, g1.length - 3));
    await tick();
    await c.writeRaw(both.subarray(g1.length - 3, g1.length + 4));
    await tick();
    await c.writeRaw(both.subarray(g1.length + 4));
    assert.equal((await c.next()).msg.id, 1);
    assert.equal((await c.next()).msg.id, 2);
    c.close();
  });

  it('a zero-length frame is ignored and the connection stays usable', async () => {
    const c = await connect();
    await c.writeRaw(Buffer.from([0, 0]));
    await c.writeRaw(Buffer.concat([Buffer.from([0, 0, 0, 0]), tcpFrame(makeQuery('zero.example.', 'A', { id: 77 }))]));
    const r = await c.next();
    assertWhoami(r.msg, { id: 77, qname: 'zero.example.', proto: 'tcp', port: c.localPort });
    c.close();
  });

  it('a connection stays usable across many queries, including rejected ones', async () => {
    const c = await connect();
    for (let i = 0; i < 300; i++) {
      if (i % 50 === 25) {
        // FORMERR (QDCOUNT=0) in the middle of the stream
        const bad = Buffer.from(tcpFrame(makeQuery('bad.example.', 'A', { id: i })));
        bad.writeUInt16BE(0, 2 + 4);
        c.send(bad.subarray(2));
        const r = await c.next();
        assert.equal(r.rcode, RCODE.FORMERR);
        continue;
      }
      const r = await c.query(makeQuery(`many${i}.example.`, 'A', { id: i }));
      assertWhoami(r.msg, { id: i, qname: `many${i}.example.`, proto: 'tcp', port: c.localPort });
    }
    assert.ok(c.isOpen);
    c.close();
  });

  it('a connection that sends nothing is closed after the read timeout (3 s)', async () => {
    const c = await connect();
    const t0 = performance.now();
    assert.ok(await c.waitClosed(8000), 'closed by the server');
    const took = (c.closedAt ?? performance.now()) - t0;
    assert.ok(took > 2000 && took < 6000, `closed after ${Math.round(took)} ms, want ~3000`);
  });

  it('an idle connection is closed after the idle timeout (10 s) following the last answer', async () => {
    const c = await connect();
    const r = await c.query(makeQuery('idle.example.', 'A', { id: 5 }));
    assert.equal(r.msg.id, 5);
    const t0 = performance.now();
    assert.ok(await c.waitClosed(16000), 'closed by the server');
    const took = (c.closedAt ?? performance.now()) - t0;
    assert.ok(took > 8000 && took < 13000, `closed after ${Math.round(took)} ms, want ~10000`);
  });

  it('a half-sent frame does not block other connections', async () => {
    const stuck = await connect();
    await stuck.writeRaw(Buffer.from([0, 40, 1, 2, 3]));
    const other = await connect();
    const r = await other.query(makeQuery('other.example.', 'A', { id: 9 }));
    assertWhoami(r.msg, { id: 9, qname: 'other.example.', proto: 'tcp', port: other.localPort });
    stuck.close();
    other.close();
  });

  it('many concurrent connections are served', async () => {
    const cs = await Promise.all(Array.from({ length: 40 }, () => connect()));
    const rs = await Promise.all(cs.map((c, i) => c.query(makeQuery(`conc${i}.example.`, 'A', { id: i }))));
    rs.forEach((r, i) => assertWhoami(r.msg, { id: i, qname: `conc${i}.example.`, proto: 'tcp', port: cs[i]!.localPort }));
    for (const c of cs) c.close();
  });
});
