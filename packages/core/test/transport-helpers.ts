/**
 * Helpers for the DoT/DoH listener tests: certificates made with openssl,
 * hand-built server blocks, the whoami plugin, and small DNS clients.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  decodeMessage,
  encodeMessage,
  Instance,
  PluginRegistry,
  RECURSION_DESIRED,
  type InspectedBlock,
  type Msg,
  type PluginDefinition,
  type Token,
  type Transport,
} from '../src/index.js';

export interface Pem {
  path: string;
  pem: Buffer;
}

/** A CA, a server certificate it signed (127.0.0.1, 127.0.0.2, localhost), a client certificate it signed and a self-signed client certificate. */
export interface Certs {
  dir: string;
  ca: Pem;
  serverCert: Pem;
  serverKey: Pem;
  clientCert: Pem;
  clientKey: Pem;
  rogueCert: Pem;
  rogueKey: Pem;
  /** A second server certificate (CN other.test) signed by the same CA. */
  otherCert: Pem;
  otherKey: Pem;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function signed(dir: string, name: string, cn: string, ext: string): void {
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-tls-'));
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tsdns test CA']);
  signed(dir, 'server', 'localhost', 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'other', 'other.test', 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:other.test\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', 'client', 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '2', '-subj', '/CN=rogue']);
  const pem = (f: string): Pem => ({ path: join(dir, f), pem: readFileSync(join(dir, f)) });
  return {
    dir,
    ca: pem('ca.pem'),
    serverCert: pem('server.pem'),
    serverKey: pem('server.key'),
    clientCert: pem('client.pem'),
    clientKey: pem('client.key'),
    rogueCert: pem('rogue.pem'),
    rogueKey: pem('rogue.key'),
    otherCert: pem('other.pem'),
    otherKey: pem('other.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The whoami plugin, loaded from its build (core cannot depend on plugin packages). */
export async function whoami(): Promise<PluginDefinition> {
  const url = new URL('../../../../plugins/whoami/dist/src/index.js', import.meta.url);
  const mod = (await import(url.href)) as { default: PluginDefinition };
  return mod.default;
}

/**
 * A server block written by hand: `keys` like `tls://.:0`, directives as
 * lines of words (the first word is the directive), one line each.
 */
export function block(keys: { transport: Transport; zone: string; port: string }[], lines: string[][]): InspectedBlock {
  const tokens = new Map<string, Token[]>();
  let line = 2;
  for (const words of lines) {
    const dir = words[0]!;
    let list = tokens.get(dir);
    if (!list) tokens.set(dir, (list = []));
    for (const w of words) list.push({ text: w, file: 'Corefile', line });
    line++;
  }
  const keyTexts = keys.map((k) => `${k.transport}://${k.zone}:${k.port}`);
  return {
    block: { keys: keyTexts, keyTokens: keyTexts.map((text) => ({ text, file: 'Corefile', line: 1 })), tokens },
    addrs: keys.map((k) => ({ ...k })),
  };
}

export async function startInstance(blocks: InspectedBlock[], plugins: PluginDefinition[]): Promise<Instance> {
  const inst = await Instance.build({ filename: 'Corefile', blocks, registry: PluginRegistry.of(plugins) });
  await inst.start();
  return inst;
}

/** The TCP port an instance's server listens on. */
export function portOf(inst: Instance, server: string): number {
  const a = inst.boundAddresses().find((x) => x.server === server && x.transport === 'tcp');
  if (!a) throw new Error(`no listener for ${server}: ${JSON.stringify(inst.boundAddresses())}`);
  return a.port;
}

export function query(name: string, type = 'A', id = 4242, additionals: Msg['additionals'] = []): Msg {
  return { id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], answers: [], authorities: [], additionals };
}

export function frame(m: Msg | Buffer): Buffer {
  const wire = Buffer.isBuffer(m) ? m : encodeMessage(m);
  const out = Buffer.alloc(wire.length + 2);
  out.writeUInt16BE(wire.length, 0);
  wire.copy(out, 2);
  return out;
}

/** Reads `count` length-prefixed DNS messages from a stream socket (rejects on close/timeout). */
export function readFrames(sock: net.Socket, count: number, timeoutMs = 3000): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Msg[] = [];
    const timer = setTimeout(() => finish(new Error(`timeout after ${out.length}/${count} replies`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        out.push(decodeMessage(buf.subarray(2, 2 + len)));
        buf = buf.subarray(2 + len);
      }
      if (out.length >= count) finish();
    };
    const onClose = (): void => finish(new Error(`connection closed after ${out.length}/${count} replies`));
    const onError = (e: Error): void => finish(e);
    function finish(err?: Error): void {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.off('error', onError);
      if (err) reject(err);
      else resolve(out);
    }
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.once('error', onError);
  });
}

/** Opens a DoT connection. */
export function dotConnect(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export function tcpConnect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves when the socket closes (or after timeoutMs with false). */
export function closedWithin(sock: net.Socket, timeoutMs: number): Promise<boolean> {
  if (sock.destroyed || sock.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    sock.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    sock.on('error', () => {});
    sock.resume();
  });
}

/** The address of the A/AAAA record and the port and name of the SRV record whoami adds. */
export function whoamiOf(m: Msg): { address: string; port: number; srvName: string } {
  const addr = m.additionals.find((r) => r.type === 'A' || r.type === 'AAAA') as { data: string } | undefined;
  const srv = m.additionals.find((r) => r.type === 'SRV') as { name: string; data: { port: number } } | undefined;
  if (!addr || !srv) throw new Error(`not a whoami reply: ${JSON.stringify(m)}`);
  return { address: addr.data, port: srv.data.port, srvName: srv.name };
}

/** A plugin definition that runs `fn` with the controller (for settings no real plugin in core provides). */
export function configPlugin(name: string, fn: (c: import('../src/index.js').Controller) => void): PluginDefinition {
  return {
    name,
    setup(c) {
      while (c.next()) c.remainingArgs();
      fn(c);
    },
  };
}
