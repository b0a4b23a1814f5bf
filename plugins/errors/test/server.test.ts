import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { decodeMessage, encodeMessage, PluginError, RECURSION_DESIRED, setLogSink, type Msg, type PluginDefinition } from '@tsdns/core';
import errorsPlugin from '../src/index.js';
import { build } from './helpers.js';

const fail: PluginDefinition = {
  name: 'fail',
  setup(c): void {
    c.next();
    c.addPlugin(() => ({
      name: 'fail',
      ServeDNS(): number {
        throw PluginError.of('fail', 2, 'read udp 127.0.0.1:41372->127.0.0.1:53: i/o timeout');
      },
    }));
  },
};

test('a real server: the error is logged and the client gets SERVFAIL', async () => {
  const sink: string[] = [];
  const prev = setLogSink({ write: (l) => sink.push(l.replace(/\n$/, '')) });
  const inst = await build('. {\n  errors\n  fail\n}\n', [errorsPlugin, fail]);
  await inst.start();
  const sock = dgram.createSocket('udp4');
  try {
    const addr = inst.boundAddresses().find((b) => b.transport === 'udp');
    assert.ok(addr);
    const q: Msg = {
      id: 777,
      type: 'query',
      flags: RECURSION_DESIRED,
      questions: [{ name: 'WWW.example.org.', type: 'MX', class: 'IN' }],
      answers: [],
      authorities: [],
      additionals: [],
    };
    const reply = await new Promise<Msg>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('no reply within 3s')), 3000);
      sock.once('message', (buf) => {
        clearTimeout(timer);
        res(decodeMessage(buf));
      });
      sock.send(encodeMessage(q), addr.port, '127.0.0.1');
    });
    assert.equal(reply.id, 777);
    assert.equal(reply.flags & 0xf, 2);
    assert.equal(reply.questions[0]!.name, 'WWW.example.org.');
    for (let i = 0; i < 100 && !sink.some((l) => l.startsWith('[ERROR]')); i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      sink.filter((l) => l.startsWith('[ERROR]')),
      ['[ERROR] plugin/errors: 2 www.example.org. MX: plugin/fail: read udp 127.0.0.1:41372->127.0.0.1:53: i/o timeout'],
    );
  } finally {
    sock.close();
    await inst.stopListeners(0);
    setLogSink(prev);
  }
});
