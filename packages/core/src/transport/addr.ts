import { isIPv4 } from 'node:net';
import type { Address } from '../writer.js';

/** Normalises a socket address: IPv4-mapped IPv6 becomes IPv4 (as Go reports it). */
export function toAddress(address: string | undefined, port: number | undefined): Address {
  let a = address ?? '';
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  const family: 4 | 6 = a.includes(':') ? 6 : 4;
  return { address: a, port: port ?? 0, family };
}

/** `host:port` with IPv6 in brackets (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
