import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureLogs, freePort, serveCorefile } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import prometheus, { loadWebConfig, metricsListener, parseYaml } from '../src/index.js';
import { parseExposition, refused } from './helpers.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const cert = readFileSync(join(fixtures, 'cert.pem'));

function httpsGet(hostport: string, path: string): Promise<{ status: number; body: string }> {
  const i = hostport.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = https.request({ host: hostport.slice(0, i), port: Number(hostport.slice(i + 1)), path, ca: cert, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('tls WEBCONFIGFILE: /metrics over HTTPS, relative files resolved next to the config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-web-'));
  try {
    copyFileSync(join(fixtures, 'cert.pem'), join(dir, 'server.crt'));
    copyFileSync(join(fixtures, 'key.pem'), join(dir, 'server.key'));
    const web = join(dir, 'web.yml');
    writeFileSync(web, '# exporter-toolkit web config\ntls_server_config:\n  cert_file: server.crt\n  key_file: "server.key"\n  min_version: TLS12\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n');
    const maddr = `127.0.0.1:${await freePort()}`;
    const logs = captureLogs();
    const s = await serveCorefile(`.:0 {\n  prometheus ${maddr} {\n    tls ${web}\n  }\n  whoami\n}\n`, { plugins: [prometheus, whoami] });
    logs.restore();
    try {
      assert.ok(logs.lines.includes('[INFO] Server is ready and accepting connections'), logs.lines.join('\n'));
      assert.equal(metricsListener(maddr)!.tls, true);
      const r = await httpsGet(maddr, '/metrics');
      assert.equal(r.status, 200);
      assert.ok(parseExposition(r.body).has('coredns_panics_total'));
      assert.equal((await httpsGet(maddr, '/nope')).status, 404);
    } finally {
      await s.close();
    }
    assert.ok(await refused(maddr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tls: a missing file or an unsupported config is logged and nothing listens (CoreDNS keeps running)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-web-'));
  try {
    const maddr = `127.0.0.1:${await freePort()}`;
    const missing = join(dir, 'nope.yml');
    const auth = join(dir, 'auth.yml');
    writeFileSync(auth, 'basic_auth_users:\n  alice: $2y$10$abcdefghijklmnopqrstuv\n');
    const logs = captureLogs();
    let s;
    try {
      s = await serveCorefile(`a.example:0 {\n  prometheus ${maddr} {\n    tls ${missing}\n  }\n  whoami\n}\n`, { plugins: [prometheus, whoami] });
      assert.equal((await s.query('x.a.example.', 'A')).rcode, 0);
      await s.close();
      s = await serveCorefile(`a.example:0 {\n  prometheus ${maddr} {\n    tls ${auth}\n  }\n  whoami\n}\n`, { plugins: [prometheus, whoami] });
    } finally {
      logs.restore();
      await s?.close();
    }
    assert.ok(logs.lines.includes(`[ERROR] TLS config file does not exist: ${missing}`), logs.lines.join('\n'));
    assert.ok(logs.lines.some((l) => l.startsWith('[ERROR] Failed to start HTTPS metrics server: basic_auth_users is not supported')), logs.lines.join('\n'));
    assert.ok(await refused(maddr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web config parsing', () => {
  assert.deepEqual(parseYaml('a:\n  b: "x y" # comment\n  c: [TLS12, \'TLS13\']\n  d:\n    - one\n    - two\ne: |\n  line1\n  line2\n'), {
    a: { b: 'x y', c: ['TLS12', 'TLS13'], d: ['one', 'two'] },
    e: 'line1\nline2\n',
  });
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-web-'));
  try {
    const f = join(dir, 'w.yml');
    writeFileSync(f, 'tls_server_config:\n  cert_file: c\n');
    assert.throws(() => loadWebConfig(f), { message: 'missing one of key or key_file' });
    writeFileSync(f, 'tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Whatever\n');
    assert.throws(() => loadWebConfig(f), { message: 'invalid ClientAuth: Whatever' });
    writeFileSync(f, 'tls_config:\n  cert_file: c\n');
    assert.throws(() => loadWebConfig(f), /field tls_config not found in type web.Config/);
    writeFileSync(f, '');
    assert.deepEqual(loadWebConfig(f), { tls: undefined, headers: {}, requireAnyCert: false });
    writeFileSync(f, `tls_server_config:\n  cert_file: ${join(fixtures, 'cert.pem')}\n  key_file: ${join(fixtures, 'key.pem')}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(fixtures, 'cert.pem')}\n  max_version: TLS13\n`);
    const w = loadWebConfig(f);
    assert.equal(w.tls?.requestCert, true);
    assert.equal(w.tls?.rejectUnauthorized, true);
    assert.equal(w.tls?.minVersion, 'TLSv1.2');
    assert.equal(w.tls?.maxVersion, 'TLSv1.3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
