/**
 * Key normalisation: core/dnsserver/register.go InspectServerBlocks.
 */
import {
  ConfigError,
  defaultPortFor,
  fqdn,
  normalizeName,
  parseTransport,
  splitHostPort,
  zoneAddrString,
  type ServerBlock,
  type Token,
  type ZoneAddr,
} from '@tsdns/core';

export interface InspectOptions {
  /** Port for `dns://` keys without an explicit port (the -dns.port value, default `53`). */
  defaultPort: string;
}

export interface InspectedBlock {
  /** The parsed server block, unchanged. */
  block: ServerBlock;
  /**
   * One entry per zone, in the order CoreDNS creates its configs: each key's
   * zones in key order (a reverse CIDR key contributes several zones).
   */
  addrs: ZoneAddr[];
  /**
   * `zoneAddrString(addrs[i])`, e.g. `dns://example.org.:53` - what CoreDNS
   * stores back into the block's keys and plugins see as the server block keys.
   */
  keys: string[];
  /** The key token each entry of `addrs` came from (for error locations). */
  keyTokens: Token[];
}

/**
 * Turns every server block key into transport/zone/port triples like
 * CoreDNS's InspectServerBlocks. Errors are ConfigErrors with the key's
 * location: `FILE:LINE - error inspecting server blocks: <CoreDNS text>`.
 * Duplicate and overlap checks are not done here.
 */
export function inspectServerBlocks(blocks: readonly ServerBlock[], opts: InspectOptions): InspectedBlock[] {
  return blocks.map((block) => {
    const addrs: ZoneAddr[] = [];
    const keyTokens: Token[] = [];
    block.keys.forEach((key, i) => {
      const tok: Token = block.keyTokens[i] ?? { text: key, file: '', line: 0 };
      try {
        const { transport, rest } = parseTransport(key);
        const { hosts, port: explicitPort } = splitHostPort(rest);
        // CoreDNS re-checks every host once fully qualified.
        for (const h of hosts) splitHostPort(fqdn(h));
        const port = explicitPort === '' ? defaultPortFor(transport, opts.defaultPort) : explicitPort;
        for (const h of hosts) {
          addrs.push({ transport, zone: normalizeName(h), port });
          keyTokens.push(tok);
        }
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        const msg = `error inspecting server blocks: ${(e as Error).message}`;
        throw new ConfigError(`${tok.file}:${tok.line} - ${msg}`, tok.file, tok.line);
      }
    });
    return { block, addrs, keys: addrs.map(zoneAddrString), keyTokens };
  });
}
