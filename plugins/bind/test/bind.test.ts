import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { decodeMessage, encodeMessage, Instance, PluginRegistry, RECURSION_DESIRED, type Msg, type PluginDefinition } from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';
import whoami from '@tsdns/plugin-whoami';
import bind, { setInterfaceLister, systemInterfaces, type NetInterface } from '../src/index.js';

const FAKE: NetInterface[] = [
  { name: 'lo', addresses: ['127.0.0.1', '::1'] },
  { name: 'eth0', addresses: ['192.0.2.10', '2001:db8::10', 'fe80::1%eth0'] },
  { name: 'dummy0', addresses: [] },
];

afterEach(() => {
  setInterfaceLister(systemInterfaces);
});

function build(text: string, plugins: PluginDefinition[] = [bind, whoami]): Promise<Instance> {
  const validDirectives = new Set(plugins.map((p) => p.name));
  const blocks = inspectServerBlocks(parseCorefile(text, { filename: 'Corefile', validDirectives }), { defaultPort: '53' });
  return Instance.build({ filename: 'Corefile', blocks, registry: PluginRegistry.of(plugins) });
}

async function hostsOf(body: string): Promise<string[][]> {
  const inst = await build(`. {\n${body}\n}\nexample.org {\n    whoami\n}\n`);
  return inst.configs.map((c) => c.listenHosts);
}

async function errorOf(text: string): Promise<string> {
  try {
    await build(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a setup error');
}

test('addresses and interface names (CoreDNS setup_test cases)', async () => {
  setInterfaceLister(() => FAKE);
  const table: [string, string[]][] = [
    ['bind 1.2.3.4', ['1.2.3.4']],
    ['bind 1.2.3.4 ::5', ['1.2.3.4', '::5']],
    ['bind ::1 1.2.3.4 ::5 127.9.9.0', ['::1', '1.2.3.4', '::5', '127.9.9.0']],
    ['bind 1.2.3.4 lo', ['1.2.3.4', '127.0.0.1', '::1']],
    ['bind lo {\n except 127.0.0.1\n}', ['::1']],
    ['bind eth0', ['192.0.2.10', '2001:db8::10', 'fe80::1%eth0']],
    ['bind eth0 {\n except lo 2001:db8::10\n}', ['192.0.2.10', 'fe80::1%eth0']],
    ['bind dummy0', []],
    ['bind lo {\n except lo\n}', []],
    ['bind ::ffff:10.0.0.1', ['::ffff:10.0.0.1']],
  ];
  for (const [body, want] of table) {
    const [first, second] = await hostsOf(body);
    assert.deepEqual(first, want, body);
    assert.deepEqual(second, [''], 'a block without bind listens everywhere');
  }
});

test('several bind lines merge; except only applies to its own line', async () => {
  setInterfaceLister(() => FAKE);
  assert.deepEqual((await hostsOf('bind 127.0.0.1\nbind ::1'))[0], ['127.0.0.1', '::1']);
  assert.deepEqual((await hostsOf('bind lo {\n except ::1\n}\nbind ::1')) [0], ['127.0.0.1', '::1']);
  assert.deepEqual((await hostsOf('bind 127.0.0.1 {\n except ::1\n except 127.0.0.1\n}'))[0], [], 'the last except of a line wins');
});

test('setup errors carry CoreDNS texts and the Corefile line', async () => {
  setInterfaceLister(() => FAKE);
  assert.equal(await errorOf('. {\n    bind\n}'), 'Corefile:2 - plugin/bind: at least one address or interface name is expected');
  assert.equal(await errorOf('. {\n    bind 1.2.3.invalid\n}'), 'Corefile:2 - plugin/bind: not a valid IP address or interface name: "1.2.3.invalid"');
  assert.equal(await errorOf('. {\n  bind ::1 1.2.3.4 ::5 127.9.9.0 noone\n}'), 'Corefile:2 - plugin/bind: not a valid IP address or interface name: "noone"');
  assert.equal(await errorOf('. {\n  bind fe80::1%eth0\n}'), 'Corefile:2 - plugin/bind: not a valid IP address or interface name: "fe80::1%eth0"');
  assert.equal(await errorOf('. {\n  bind [::1]\n}'), 'Corefile:2 - plugin/bind: not a valid IP address or interface name: "[::1]"');
  assert.equal(await errorOf('. {\n  bind 010.0.0.1\n}'), 'Corefile:2 - plugin/bind: not a valid IP address or interface name: "010.0.0.1"');
  assert.equal(await errorOf('. {\n  bind lo {\n    except\n  }\n}'), 'Corefile:3 - plugin/bind: at least one address or interface must be given to except subdirective');
  assert.equal(await errorOf('. {\n  bind lo {\n    only 127.0.0.1\n  }\n}'), 'Corefile:3 - plugin/bind: invalid option "only"');
  assert.equal(await errorOf('. {\n  bind lo {\n    except nowhere\n  }\n}'), 'Corefile:4 - plugin/bind: not a valid IP address or interface name: "nowhere"');
  assert.match(await errorOf('. {\n  bind 127.0.0.1 127.0.0.1\n  whoami\n}'), /cannot serve dns:\/\/\.:53 on 127\.0\.0\.1 - it is already defined$/);
});

test('the system interface list: every address, IPv6 link-local with the interface as zone', () => {
  const list = systemInterfaces();
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    const iface = list.find((i) => i.name === name);
    assert.ok(iface, name);
    const want = (infos ?? []).map((i) => (i.family === 'IPv6' && /^fe[89ab]/i.test(i.address) ? `${i.address}%${name}` : i.address));
    assert.deepEqual(iface.addresses, want, name);
  }
  const lo = list.find((i) => i.name === 'lo');
  assert.ok(lo, 'Linux has lo');
  assert.ok(lo.addresses.includes('127.0.0.1'));
});

function query(id: number): Msg {
  return { id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name: 'example.org.', type: 'A', class: 'IN' }], answers: [], authorities: [], additionals: [] };
}

function udpQuery(host: string, port: number, id: number, timeoutMs = 1000): Promise<Msg | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (b) => {
      clearTimeout(t);
      s.close();
      resolve(decodeMessage(b));
    });
    s.on('error', () => {
      clearTimeout(t);
      s.close();
      resolve(undefined);
    });
    s.send(encodeMessage(query(id)), port, host);
  });
}

test('a block bound to 127.0.0.2 is served there only; the metrics server label names the address', async () => {
  const inst = await build('.:0 {\n    bind 127.0.0.2\n    whoami\n}\n');
  await inst.start();
  try {
    assert.deepEqual(
      inst.servers.map((s) => s.addr),
      ['dns://127.0.0.2:0'],
    );
    assert.equal(inst.banner(), '.:0 on 127.0.0.2\n');
    const bound = inst.boundAddresses();
    assert.deepEqual(bound.map((b) => [b.transport, b.address]).sort(), [
      ['tcp', '127.0.0.2'],
      ['udp', '127.0.0.2'],
    ]);
    const port = bound[0]!.port;
    const m = await udpQuery('127.0.0.2', port, 99);
    assert.equal(m?.id, 99);
    assert.equal((m?.additionals[0] as { data: string }).data, '127.0.0.1');
    assert.equal(await udpQuery('127.0.0.1', port, 98, 300), undefined, '127.0.0.1 is not served');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const c = net.connect({ host: '127.0.0.1', port }, () => {
          c.destroy();
          resolve(undefined);
        });
        c.on('error', reject);
      }),
      /ECONNREFUSED/,
    );
  } finally {
    await inst.stopListeners(0);
  }
});
