import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Instance, PluginRegistry, setLogSink, type PluginDefinition } from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';

export interface Certs {
  dir: string;
  /** File paths. */
  ca: string;
  cert: string;
  key: string;
  clientCert: string;
  clientKey: string;
  /** A second self-signed CA's certificate and a key that does not belong to `cert`. */
  otherCa: string;
  otherKey: string;
  cleanup(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1/127.0.0.2/localhost and a client certificate it signed, made with openssl. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-plugin-tls-'));
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tsdns test CA']);
  openssl(dir, ['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  openssl(dir, ['req', ...EC, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=client']);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2', '-extfile', 'client.ext']);
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=other CA']);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    otherCa: join(dir, 'other.pem'),
    otherKey: join(dir, 'other.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Builds (without starting) an instance from Corefile text. */
export function build(text: string, plugins: PluginDefinition[]): Promise<Instance> {
  const validDirectives = new Set(plugins.map((p) => p.name));
  const blocks = inspectServerBlocks(parseCorefile(text, { filename: 'Corefile', validDirectives }), { defaultPort: '53' });
  return Instance.build({ filename: 'Corefile', blocks, registry: PluginRegistry.of(plugins) });
}

/** The message of the error building `text` fails with. */
export async function errorOf(text: string, plugins: PluginDefinition[]): Promise<string> {
  try {
    await build(text, plugins);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a setup error');
}

/** Captures log lines while `fn` runs. */
export async function captureLog<T>(fn: () => Promise<T>): Promise<{ lines: string[]; result: T }> {
  const lines: string[] = [];
  const prev = setLogSink({ write: (l) => lines.push(l.replace(/\n$/, '')) });
  try {
    return { lines, result: await fn() };
  } finally {
    setLogSink(prev);
  }
}
