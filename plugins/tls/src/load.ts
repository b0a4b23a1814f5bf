/**
 * Loading certificates and keys the way CoreDNS does (crypto/tls
 * LoadX509KeyPair, x509.CertPool.AppendCertsFromPEM), with Go's error texts.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EIO: 'input/output error',
};

/** Go's *fs.PathError text: `open PATH: no such file or directory`. */
export function pathErrorText(op: string, path: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const text = (err.code && ERRNO_TEXT[err.code]) ?? (err.message || String(e));
  return `${op} ${path}: ${text}`;
}

/** os.ReadFile with Go's error text (reading a directory fails on `read`, not `open`). */
export function readFileGo(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const op = (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'read' : 'open';
    throw new Error(pathErrorText(op, path, e));
  }
}

export interface PemBlock {
  type: string;
  /** The whole block, BEGIN to END line. */
  text: string;
}

/** The PEM blocks of a file, in order (encoding/pem.Decode, without header support). */
export function pemBlocks(data: Buffer): PemBlock[] {
  const s = data.toString('latin1');
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^\r\n]*?)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const body = m[2]!.replace(/[\r\n\t ]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    out.push({ type: m[1]!, text: m[0] });
  }
  return out;
}

/** Go's `%v` of a string slice: `[A B]`. */
function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** tls.X509KeyPair: the certificate chain and the private key, checked against each other. */
export function x509KeyPair(certPem: Buffer, keyPem: Buffer): { cert: string; key: string } {
  const certs: string[] = [];
  let skipped: string[] = [];
  for (const b of pemBlocks(certPem)) {
    if (b.type === 'CERTIFICATE') certs.push(b.text);
    else skipped.push(b.type);
  }
  if (certs.length === 0) {
    if (skipped.length === 0) throw new Error('tls: failed to find any PEM data in certificate input');
    if (skipped.length === 1 && skipped[0]!.endsWith('PRIVATE KEY')) {
      throw new Error('tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched');
    }
    throw new Error(`tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: ${goList(skipped)}`);
  }
  skipped = [];
  let keyBlock: PemBlock | undefined;
  for (const b of pemBlocks(keyPem)) {
    if (b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY')) {
      keyBlock = b;
      break;
    }
    skipped.push(b.type);
  }
  if (keyBlock === undefined) {
    if (skipped.length === 0) throw new Error('tls: failed to find any PEM data in key input');
    if (skipped.length === 1 && skipped[0] === 'CERTIFICATE') throw new Error('tls: found a certificate rather than a key in the PEM for the private key');
    throw new Error(`tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: ${goList(skipped)}`);
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0]!);
  } catch {
    throw new Error('x509: malformed certificate');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock.text);
  } catch {
    throw new Error('tls: failed to parse private key');
  }
  const pubType = leaf.publicKey.asymmetricKeyType;
  if (pubType !== 'rsa' && pubType !== 'ec' && pubType !== 'ed25519') throw new Error('tls: unknown public key algorithm');
  if (key.asymmetricKeyType !== pubType) throw new Error('tls: private key type does not match public key type');
  if (!leaf.checkPrivateKey(key)) throw new Error('tls: private key does not match public key');
  return { cert: certs.join('\n'), key: keyBlock.text };
}

/** x509.CertPool.AppendCertsFromPEM: the certificates that parse; none is an error. */
export function loadRoots(caPath: string): string {
  let data: Buffer;
  try {
    data = readFileGo(caPath);
  } catch (e) {
    throw new Error(`error reading ${caPath}: ${(e as Error).message}`);
  }
  const certs: string[] = [];
  for (const b of pemBlocks(data)) {
    if (b.type !== 'CERTIFICATE') continue;
    try {
      new X509Certificate(b.text);
      certs.push(b.text);
    } catch {
      // AppendCertsFromPEM skips certificates it cannot parse
    }
  }
  // CoreDNS formats a nil error here
  if (certs.length === 0) throw new Error('could not read root certs: %!s(<nil>)');
  return certs.join('\n');
}

/**
 * pkg/tls.NewTLSConfig(cert, key, ca): the server's certificate and key, and
 * the CA that verifies client certificates (the system roots when absent).
 * Minimum version TLS 1.2.
 */
export function newTlsConfig(certPath: string, keyPath: string, caPath?: string): SecureContextOptions {
  let pair: { cert: string; key: string };
  try {
    pair = x509KeyPair(readFileGo(certPath), readFileGo(keyPath));
  } catch (e) {
    throw new Error(`could not load TLS cert: ${(e as Error).message}`);
  }
  const opts: SecureContextOptions = { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' };
  if (caPath !== undefined && caPath !== '') opts.ca = loadRoots(caPath);
  try {
    createSecureContext(opts);
  } catch (e) {
    throw new Error(`could not load TLS cert: tls: ${(e as Error).message}`);
  }
  return opts;
}
