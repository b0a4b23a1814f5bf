import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import tlsClient from 'node:tls';
import { decodeMessage, encodeMessage, RECURSION_DESIRED, registry, type Instance, type Msg } from '@tsdns/core';
import bind from '@tsdns/plugin-bind';
import whoami from '@tsdns/plugin-whoami';
import tls from '../src/index.js';
import { build, captureLog, makeCerts, type Certs } from './helpers.js';

let certs: Certs;
let inst: Instance;
let keyLog: string;

before(async () => {
  certs = makeCerts();
  keyLog = join(certs.dir, 'keys.log');
  const corefile = `tls://.:0 {
    bind 127.0.0.1
    tls ${certs.cert} ${certs.key} ${certs.ca} {
        client_auth verify_if_given
        keylog ${keyLog}
    }
    whoami
}
https://.:0 {
    bind 127.0.0.2
    tls ${certs.cert} ${certs.key}
    whoami
}
`;
  const built = await captureLog(() => build(corefile, [bind, tls, whoami]));
  inst = built.result;
  await inst.start();
});

after(async () => {
  await inst.stopListeners(0);
  await inst.lifecycle.run('shutdown');
  certs.cleanup();
});

function portOf(server: string): number {
  const a = inst.boundAddresses().find((x) => x.server === server);
  if (!a) throw new Error(`no ${server} in ${JSON.stringify(inst.boundAddresses())}`);
  return a.port;
}

function query(name: string, id: number): Msg {
  return { id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }], answers: [], authorities: [], additionals: [] };
}

function whoamiOf(m: Msg): { address: string; port: number; srv: string } {
  const a = m.additionals.find((r) => r.type === 'A') as { data: string };
  const srv = m.additionals.find((r) => r.type === 'SRV') as { name: string; data: { port: number } };
  return { address: a.data, port: srv.data.port, srv: srv.name };
}

function dot(port: number, opts: tlsClient.ConnectionOptions, m: Msg): Promise<{ reply: Msg; localPort: number }> {
  return new Promise((resolve, reject) => {
    const s = tlsClient.connect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), ...opts }, () => {
      const wire = encodeMessage(m);
      const f = Buffer.alloc(wire.length + 2);
      f.writeUInt16BE(wire.length, 0);
      wire.copy(f, 2);
      s.write(f);
    });
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const localPort = s.localPort ?? 0;
        s.destroy();
        resolve({ reply: decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))), localPort });
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed without a reply')));
  });
}

function doh(host: string, port: number, path: string): Promise<{ status: number; body: Buffer; localPort: number }> {
  return new Promise((resolve, reject) => {
    const c = http2.connect(`https://${host}:${port}`, { ca: readFileSync(certs.ca) });
    c.on('error', reject);
    const req = c.request({ ':path': path });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const localPort = c.socket.localPort ?? 0;
      c.close();
      resolve({ status, body: Buffer.concat(chunks), localPort });
    });
    req.on('error', reject);
    req.end();
  });
}

test('listeners per bind address and transport; the banner names them', () => {
  assert.deepEqual(
    inst.servers.map((s) => s.addr),
    ['tls://127.0.0.1:0', 'https://127.0.0.2:0'],
  );
  assert.equal(inst.banner(), 'tls://.:0 on 127.0.0.1\nhttps://.:0 on 127.0.0.2\n');
  assert.deepEqual(
    inst.boundAddresses().map((a) => [a.server, a.transport, a.address]),
    [
      ['tls://127.0.0.1:0', 'tcp', '127.0.0.1'],
      ['https://127.0.0.2:0', 'tcp', '127.0.0.2'],
    ],
  );
});

test('DoT with the tls plugin: answers with and without a client certificate (verify_if_given)', async () => {
  const port = portOf('tls://127.0.0.1:0');
  const anon = await dot(port, {}, query('example.org.', 1));
  assert.equal(anon.reply.id, 1);
  assert.deepEqual(whoamiOf(anon.reply), { address: '127.0.0.1', port: anon.localPort, srv: '_tcp.example.org.' });
  const withCert = await dot(port, { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }, query('example.org.', 2));
  assert.equal(withCert.reply.id, 2);
  // a certificate from another CA is refused
  await assert.rejects(dot(port, { cert: readFileSync(certs.otherCa), key: readFileSync(certs.otherKey) }, query('example.org.', 3)));
  // the key log received the handshakes' secrets
  assert.match(readFileSync(keyLog, 'utf8'), /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]+ [0-9a-f]+$/m);
});

test('DoH bound to 127.0.0.2: served there with the server label https://127.0.0.2:0; 127.0.0.1 is not served', async () => {
  const port = portOf('https://127.0.0.2:0');
  const count = async (): Promise<number> => {
    const text = await registry.getSingleMetricAsString('coredns_dns_https_responses_total');
    const m = /coredns_dns_https_responses_total\{server="https:\/\/127\.0\.0\.2:0",status="200"\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };
  const before = await count();
  const r = await doh('127.0.0.2', port, `/dns-query?dns=${encodeMessage(query('example.org.', 0)).toString('base64url')}`);
  assert.equal(r.status, 200);
  const w = whoamiOf(decodeMessage(r.body));
  assert.equal(w.port, r.localPort);
  assert.equal(w.srv, '_tcp.example.org.');
  assert.equal(await count(), before + 1);
  await assert.rejects(
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(undefined);
      });
      s.on('error', reject);
    }),
    /ECONNREFUSED/,
  );
});
