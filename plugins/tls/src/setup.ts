import { closeSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { goQuote, type Controller, type TlsClientAuth } from '@tsdns/core';
import { newTlsConfig, pathErrorText } from './load.js';

const CLIENT_AUTH: Readonly<Record<string, TlsClientAuth>> = {
  nocert: 'nocert',
  request: 'request',
  require: 'require',
  verify_if_given: 'verify_if_given',
  require_and_verify: 'require_and_verify',
};

/** A path from the Corefile: relative ones are joined with the block's root when set (else the working directory). */
function rooted(root: string, p: string): string {
  return !isAbsolute(p) && root !== '' ? join(root, p) : p;
}

/**
 * `tls CERT KEY [CA] { client_auth MODE; keylog FILE }`: the certificate and
 * key of the block's tls:// and https:// listeners, the CA that verifies
 * client certificates, and the client-auth policy. Several `tls` lines: the
 * last one wins.
 */
export function setup(c: Controller): void {
  if (c.config.tls !== undefined) throw c.err('TLS already configured for this server instance');
  while (c.next()) {
    const args = c.remainingArgs();
    if (args.length === 0) parseAcme(c);
    else parseManual(c, args);
  }
}

function parseManual(c: Controller, args: string[]): void {
  if (args.length < 2 || args.length > 3) throw c.argErr();
  const root = c.config.root;
  let clientAuth: TlsClientAuth = 'nocert';
  let keyLog: string | undefined;
  while (c.nextBlock()) {
    switch (c.val()) {
      case 'client_auth': {
        const a = c.remainingArgs();
        if (a.length !== 1) throw c.argErr();
        const mode = CLIENT_AUTH[a[0]!];
        if (mode === undefined) throw c.err(`unknown authentication type '${a[0]!}'`);
        clientAuth = mode;
        break;
      }
      case 'keylog': {
        const a = c.remainingArgs();
        if (a.length !== 1) throw c.argErr();
        keyLog = rooted(root, a[0]!);
        break;
      }
      default:
        throw c.err(`unknown option '${c.val()}'`);
    }
  }
  const [cert, key, ca] = args.map((a) => rooted(root, a));
  c.config.tls = newTlsConfig(cert!, key!, ca);
  c.config.tlsClientAuth = clientAuth;
  c.config.tlsKeyLog = undefined;
  if (keyLog !== undefined) {
    const abs = resolve(keyLog);
    let fd: number;
    try {
      fd = openSync(abs, 'a', 0o600);
    } catch (e) {
      throw c.err(`unable to write TLS Key Log to ${goQuote(abs)}: ${pathErrorText('open', abs, e)}`);
    }
    let open = true;
    c.onShutdown(() => {
      if (!open) return;
      open = false;
      closeSync(fd);
    });
    c.config.tlsKeyLog = (line: Buffer): void => {
      if (!open) return;
      try {
        writeSync(fd, line);
      } catch {
        // a key log that cannot be written is not worth failing a handshake
      }
    };
    c.log.warning(`Writing TLS Key Log to ${goQuote(abs)}`);
  }
}

/**
 * `tls { acme DOMAIN...; email; ca; storage; ca_root; resolver }`: the options
 * are checked as CoreDNS checks them, but tsdns does not run an ACME client.
 */
function parseAcme(c: Controller): never {
  const seen = new Set<string>();
  let domains: string[] = [];
  while (c.nextBlock()) {
    const name = c.val();
    const args = c.remainingArgs();
    if (seen.has(name)) throw c.err(`ACME option ${goQuote(name)} can only be specified once`);
    seen.add(name);
    switch (name) {
      case 'acme':
        if (args.length === 0) throw c.argErr();
        domains = args;
        break;
      case 'email':
      case 'ca':
      case 'storage':
      case 'ca_root':
      case 'resolver':
        if (args.length !== 1) throw c.argErr();
        break;
      default:
        throw c.err(`unknown ACME option ${goQuote(name)}`);
    }
  }
  if (domains.length === 0) throw new Error('ACME requires at least one domain');
  throw c.err('ACME certificate management is not supported by tsdns; use tls CERT KEY [CA]');
}
