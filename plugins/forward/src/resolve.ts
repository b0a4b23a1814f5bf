/**
 * TO entries: addresses and resolv.conf files are used as they are; host
 * names are resolved once, at setup, with the system resolver or the
 * `resolver` servers (A, then AAAA). Duplicates are dropped, first wins.
 */
import { promises as dnsPromises } from 'node:dns';
import { encodeMessage, goQuote, isDomainName, parseTransport, RECURSION_DESIRED, WireReply, type Msg } from '@tsdns/core';
import { UdpConn } from './conn.js';
import { randomId } from './ids.js';
import { hostPortOrFile, isIP, joinHostPort, NoNameserversError, NotAddressOrFileError, splitHostPort, splitZone } from './hostport.js';

interface HostEntry {
  hostname: string;
  port: string;
  transport: 'dns' | 'tls' | 'https';
  /** TLS server name from `%name`. */
  zone: string;
}

/** One TO as configured: fixed addresses, or a host name to resolve. */
export type ToEntry = { static: true; addrs: string[] } | { static: false; entry: HostEntry };

const DEFAULT_PORT = { dns: '53', tls: '853', https: '443' } as const;

/** A host-name TO (`dns.example.net`, `tls://dns.example.net%sni:853`), or undefined. */
function parseAsHostEntry(h: string): HostEntry | undefined {
  const { host: clean, zone } = splitZone(h);
  const { transport, rest } = parseTransport(clean);
  if (transport !== 'dns' && transport !== 'tls' && transport !== 'https') return undefined;
  let hostname = rest;
  let port: string = DEFAULT_PORT[transport];
  const sp = splitHostPort(rest);
  if (!('err' in sp)) {
    hostname = sp.host;
    port = sp.port;
  }
  hostname = hostname.replace(/^[[\]]+|[[\]]+$/g, '');
  if (hostname === '' || !isDomainName(hostname)) return undefined;
  if (isIP(hostname)) return undefined;
  return { hostname, port, transport, zone };
}

/** Classifies the TOs in order; files without nameservers are skipped. */
export function classifyToAddrs(to: readonly string[]): ToEntry[] {
  const entries: ToEntry[] = [];
  for (const h of to) {
    let hosts: string[];
    try {
      hosts = hostPortOrFile(h);
    } catch (e) {
      if (e instanceof NoNameserversError) continue;
      if (!(e instanceof NotAddressOrFileError)) throw e;
      const entry = parseAsHostEntry(h);
      if (entry === undefined) throw new Error(`not an IP address, file, or valid domain: ${goQuote(h)}`);
      entries.push({ static: false, entry });
      continue;
    }
    entries.push({ static: true, addrs: hosts });
  }
  return entries;
}

function formatResolvedAddr(ip: string, e: HostEntry): string {
  const v6 = ip.includes(':');
  if (e.transport === 'tls' || e.transport === 'https') {
    if (e.zone !== '') return v6 ? `${e.transport}://[${ip}%${e.zone}]:${e.port}` : `${e.transport}://${ip}%${e.zone}:${e.port}`;
    return `${e.transport}://${joinHostPort(ip, e.port)}`;
  }
  return joinHostPort(ip, e.port);
}

async function systemLookup(hostname: string): Promise<string[]> {
  let res: { address: string }[];
  try {
    res = await dnsPromises.lookup(hostname, { all: true, verbatim: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOTFOUND' || err.code === 'ENODATA' || err.code === 'EAI_NONAME') throw new Error(`lookup ${hostname}: no such host`);
    throw new Error(`lookup ${hostname}: ${err.message}`);
  }
  if (res.length === 0) throw new Error(`no addresses found for ${goQuote(hostname)}`);
  return res.map((r) => r.address);
}

/** One UDP query (2 s timeout), as miekg's Client.Exchange. */
async function query(name: string, type: 'A' | 'AAAA', server: string): Promise<Msg> {
  const sp = splitHostPort(server);
  if ('err' in sp) throw new Error(`dial udp: ${sp.err}`);
  const id = randomId();
  const m: Msg = { id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], answers: [], authorities: [], additionals: [] };
  const c = await UdpConn.open(sp.host, Number(sp.port), server, undefined);
  try {
    const r = await c.exchange(encodeMessage(m), id, 512, 2000, undefined);
    return r instanceof WireReply ? r.toMsg() : r;
  } finally {
    c.close();
  }
}

async function dnsLookup(hostname: string, resolvers: readonly string[]): Promise<string[]> {
  let lastErr: Error | undefined;
  const name = hostname.endsWith('.') ? hostname : `${hostname}.`;
  for (const resolver of resolvers) {
    const server = 'err' in splitHostPort(resolver) ? joinHostPort(resolver, '53') : resolver;
    const ips: string[] = [];
    let r: Msg;
    try {
      r = await query(name, 'A', server);
    } catch (e) {
      lastErr = e as Error;
      continue;
    }
    for (const rr of r.answers) if (rr.type === 'A' && typeof (rr as { data: unknown }).data === 'string') ips.push((rr as { data: string }).data);
    try {
      r = await query(name, 'AAAA', server);
    } catch (e) {
      if (ips.length > 0) return ips;
      lastErr = e as Error;
      continue;
    }
    for (const rr of r.answers) if (rr.type === 'AAAA' && typeof (rr as { data: unknown }).data === 'string') ips.push((rr as { data: string }).data);
    if (ips.length > 0) return ips;
  }
  if (lastErr !== undefined) throw new Error(`no addresses found for ${goQuote(hostname)}: ${lastErr.message}`);
  throw new Error(`no addresses found for ${goQuote(hostname)}`);
}

/** Host name -> addresses, with `resolvers` or the system resolver. */
export function lookupHost(hostname: string, resolvers: readonly string[]): Promise<string[]> {
  return resolvers.length === 0 ? systemLookup(hostname) : dnsLookup(hostname, resolvers);
}

/** forward's normalizeAddr: `host:port` without scheme or `%name`, for de-duplication. */
function normalizeAddr(addr: string): string {
  return parseTransport(splitZone(addr).host).rest;
}

/** Resolves host names and removes duplicate addresses (first seen wins). */
export async function expandAndDedup(entries: readonly ToEntry[], resolvers: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of entries) {
    let addrs: string[];
    if (e.static) addrs = e.addrs;
    else {
      let ips: string[];
      try {
        ips = await lookupHost(e.entry.hostname, resolvers);
      } catch (err) {
        throw new Error(`failed to resolve ${goQuote(e.entry.hostname)}: ${(err as Error).message}`);
      }
      addrs = ips.map((ip) => formatResolvedAddr(ip, e.entry));
    }
    for (const a of addrs) {
      const key = normalizeAddr(a);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(a);
    }
  }
  return out;
}
