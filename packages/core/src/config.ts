/**
 * Server block configuration. Every key of a block shares one BlockConfig:
 * the same plugin instances, listen addresses and settings (as in CoreDNS,
 * where setup runs for the first key and the rest copy it).
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { SecureContextOptions } from 'node:tls';
import type { Handler, Plugin } from './plugin.js';
import { zoneAddrString, type ServerBlock, type ZoneAddr } from './corefile-types.js';

export interface PluginEntry {
  /** Directive that added it. */
  directive: string;
  plugin: Plugin;
}

/**
 * Client certificate policy (Go's tls.ClientAuthType): `nocert` asks for none,
 * `request` asks but accepts anything, `require` needs any certificate,
 * `verify_if_given` verifies one if sent, `require_and_verify` needs a valid one.
 */
export type TlsClientAuth = 'nocert' | 'request' | 'require' | 'verify_if_given' | 'require_and_verify';

export class BlockConfig {
  /** Index of the server block in the Corefile. */
  readonly index: number;
  /** Normalised keys of the block (after reverse-CIDR expansion). */
  readonly addrs: readonly ZoneAddr[];
  /** `dns://example.org.:53`, ... (what CoreDNS plugins see as server block keys). */
  readonly keys: readonly string[];
  /** The zones of the keys, in key order. */
  readonly zones: readonly string[];
  /** The parsed block. */
  readonly block: ServerBlock;
  /** Addresses to listen on; `''` means every interface. Set by `bind`. */
  listenHosts: string[] = [''];
  /** Set by `debug`: panics are logged with stacks and `[DEBUG]` lines are printed. */
  debug = false;
  /** Set by `errors { stacktrace }`: recovered panics are logged with a stack. */
  stacktrace = false;
  /** TLS material for tls:// and https:// keys (set by `tls`). */
  tls: SecureContextOptions | undefined = undefined;
  /** Client certificate policy of tls:// and https:// listeners (`tls ... { client_auth }`). */
  tlsClientAuth: TlsClientAuth = 'nocert';
  /** Receives TLS key log lines (NSS key log format) when `tls ... { keylog FILE }` is set. */
  tlsKeyLog: ((line: Buffer) => void) | undefined = undefined;
  /** Base directory for relative file names (CoreDNS's Config.Root, set by `root`); '' = the working directory. */
  root = '';
  /** Concurrent connection cap of https:// listeners (`https { max_connections }`); undefined = 200, 0 = unbounded. */
  maxHttpsConnections: number | undefined = undefined;
  /** Connection timeouts in milliseconds and the per-connection query cap (set by `timeouts`). */
  readTimeout: number | undefined = undefined;
  writeTimeout: number | undefined = undefined;
  idleTimeout: number | undefined = undefined;
  maxTcpQueries: number | undefined = undefined;
  /** Custom DoH request validation (default: the path must be /dns-query). */
  httpRequestValidate: ((req: IncomingMessage | Http2ServerRequest) => boolean) | undefined = undefined;
  /** View name and filter, set by a view plugin. */
  viewName = '';
  filters: ((ctx: import('./context.js').Context, r: import('./request.js').Request) => boolean)[] = [];

  /** Plugins in plugin.cfg order (several handlers of one directive in Corefile order). */
  readonly plugins: PluginEntry[] = [];
  /** The built chain (undefined when the block has no handler: the server answers REFUSED). */
  chain: Handler | undefined = undefined;
  /** The handlers of the chain, outermost first. */
  handlers: Handler[] = [];

  constructor(index: number, block: ServerBlock, addrs: readonly ZoneAddr[]) {
    this.index = index;
    this.block = block;
    this.addrs = addrs;
    this.keys = addrs.map(zoneAddrString);
    this.zones = addrs.map((a) => a.zone);
  }

  /** A handler of this block by name (CoreDNS's `dnsserver.GetConfig(c).Handler(name)`); the last registered wins. */
  handler(name: string): Handler | undefined {
    for (let i = this.handlers.length - 1; i >= 0; i--) if (this.handlers[i]!.name === name) return this.handlers[i];
    return undefined;
  }

  /** Builds the chain from the plugin list (list[0] outermost). */
  buildChain(): void {
    let next: Handler | undefined;
    const hs: Handler[] = [];
    for (let i = this.plugins.length - 1; i >= 0; i--) {
      next = this.plugins[i]!.plugin(next);
      hs.unshift(next);
    }
    this.chain = next;
    this.handlers = hs;
  }
}
