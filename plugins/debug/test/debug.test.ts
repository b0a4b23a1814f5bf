import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
  decodeMessage,
  encodeMessage,
  Instance,
  isDebug,
  PluginRegistry,
  RECURSION_DESIRED,
  setLogSink,
  type Msg,
  type PluginDefinition,
} from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';
import debug, { hexdump } from '../src/index.js';

/** `boom`: a handler that logs a debug line and throws. */
const boom: PluginDefinition = {
  name: 'boom',
  setup(c) {
    c.next();
    const log = c.log;
    c.addPlugin(() => ({
      name: 'boom',
      ServeDNS(): number {
        log.debug('about to fail');
        throw new Error('boom');
      },
    }));
  },
};

function build(text: string): Promise<Instance> {
  const plugins = [debug, boom];
  const validDirectives = new Set(plugins.map((p) => p.name));
  const blocks = inspectServerBlocks(parseCorefile(text, { filename: 'Corefile', validDirectives }), { defaultPort: '53' });
  return Instance.build({ filename: 'Corefile', blocks, registry: PluginRegistry.of(plugins) });
}

async function errorOf(text: string): Promise<string> {
  try {
    await build(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a setup error');
}

test('debug sets the block debug flag; arguments are an error', async () => {
  const inst = await build('. {\n    debug\n}\nexample.org {\n    boom\n}\n');
  assert.deepEqual(
    inst.configs.map((c) => c.debug),
    [true, false],
  );
  const twice = await build('. {\n    debug\n    debug\n}\n');
  assert.equal(twice.configs[0]!.debug, true);
  assert.equal(await errorOf('. {\n    debug off\n}'), "plugin/debug: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'off'");
  assert.equal(await errorOf('. {\n    debug {\n    }\n}'), "plugin/debug: Corefile:2 - Error during parsing: Unexpected token '{', expecting argument");
});

function udpQuery(port: number, id: number): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('no reply'));
    }, 2000);
    s.on('message', (b) => {
      clearTimeout(t);
      s.close();
      resolve(decodeMessage(b));
    });
    const q: Msg = { id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name: 'example.org.', type: 'A', class: 'IN' }], answers: [], authorities: [], additionals: [] };
    s.send(encodeMessage(q), port, '127.0.0.1');
  });
}

async function run(text: string): Promise<{ reply: Msg; lines: string[]; debugOn: boolean; server: string }> {
  const inst = await build(text);
  const lines: string[] = [];
  const prev = setLogSink({ write: (l) => lines.push(l) });
  try {
    await inst.start();
    const port = inst.boundAddresses().find((a) => a.transport === 'udp')!.port;
    const reply = await udpQuery(port, 321);
    return { reply, lines, debugOn: isDebug(), server: inst.servers[0]!.addr };
  } finally {
    setLogSink(prev);
    await inst.stopListeners(0);
  }
}

test('with debug a thrown error is still answered SERVFAIL, logged with its stack, and [DEBUG] lines are printed', async () => {
  const { reply, lines, debugOn, server } = await run('.:0 {\n    debug\n    boom\n}\n');
  assert.equal(debugOn, true);
  assert.equal(reply.id, 321);
  assert.equal(reply.flags & 0xf, 2, 'SERVFAIL');
  const text = lines.join('');
  assert.ok(text.includes('[DEBUG] plugin/boom: about to fail\n'), text);
  const panic = lines.find((l) => l.startsWith('[ERROR] Recovered from panic in server: '));
  assert.ok(panic, text);
  assert.ok(panic.startsWith(`[ERROR] Recovered from panic in server: ${JSON.stringify(server)} boom\n`), panic);
  assert.match(panic, /\n\s*at .*ServeDNS/, 'the stack is logged');
});

test('without debug: no [DEBUG] lines and no stack', async () => {
  const { reply, lines, debugOn } = await run('.:0 {\n    boom\n}\n');
  assert.equal(debugOn, false);
  assert.equal(reply.flags & 0xf, 2);
  const text = lines.join('');
  assert.ok(!text.includes('[DEBUG]'), text);
  const panic = lines.find((l) => l.startsWith('[ERROR] Recovered from panic in server: '));
  assert.ok(panic, text);
  assert.equal(panic.split('\n').filter((l) => l !== '').length, 1, 'one line, no stack');
});

test('hexdump prints what CoreDNS debug.Hexdump prints', () => {
  const m: Msg = {
    id: 10,
    type: 'query',
    flags: RECURSION_DESIRED,
    questions: [{ name: 'example.local.', type: 'A', class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0x8000, options: [] }],
  };
  assert.equal(
    hexdump(encodeMessage(m)),
    [
      'debug: 000000 00 0a 01 00 00 01 00 00 00 00 00 01 07 65 78 61',
      'debug: 000010 6d 70 6c 65 05 6c 6f 63 61 6c 00 00 01 00 01 00',
      'debug: 000020 00 29 10 00 00 00 80 00 00 00',
      'debug: 00002a',
    ].join('\n'),
  );
  assert.equal(hexdump(new Uint8Array(0)), '\ndebug: 000000');
});
