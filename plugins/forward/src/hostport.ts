/**
 * Go's address helpers as CoreDNS's forward setup uses them: net.SplitHostPort,
 * net.JoinHostPort, net.ParseIP, and plugin/pkg/parse's HostPortOrFile with
 * the resolv.conf reader (miekg's ClientConfigFromFile).
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { goQuote, parseTransport } from '@tsdns/core';

/** net.SplitHostPort; returns an error text instead of throwing. */
export function splitHostPort(hostport: string): { host: string; port: string } | { err: string } {
  const addrErr = (why: string): { err: string } => ({ err: `address ${hostport}: ${why}` });
  let j = 0;
  let k = 0;
  const i = hostport.lastIndexOf(':');
  if (i < 0) return addrErr('missing port in address');
  let host: string;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) return addrErr("missing ']' in address");
    if (end + 1 === hostport.length) return addrErr('missing port in address');
    if (end + 1 !== i) {
      if (hostport[end + 1] === ':') return addrErr('too many colons in address');
      return addrErr('missing port in address');
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return addrErr('too many colons in address');
  }
  if (hostport.slice(j).includes('[')) return addrErr("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) return addrErr("unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}

/** net.JoinHostPort: brackets around hosts containing a colon. */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** net.ParseIP(s) != nil: an IPv4 or IPv6 literal without a zone. */
export function isIP(s: string): boolean {
  if (s.includes('%')) return false;
  return isIPv4(s) || isIPv6(s);
}

/** parse.stripZone: drops everything from the last `%` (the port after it too). */
export function stripZone(host: string): string {
  const p = host.lastIndexOf('%');
  return p >= 0 ? host.slice(0, p) : host;
}

/**
 * forward's splitZone: `tls://1.2.3.4%name:853` -> (`tls://1.2.3.4:853`,
 * `name`), `[::1%name]:853` -> (`[::1]:853`, `name`). The part after `%`
 * is a TLS server name (or an IPv6 zone, which is dropped the same way).
 */
export function splitZone(input: string): { host: string; zone: string } {
  const sep = input.indexOf('://');
  let trans = '';
  let host = input;
  if (sep >= 0) {
    trans = input.slice(0, sep);
    host = input.slice(sep + 3);
  }
  let newHost = host;
  let zone = '';
  const lastPercent = host.lastIndexOf('%');
  if (lastPercent >= 0) {
    newHost = host.slice(0, lastPercent);
    if (newHost.startsWith('[')) newHost += ']';
    zone = host.slice(lastPercent + 1);
    const lastColon = zone.lastIndexOf(':');
    if (lastColon >= 0) {
      newHost += zone.slice(lastColon);
      zone = zone.slice(0, lastColon);
      if (zone.endsWith(']')) zone = zone.slice(0, -1);
    }
  }
  if (trans !== '') newHost = `${trans}://${newHost}`;
  return { host: newHost, zone };
}

/** A resolv.conf(5) file as miekg/dns reads it. */
export interface ResolvConf {
  servers: string[];
  search: string[];
  port: string;
  ndots: number;
  timeout: number;
  attempts: number;
}

function goAtoiLoose(s: string): number {
  return /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

/**
 * miekg's ClientConfigFromReader: lines split on white space; `nameserver X`
 * adds X as is (no validation); `domain`, `search` and `options
 * ndots/timeout/attempts/rotate` are read; anything else (comments too) is
 * ignored. The port is always 53.
 */
export function parseResolvConf(text: string): ResolvConf {
  const c: ResolvConf = { servers: [], search: [], port: '53', ndots: 1, timeout: 5, attempts: 2 };
  for (const line of text.split('\n')) {
    const f = line.split(/\s+/).filter((x) => x !== '');
    if (f.length < 1) continue;
    switch (f[0]) {
      case 'nameserver':
        if (f.length > 1) c.servers.push(f[1]!);
        break;
      case 'domain':
        c.search = f.length > 1 ? [f[1]!] : [];
        break;
      case 'search':
        c.search = f.slice(1);
        break;
      case 'options':
        for (const s of f.slice(1)) {
          if (s.startsWith('ndots:')) c.ndots = Math.min(15, Math.max(0, goAtoiLoose(s.slice(6))));
          else if (s.startsWith('timeout:')) c.timeout = Math.max(1, goAtoiLoose(s.slice(8)));
          else if (s.startsWith('attempts:')) c.attempts = Math.max(1, goAtoiLoose(s.slice(9)));
        }
        break;
      default:
        break;
    }
  }
  return c;
}

/** Go's text for a failed open (`open F: no such file or directory`). */
export function goOpenError(file: string, e: NodeJS.ErrnoException): string {
  return `open ${file}: ${errnoText(e.code) ?? e.message}`;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ENETUNREACH: 'network is unreachable',
  EHOSTUNREACH: 'no route to host',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EADDRINUSE: 'address already in use',
  EMSGSIZE: 'message too long',
  ETIMEDOUT: 'connection timed out',
  EINVAL: 'invalid argument',
  EAFNOSUPPORT: 'address family not supported by protocol',
  ECONNABORTED: 'software caused connection abort',
  ENOBUFS: 'no buffer space available',
  EPERM: 'operation not permitted',
};

/** The strerror text Go prints for an errno code, if known. */
export function errnoText(code: string | undefined): string | undefined {
  return code === undefined ? undefined : ERRNO_TEXT[code];
}

/** HostPortOrFile found nothing usable in a (resolv.conf) file. */
export class NoNameserversError extends Error {
  constructor() {
    super('no nameservers found');
    this.name = 'NoNameserversError';
  }
}

/** The TO is neither an address nor a readable file (maybe a host name). */
export class NotAddressOrFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAddressOrFileError';
  }
}

/** parse.tryFile: the nameservers of a resolv.conf-like file, as `IP:53`. */
function tryFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Go opens a directory fine and then reads nothing from it.
    if (err.code === 'EISDIR') return [];
    if (err.code === 'ENOENT') throw new Error(`failed to open file ${goQuote(file)}: ${goQuote(goOpenError(file, err))}`);
    throw new Error(goOpenError(file, err));
  }
  const c = parseResolvConf(text);
  return c.servers.map((s) => joinHostPort(stripZone(s), c.port));
}

const DEFAULT_PORTS: Record<string, string> = { dns: '53', tls: '853', quic: '853', grpc: '443', https: '443' };

/**
 * parse.HostPortOrFile for one TO: `IP`, `IP:port`, `[v6]:port` with an
 * optional scheme (a default port is added to bare addresses), or a file read
 * as resolv.conf. Throws NoNameserversError for a file without nameservers,
 * NotAddressOrFileError when `h` is neither, a plain Error otherwise.
 */
export function hostPortOrFile(h: string): string[] {
  const { transport: trans, rest } = parseTransport(h);
  let host = rest;
  if (host.length === 0) throw new Error(`invalid address: ${goQuote(h)}`);
  if (trans === 'unix') return [`${trans}://${host}`];
  const servers: string[] = [];
  const sp = splitHostPort(host);
  if ('err' in sp) {
    host = host.replace(/^[[\]]+|[[\]]+$/g, '');
    if (!isIP(stripZone(host))) {
      let ss: string[];
      try {
        ss = tryFile(host);
      } catch (e) {
        throw new NotAddressOrFileError(`not an IP address or file ${goQuote(host)}: ${(e as Error).message}`);
      }
      servers.push(...ss);
    } else {
      const port = DEFAULT_PORTS[trans];
      if (port !== undefined) servers.push(trans === 'dns' ? joinHostPort(host, port) : `${trans}://${joinHostPort(host, port)}`);
      else servers.push('');
    }
  } else if (!isIP(stripZone(sp.host))) {
    let ss: string[];
    try {
      ss = tryFile(host);
    } catch (e) {
      throw new NotAddressOrFileError(`not an IP address or file ${goQuote(host)}: ${(e as Error).message}`);
    }
    servers.push(...ss);
  } else {
    servers.push(h);
  }
  if (servers.length === 0) throw new NoNameserversError();
  return servers;
}
