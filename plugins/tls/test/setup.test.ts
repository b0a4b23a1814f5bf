import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PluginDefinition } from '@tsdns/core';
import whoami from '@tsdns/plugin-whoami';
import tls from '../src/index.js';
import { build, captureLog, errorOf, makeCerts, type Certs } from './helpers.js';

let certs: Certs;
before(() => {
  certs = makeCerts();
});
after(() => certs.cleanup());

/** Stand-in for the root plugin: `root DIR` sets the block's root. */
const root: PluginDefinition = {
  name: 'root',
  setup(c) {
    c.next();
    c.config.root = c.remainingArgs()[0] ?? '';
  },
};

const PLUGINS = [root, tls, whoami];

const err = (body: string): Promise<string> => errorOf(`tls://.:853 {\n${body}\n}\n`, PLUGINS);

async function configOf(body: string): Promise<import('@tsdns/core').BlockConfig> {
  const inst = await build(`tls://.:853 {\n${body}\n}\n`, PLUGINS);
  return inst.configs[0]!;
}

test('tls CERT KEY [CA]: the certificate material and client-auth policy of the block', async () => {
  const two = await configOf(`tls ${certs.cert} ${certs.key}`);
  assert.equal(two.tls?.cert, readFileSync(certs.cert, 'latin1').trim());
  assert.match(String(two.tls?.key), /^-----BEGIN PRIVATE KEY-----\n[\s\S]*\n-----END PRIVATE KEY-----$/);
  assert.equal(two.tls?.ca, undefined, 'no CA: client certificates are checked against the system roots');
  assert.equal(two.tls?.minVersion, 'TLSv1.2');
  assert.equal(two.tlsClientAuth, 'nocert');
  const three = await configOf(`tls ${certs.cert} ${certs.key} ${certs.ca}`);
  assert.equal(three.tls?.ca, readFileSync(certs.ca, 'latin1').trim());
  for (const mode of ['nocert', 'request', 'require', 'verify_if_given', 'require_and_verify'] as const) {
    const cfg = await configOf(`tls ${certs.cert} ${certs.key} ${certs.ca} {\n    client_auth ${mode}\n}`);
    assert.equal(cfg.tlsClientAuth, mode);
  }
});

test('relative file names: against the working directory, or the block root when set', async () => {
  const rel = (p: string): string => relative(process.cwd(), p);
  const cwdCfg = await configOf(`tls ${rel(certs.cert)} ${rel(certs.key)} ${rel(certs.ca)}`);
  assert.ok(cwdCfg.tls?.cert);
  const rooted = await configOf(`root ${certs.dir}\ntls server.pem server.key ca.pem`);
  assert.ok(rooted.tls?.ca);
  assert.equal(await err('tls server.pem server.key'), 'Corefile:2 - plugin/tls: could not load TLS cert: open server.pem: no such file or directory');
  assert.equal(
    await err(`root ${certs.dir}\ntls server.pem missing.key`),
    `Corefile:3 - plugin/tls: could not load TLS cert: open ${join(certs.dir, 'missing.key')}: no such file or directory`,
  );
});

test('several tls lines: the last one wins', async () => {
  const cfg = await configOf(`tls ${certs.cert} ${certs.key} ${certs.ca} {\n client_auth require\n}\ntls ${certs.cert} ${certs.key}`);
  assert.equal(cfg.tlsClientAuth, 'nocert');
  assert.equal(cfg.tls?.ca, undefined);
});

test('syntax errors', async () => {
  const base = `tls ${certs.cert} ${certs.key} ${certs.ca}`;
  assert.equal(await err('tls a'), "plugin/tls: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'a'");
  assert.equal(await err('tls a b c d'), "plugin/tls: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'd'");
  assert.equal(await err(`${base} {\nunknown\n}`), "plugin/tls: Corefile:3 - Error during parsing: unknown option 'unknown'");
  assert.equal(await err(`${base} {\nclient_auth\n}`), "plugin/tls: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'client_auth'");
  assert.equal(await err(`${base} {\nclient_auth none bogus\n}`), "plugin/tls: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'bogus'");
  assert.equal(await err(`${base} {\nclient_auth bogus\n}`), "plugin/tls: Corefile:3 - Error during parsing: unknown authentication type 'bogus'");
  assert.equal(await err(`${base} {\nkeylog\n}`), "plugin/tls: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'keylog'");
  const missing = join(certs.dir, 'missing', 'tls.log');
  assert.equal(
    await err(`${base} {\nkeylog ${missing}\n}`),
    `plugin/tls: Corefile:4 - Error during parsing: unable to write TLS Key Log to "${missing}": open ${missing}: no such file or directory`,
  );
});

test('certificate loading errors (Go crypto/tls texts)', async () => {
  const { cert, key, ca, dir, otherKey, otherCa } = certs;
  const ext = join(dir, 'server.ext');
  const table: [string, string][] = [
    [`tls ${join(dir, 'nope.pem')} ${key}`, `could not load TLS cert: open ${join(dir, 'nope.pem')}: no such file or directory`],
    [`tls ${cert} ${join(dir, 'nope.key')}`, `could not load TLS cert: open ${join(dir, 'nope.key')}: no such file or directory`],
    [`tls ${dir} ${key}`, `could not load TLS cert: read ${dir}: is a directory`],
    [`tls ${ext} ${key}`, 'could not load TLS cert: tls: failed to find any PEM data in certificate input'],
    [`tls ${key} ${cert}`, 'could not load TLS cert: tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched'],
    [`tls ${cert} ${cert}`, 'could not load TLS cert: tls: found a certificate rather than a key in the PEM for the private key'],
    [`tls ${cert} ${ext}`, 'could not load TLS cert: tls: failed to find any PEM data in key input'],
    [`tls ${cert} ${otherKey}`, 'could not load TLS cert: tls: private key does not match public key'],
    [`tls ${cert} ${key} ${join(dir, 'nope-ca.pem')}`, `error reading ${join(dir, 'nope-ca.pem')}: open ${join(dir, 'nope-ca.pem')}: no such file or directory`],
    [`tls ${cert} ${key} ${key}`, 'could not read root certs: %!s(<nil>)'],
  ];
  for (const [line, want] of table) assert.equal(await err(line), `Corefile:2 - plugin/tls: ${want}`, line);
  // a CA file with certificates of another CA is accepted
  assert.ok((await configOf(`tls ${cert} ${key} ${otherCa}`)).tls?.ca);
});

test('ACME options are checked as CoreDNS does, then refused (tsdns runs no ACME client)', async () => {
  assert.equal(await err('tls'), 'Corefile:2 - plugin/tls: ACME requires at least one domain');
  assert.equal(await err('tls {\n  acme\n}'), "plugin/tls: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'acme'");
  assert.equal(await err('tls {\n  acme example.org\n  email a@example.org\n  email b@example.org\n}'), 'plugin/tls: Corefile:5 - Error during parsing: ACME option "email" can only be specified once');
  assert.equal(await err('tls {\n  acme example.org\n  color blue\n}'), 'plugin/tls: Corefile:4 - Error during parsing: unknown ACME option "color"');
  assert.equal(
    await err('tls {\n  acme example.org\n  email a@example.org\n}'),
    'plugin/tls: Corefile:5 - Error during parsing: ACME certificate management is not supported by tsdns; use tls CERT KEY [CA]',
  );
});

test('keylog: the file is opened at setup (with a warning) and closed at shutdown', async () => {
  const file = join(certs.dir, 'keys.log');
  const { lines, result: inst } = await captureLog(() => build(`tls://.:853 {\ntls ${certs.cert} ${certs.key} {\n  keylog ${file}\n}\n}\n`, PLUGINS));
  assert.deepEqual(lines, [`[WARNING] plugin/tls: Writing TLS Key Log to "${file}"`]);
  const write = inst.configs[0]!.tlsKeyLog;
  assert.ok(write);
  write(Buffer.from('CLIENT_RANDOM 00 11\n'));
  assert.equal(readFileSync(file, 'utf8'), 'CLIENT_RANDOM 00 11\n');
  await inst.lifecycle.run('shutdown');
  write(Buffer.from('AFTER 00 11\n'));
  assert.equal(readFileSync(file, 'utf8'), 'CLIENT_RANDOM 00 11\n');
});
