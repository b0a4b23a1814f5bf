import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { decodeMessage, encodeMessage, newOpt, RECURSION_DESIRED, setLogSink, type Instance, type Msg } from '@tsdns/core';
import whoami from '@tsdns/plugin-whoami';
import logPlugin from '../src/index.js';
import { build } from './helpers.js';

/** Sends one query over UDP to 127.0.0.1:port and returns the reply and the client's port. */
async function udpQuery(port: number, m: Msg): Promise<{ reply: Msg; clientPort: number }> {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    const clientPort = sock.address().port;
    const reply = await new Promise<Msg>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('no reply within 3s')), 3000);
      sock.once('message', (buf) => {
        clearTimeout(timer);
        res(decodeMessage(buf));
      });
      sock.send(encodeMessage(m), port, '127.0.0.1');
    });
    return { reply, clientPort };
  } finally {
    sock.close();
  }
}

function udpPort(inst: Instance): number {
  const a = inst.boundAddresses().find((b) => b.transport === 'udp');
  assert.ok(a, `no UDP listener in ${JSON.stringify(inst.boundAddresses())}`);
  return a.port;
}

/** Waits until `lines` has n entries (the log line is written after the reply is sent). */
async function waitFor(lines: string[], n: number): Promise<void> {
  for (let i = 0; i < 200 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 5));
}

test('a real server logs each query in the Common Log Format', async () => {
  const sink: string[] = [];
  const prev = setLogSink({ write: (l) => sink.push(l.replace(/\n$/, '')) });
  const inst = await build('. {\n  log\n  whoami\n}\n', [logPlugin, whoami]);
  await inst.start();
  try {
    const port = udpPort(inst);
    const q: Msg = {
      id: 4242,
      type: 'query',
      flags: RECURSION_DESIRED,
      questions: [{ name: 'Example.ORG.', type: 'A', class: 'IN' }],
      answers: [],
      authorities: [],
      additionals: [],
    };
    const first = await udpQuery(port, q);
    assert.equal(first.reply.id, 4242);
    assert.equal(first.reply.flags & 0xf, 0);
    await waitFor(sink, 1);

    const q2: Msg = { ...q, id: 4243, questions: [{ name: 'example.org.', type: 'AAAA', class: 'IN' }], additionals: [newOpt(4096, true)] };
    const second = await udpQuery(port, q2);
    assert.equal(second.reply.id, 4243);
    await waitFor(sink, 2);

    const logLines = sink.filter((l) => l.startsWith('[INFO] 127.0.0.1:'));
    assert.equal(logLines.length, 2, sink.join('\n'));
    // whoami's reply: header 12 + question 17 + A in additional 27 + SRV _udp.example.org. 35 = 91
    const m1 = /^\[INFO\] 127\.0\.0\.1:(\d+) - 4242 "A IN example\.org\. udp 29 false 512" NOERROR qr,aa,rd 91 (\d+(?:\.\d+)?)s$/.exec(logLines[0]!);
    assert.ok(m1, logLines[0]);
    assert.equal(Number(m1[1]), first.clientPort);
    assert.ok(Number(m1[2]) > 0 && Number(m1[2]) < 5);
    // with EDNS: the query's OPT adds 11 bytes to {size}; {rsize} is measured before the server adds
    // the reply's OPT (as CoreDNS's recorder sees the message before its scrub writer)
    const m2 = /^\[INFO\] 127\.0\.0\.1:(\d+) - 4243 "AAAA IN example\.org\. udp 40 true 4096" NOERROR qr,aa,rd 91 (\d+(?:\.\d+)?)s$/.exec(logLines[1]!);
    assert.ok(m2, logLines[1]);
    assert.equal(Number(m2[1]), second.clientPort);
  } finally {
    await inst.stopListeners(0);
    setLogSink(prev);
  }
});
