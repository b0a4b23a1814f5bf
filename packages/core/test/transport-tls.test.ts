import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import tls from 'node:tls';
import { encodeMessage, registry, type Instance, type PluginDefinition, type TlsClientAuth } from '../src/index.js';
import {
  block,
  closedWithin,
  configPlugin,
  dotConnect,
  frame,
  makeCerts,
  portOf,
  query,
  readFrames,
  startInstance,
  tcpConnect,
  whoami,
  whoamiOf,
  type Certs,
} from './transport-helpers.js';

let certs: Certs;
let who: PluginDefinition;

before(async () => {
  certs = makeCerts();
  who = await whoami();
});
after(() => certs.cleanup());

/** Stand-in for the tls plugin: `tls [CLIENT_AUTH]` sets the test certificates. */
function tlsPlugin(cert = (): Certs['serverCert'] => certs.serverCert, key = (): Certs['serverKey'] => certs.serverKey): PluginDefinition {
  return {
    name: 'tls',
    setup(c) {
      c.next();
      const auth = c.remainingArgs()[0];
      c.config.tls = { cert: cert().pem, key: key().pem, ca: certs.ca.pem, minVersion: 'TLSv1.2' };
      if (auth) c.config.tlsClientAuth = auth as TlsClientAuth;
    },
  };
}

const DOT = [{ transport: 'tls' as const, zone: 'example.org.', port: '0' }];

async function dotInstance(lines: string[][] = [['tls'], ['whoami']], extra: PluginDefinition[] = []): Promise<{ inst: Instance; port: number }> {
  const withBind = [['bind'], ...lines];
  const inst = await startInstance([block(DOT, withBind)], [configPlugin('bind', (c) => (c.config.listenHosts = ['127.0.0.1'])), ...extra, tlsPlugin(), who]);
  return { inst, port: portOf(inst, 'tls://127.0.0.1:0') };
}

test('DoT: whoami answers over TLS with the client address, port and _tcp', async () => {
  const { inst, port } = await dotInstance();
  try {
    const s = await dotConnect(port, { ca: certs.ca.pem });
    assert.equal(s.authorized, true);
    assert.equal(s.getPeerX509Certificate()?.subject, 'CN=localhost');
    s.write(frame(query('www.example.org.', 'A', 7)));
    const [m] = await readFrames(s, 1);
    assert.equal(m!.id, 7);
    assert.equal(m!.flags & 0xf, 0);
    const w = whoamiOf(m!);
    assert.equal(w.address, '127.0.0.1');
    assert.equal(w.port, s.localPort);
    assert.equal(w.srvName, '_tcp.www.example.org.');
    s.destroy();
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoT: pipelined queries on one connection are all answered, in one write', async () => {
  const { inst, port } = await dotInstance();
  try {
    const s = await dotConnect(port, { ca: certs.ca.pem });
    s.write(Buffer.concat([frame(query('a.example.org.', 'A', 1)), frame(query('b.example.org.', 'AAAA', 2)), frame(query('c.example.org.', 'TXT', 3))]));
    const replies = await readFrames(s, 3);
    assert.deepEqual(replies.map((m) => m.id).sort(), [1, 2, 3]);
    assert.deepEqual(replies.map((m) => m.questions[0]!.name).sort(), ['a.example.org.', 'b.example.org.', 'c.example.org.']);
    s.destroy();
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoT: a tls:// listener has no UDP socket and refuses zones it does not serve', async () => {
  const { inst, port } = await dotInstance();
  try {
    const bound = inst.boundAddresses();
    assert.deepEqual(
      bound.map((b) => [b.server, b.transport, b.address]),
      [['tls://127.0.0.1:0', 'tcp', '127.0.0.1']],
    );
    const before = (await registry.getSingleMetricAsString('coredns_dns_requests_total')).match(/server="tls:\/\/127\.0\.0\.1:0",zone="dropped".*\} (\d+)/);
    const s = await dotConnect(port, { ca: certs.ca.pem });
    s.write(frame(query('example.net.', 'A', 9)));
    const [m] = await readFrames(s, 1);
    assert.equal(m!.flags & 0xf, 5, 'REFUSED');
    s.destroy();
    const text = await registry.getSingleMetricAsString('coredns_dns_requests_total');
    const now = text.match(/server="tls:\/\/127\.0\.0\.1:0",zone="dropped".*\} (\d+)/);
    assert.ok(now, text);
    assert.equal(Number(now[1]), Number(before?.[1] ?? 0) + 1);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoT without a tls directive serves plain DNS over TCP (as CoreDNS)', async () => {
  const inst = await startInstance(
    [block(DOT, [['bind'], ['whoami']])],
    [configPlugin('bind', (c) => ((c.config.listenHosts = ['127.0.0.1']), (c.config.readTimeout = 200))), who],
  );
  try {
    const port = portOf(inst, 'tls://127.0.0.1:0');
    const s = await tcpConnect(port);
    s.write(frame(query('example.org.', 'A', 11)));
    const [m] = await readFrames(s, 1);
    assert.equal(m!.id, 11);
    assert.equal(whoamiOf(m!).port, s.localPort);
    s.destroy();
    // a TLS client gets no TLS server: its hello is read as a DNS frame until the read timeout
    await assert.rejects(dotConnect(port, { ca: certs.ca.pem }), /socket disconnected|ECONNRESET/);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoT: a client that does not speak TLS is dropped', async () => {
  const { inst, port } = await dotInstance();
  try {
    const s = await tcpConnect(port);
    s.write(frame(query('example.org.', 'A', 12)));
    await assert.rejects(readFrames(s, 1), /closed|ECONNRESET/);
  } finally {
    await inst.stopListeners(0);
  }
});

async function authCase(auth: TlsClientAuth, client: 'none' | 'good' | 'rogue'): Promise<boolean> {
  const { inst, port } = await dotInstance([['tls', auth], ['whoami']]);
  try {
    const opts: tls.ConnectionOptions = { ca: certs.ca.pem };
    if (client === 'good') Object.assign(opts, { cert: certs.clientCert.pem, key: certs.clientKey.pem });
    if (client === 'rogue') Object.assign(opts, { cert: certs.rogueCert.pem, key: certs.rogueKey.pem });
    let s: tls.TLSSocket;
    try {
      s = await dotConnect(port, opts);
    } catch {
      return false;
    }
    s.write(frame(query('example.org.', 'A', 21)));
    try {
      const [m] = await readFrames(s, 1);
      return m!.id === 21;
    } catch {
      return false;
    } finally {
      s.destroy();
    }
  } finally {
    await inst.stopListeners(0);
  }
}

test('DoT client_auth policies (Go ClientAuthType semantics)', async () => {
  const table: [TlsClientAuth, 'none' | 'good' | 'rogue', boolean][] = [
    ['nocert', 'none', true],
    ['nocert', 'rogue', true],
    ['request', 'none', true],
    ['request', 'rogue', true],
    ['require', 'none', false],
    ['require', 'rogue', true],
    ['require', 'good', true],
    ['verify_if_given', 'none', true],
    ['verify_if_given', 'rogue', false],
    ['verify_if_given', 'good', true],
    ['require_and_verify', 'none', false],
    ['require_and_verify', 'rogue', false],
    ['require_and_verify', 'good', true],
  ];
  for (const [auth, client, ok] of table) {
    assert.equal(await authCase(auth, client), ok, `${auth} with ${client} client certificate`);
  }
});

test('DoT: the read timeout closes a connection that sends nothing', async () => {
  const timeouts = configPlugin('timeouts', (c) => {
    c.config.readTimeout = 150;
    c.config.idleTimeout = 150;
  });
  const { inst, port } = await dotInstance([['timeouts'], ['tls'], ['whoami']], [timeouts]);
  try {
    const s = await dotConnect(port, { ca: certs.ca.pem });
    assert.equal(await closedWithin(s, 2000), true);
    // and after an answer the idle timeout applies
    const s2 = await dotConnect(port, { ca: certs.ca.pem });
    s2.write(frame(query('example.org.', 'A', 5)));
    assert.equal((await readFrames(s2, 1))[0]!.id, 5);
    assert.equal(await closedWithin(s2, 2000), true);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoT: a reload keeps the socket and new connections get the new certificate', async () => {
  let cert = certs.serverCert;
  let key = certs.serverKey;
  const plugins = (): PluginDefinition[] => [configPlugin('bind', (c) => (c.config.listenHosts = ['127.0.0.1'])), tlsPlugin(() => cert, () => key), who];
  const inst = await startInstance([block(DOT, [['bind'], ['tls'], ['whoami']])], plugins());
  let current: Instance = inst;
  try {
    const port = portOf(inst, 'tls://127.0.0.1:0');
    const old = await dotConnect(port, { ca: certs.ca.pem });
    assert.equal(old.getPeerX509Certificate()?.subject, 'CN=localhost');
    cert = certs.otherCert;
    key = certs.otherKey;
    const { PluginRegistry } = await import('../src/index.js');
    current = await inst.restart(async () => ({ filename: 'Corefile', blocks: [block(DOT, [['bind'], ['tls'], ['whoami']])], registry: PluginRegistry.of(plugins()) }));
    assert.equal(portOf(current, 'tls://127.0.0.1:0'), port);
    const s = await dotConnect(port, { ca: certs.ca.pem, servername: 'other.test' });
    assert.equal(s.getPeerX509Certificate()?.subject, 'CN=other.test');
    s.write(frame(query('example.org.', 'A', 33)));
    assert.equal((await readFrames(s, 1))[0]!.id, 33);
    s.destroy();
    old.destroy();
  } finally {
    await current.stopListeners(0);
  }
});

test('DoT: closing the listener waits for an in-flight query, then closes the connection', async () => {
  const slow: PluginDefinition = {
    name: 'slow',
    setup(c) {
      c.next();
      c.addPlugin((next) => ({
        name: 'slow',
        async ServeDNS(ctx, w, r) {
          await new Promise((res) => setTimeout(res, 200));
          return next!.ServeDNS(ctx, w, r);
        },
      }));
    },
  };
  const { inst, port } = await dotInstance([['tls'], ['slow'], ['whoami']], [slow]);
  const s = await dotConnect(port, { ca: certs.ca.pem });
  s.write(frame(query('example.org.', 'A', 44)));
  await new Promise((res) => setTimeout(res, 50));
  const replies = readFrames(s, 1);
  await inst.stopListeners(2000);
  assert.equal((await replies)[0]!.id, 44);
  assert.equal(await closedWithin(s, 1000), true);
  await assert.rejects(dotConnect(port, { ca: certs.ca.pem }), /ECONNREFUSED/);
});

test('DoT: nothing answers on UDP at the same port', async () => {
  const { inst, port } = await dotInstance();
  try {
    const sock = dgram.createSocket('udp4');
    const got = await new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve('no reply'), 300);
      sock.on('message', () => {
        clearTimeout(t);
        resolve('reply');
      });
      sock.on('error', () => {
        clearTimeout(t);
        resolve('no reply');
      });
      sock.send(encodeMessage(query('example.org.')), port, '127.0.0.1');
    });
    sock.close();
    assert.equal(got, 'no reply');
  } finally {
    await inst.stopListeners(0);
  }
});
