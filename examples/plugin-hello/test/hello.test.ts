import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Handler, type RR } from '@tsdns/core';
import { makeQuery, queryUdp, serveHandler, spawnTsdns, freePort, TestWriter, REPO_ROOT, type TsdnsProcess } from '@tsdns/testing';
import { Hello } from '../src/hello.js';

/** A next plugin that answers REFUSED-less NOERROR and remembers it was called. */
function recordingNext(): Handler & { calls: number } {
  const h = {
    name: 'next',
    calls: 0,
    ServeDNS(): number {
      h.calls++;
      return 5; // REFUSED: "I wrote nothing"
    },
  };
  return h;
}

test('TXT in its zone: a greeting with the client address, authoritative', async () => {
  const next = recordingNext();
  const hello = new Hello(next, 'good morning', ['example.']);
  const writer = new TestWriter({ remote: '192.0.2.10:5353' });
  const res = await serveHandler(hello, makeQuery('Hi.Example.', 'TXT'), { writer });
  assert.equal(res.rcode, 0);
  assert.equal(next.calls, 0);
  const m = writer.msg!;
  assert.equal(m.flags & 0x0400, 0x0400);
  const rr = m.answers[0] as RR;
  assert.equal(rr.name, 'Hi.Example.');
  assert.deepEqual((rr.data as Uint8Array[]).map((b) => Buffer.from(b).toString()), ['good morning, 192.0.2.10']);
});

test('other types and names outside its zones go to the next plugin', async () => {
  const next = recordingNext();
  const hello = new Hello(next, 'hello', ['example.']);
  const a = await serveHandler(hello, makeQuery('hi.example.', 'A'));
  assert.equal(a.rcode, 5);
  const b = await serveHandler(hello, makeQuery('hi.example.net.', 'TXT'));
  assert.equal(b.rcode, 5);
  assert.equal(next.calls, 2);
});

let proc: TsdnsProcess | undefined;
after(() => {
  proc?.kill('SIGKILL');
});

test('loaded from a copy of plugin.cfg by the real tsdns', async () => {
  const port = await freePort();
  proc = await spawnTsdns(`.:${port} {\n    bind 127.0.0.1\n    hello "good morning"\n    whoami\n}\n`, {
    port,
    args: ['-plugin.cfg', join(REPO_ROOT, 'examples', 'plugin-hello', 'plugin.cfg')],
  });
  const txt = await queryUdp('127.0.0.1', port, makeQuery('hi.example.', 'TXT'));
  const rr = txt.msg.answers[0] as RR;
  assert.deepEqual((rr.data as Uint8Array[]).map((b) => Buffer.from(b).toString()), ['good morning, 127.0.0.1']);
  // not TXT: whoami, which runs after hello, answers
  const a = await queryUdp('127.0.0.1', port, makeQuery('hi.example.', 'A'));
  assert.equal(a.msg.answers.length, 0);
  assert.equal((a.msg.additionals[0] as RR).data, '127.0.0.1');
});

test('setup errors name the Corefile line', async () => {
  const port = await freePort();
  const p = await spawnTsdns(`.:${port} {\n    hello a b\n}\n`, {
    port,
    probe: false,
    args: ['-plugin.cfg', join(REPO_ROOT, 'examples', 'plugin-hello', 'plugin.cfg')],
  });
  const st = await p.waitForExit();
  assert.equal(st.code, 1);
  assert.match(p.stderrText(), /^plugin\/hello: \S+:2 - Error during parsing: Wrong argument count or unexpected line ending after 'b'\n$/);
});
