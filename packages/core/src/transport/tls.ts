/**
 * tls:// listeners: DNS over TLS (RFC 7858). The same stream handling as dns://
 * TCP (RFC 1035 framing, pipelining, read/idle/write timeouts, graceful close)
 * over a TLS connection; no UDP socket.
 *
 * As in CoreDNS, a tls:// server without a `tls` directive serves plain TCP.
 * The TLS settings are looked up per accepted connection from the server
 * currently behind the listener, so a reload that changes certificates or the
 * client-auth policy applies to new connections without reopening the socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { BlockConfig, TlsClientAuth } from '../config.js';
import { registerTransport } from '../instance.js';
import { log } from '../log.js';
import type { Server } from '../server.js';
import { DnsListener } from './dns.js';

/** The block whose TLS settings a server uses: the last block on it with a `tls` directive. */
export function tlsBlockOf(server: Server): BlockConfig | undefined {
  let found: BlockConfig | undefined;
  for (const zc of server.configs) if (zc.block.tls !== undefined) found = zc.block;
  return found;
}

/** How Node's TLS server must be set up for a client-auth policy. */
export function clientAuthOptions(auth: TlsClientAuth): { requestCert: boolean; rejectUnauthorized: boolean } {
  return { requestCert: auth !== 'nocert', rejectUnauthorized: auth === 'require_and_verify' };
}

/**
 * The checks OpenSSL does not do for us after the handshake: `require` needs a
 * certificate (any), `verify_if_given` rejects a certificate that did not verify.
 */
export function clientAuthAccepts(sock: tls.TLSSocket, auth: TlsClientAuth): boolean {
  switch (auth) {
    case 'require':
      return sock.getPeerX509Certificate() !== undefined;
    case 'verify_if_given':
      return sock.getPeerX509Certificate() === undefined || sock.authorized;
    case 'require_and_verify':
      return sock.authorized;
    default:
      return true;
  }
}

/** Secure-server options for a block: its certificate material, client-auth policy and TLS ≥ 1.2. */
export function secureOptions(b: BlockConfig): tls.TlsOptions {
  return { minVersion: 'TLSv1.2', ...b.tls, ...clientAuthOptions(b.tlsClientAuth) };
}

export class TlsListener extends DnsListener {
  /**
   * Per-server TLS servers. They never listen: this listener hands them the
   * sockets it accepts (`emit('connection')`), so a reload can change the
   * TLS settings without closing the listening socket.
   */
  private readonly secureServers = new WeakMap<Server, tls.Server | null | false>();
  private closing = false;

  constructor(key: string, host: string, port: number, server: Server) {
    super(key, host, port, server, 'tls');
  }

  /** Only the stream listener: DoT has no UDP side. */
  override async listen(): Promise<void> {
    await this.listenTcp();
  }

  protected override createStreamServer(): net.Server {
    return net.createServer({ noDelay: true }, (raw) => this.onConnection(raw));
  }

  /**
   * Connections still in their handshake when the listener closes are not
   * waited for: they are dropped when they complete (or time out after the
   * read timeout).
   */
  override async close(graceMs: number): Promise<void> {
    this.closing = true;
    await super.close(graceMs);
  }

  private onConnection(raw: net.Socket): void {
    if (this.closing) {
      raw.destroy();
      return;
    }
    const server = this.server;
    const secure = this.secureServerFor(server);
    if (secure === null) {
      // no `tls` directive: plain DNS over TCP, as CoreDNS does
      this.accept(raw, 'tls');
      return;
    }
    if (secure === false) {
      raw.destroy();
      return;
    }
    raw.on('error', ignore);
    secure.emit('connection', raw);
  }

  /** null: no TLS configured; false: TLS configured but unusable (logged once). */
  private secureServerFor(server: Server): tls.Server | null | false {
    const cached = this.secureServers.get(server);
    if (cached !== undefined) return cached;
    const b = tlsBlockOf(server);
    if (b === undefined) {
      this.secureServers.set(server, null);
      return null;
    }
    let srv: tls.Server;
    try {
      srv = tls.createServer({ ...secureOptions(b), handshakeTimeout: server.readTimeout });
    } catch (e) {
      log.error(`${server.addr}: TLS configuration: ${e instanceof Error ? e.message : String(e)}`);
      this.secureServers.set(server, false);
      return false;
    }
    const auth = b.tlsClientAuth;
    srv.on('secureConnection', (sock: tls.TLSSocket) => {
      if (!clientAuthAccepts(sock, auth)) {
        sock.destroy();
        return;
      }
      this.accept(sock, 'tls');
    });
    srv.on('tlsClientError', (_e: Error, sock: tls.TLSSocket) => sock.destroy());
    const keyLog = b.tlsKeyLog;
    if (keyLog) srv.on('keylog', (line: Buffer) => keyLog(line));
    this.secureServers.set(server, srv);
    return srv;
  }
}

function ignore(): void {
  // errors of a connection end it; there is no one to report them to
}

registerTransport('tls', (key, host, port, server) => new TlsListener(key, host, port, server));
