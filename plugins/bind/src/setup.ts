import { readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { goQuote, log, type Controller } from '@tsdns/core';

/** A network interface: its name and the addresses a listener can bind (IPv6 link-local with `%NAME`). */
export interface NetInterface {
  name: string;
  addresses: string[];
}

/** Where the interface list comes from (replaceable in tests). */
export type InterfaceLister = () => NetInterface[];

/**
 * The host's interfaces, as Go's net.Interfaces + Addrs: every address of
 * every interface (IPv6 link-local addresses get the interface as zone), plus,
 * on Linux, the interfaces that have no address (they match by name and bind
 * nothing).
 */
export const systemInterfaces: InterfaceLister = () => {
  const out: NetInterface[] = [];
  const seen = new Set<string>();
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    const addresses: string[] = [];
    for (const i of infos ?? []) {
      const v6 = i.family === 'IPv6' || (i.family as unknown) === 6;
      addresses.push(v6 && isLinkLocalV6(i.address) && !i.address.includes('%') ? `${i.address}%${name}` : i.address);
    }
    out.push({ name, addresses });
    seen.add(name);
  }
  let links: string[] = [];
  try {
    links = readdirSync('/sys/class/net');
  } catch {
    // not Linux: only interfaces with addresses are known
  }
  for (const name of links) if (!seen.has(name)) out.push({ name, addresses: [] });
  return out;
};

let lister: InterfaceLister = systemInterfaces;

/** Replaces the interface list (tests); returns the previous lister. */
export function setInterfaceLister(l: InterfaceLister): InterfaceLister {
  const prev = lister;
  lister = l;
  return prev;
}

/** fe80::/10 (link-local unicast) or ffx2::/16 (link-local multicast), as Go's IsLinkLocalUnicast/IsLinkLocalMulticast. */
function isLinkLocalV6(address: string): boolean {
  const head = address.split(':')[0] ?? '';
  if (head === '') return false;
  const v = parseInt(head, 16);
  return (v & 0xffc0) === 0xfe80 || (v & 0xff0f) === 0xff02;
}

/** Go's net.ParseIP: an IPv4 or IPv6 address, no zone, no brackets. */
function isIPAddress(s: string): boolean {
  return !s.includes('%') && isIP(s) !== 0;
}

/** Addresses for a list of IPs and interface names (bind's listIP). */
function listIP(args: readonly string[], ifaces: readonly NetInterface[]): string[] {
  const all: string[] = [];
  for (const a of args) {
    let isIface = false;
    for (const iface of ifaces) {
      if (iface.name !== a) continue;
      isIface = true;
      all.push(...iface.addresses);
    }
    if (!isIface) {
      if (!isIPAddress(a)) throw new Error(`not a valid IP address or interface name: ${goQuote(a)}`);
      all.push(a);
    }
  }
  return all;
}

/**
 * `bind ADDRESS|IFACE... { except ADDRESS|IFACE... }`: every bind line of the
 * block adds its addresses, minus that line's exceptions, to the block's
 * listen hosts.
 */
export function setup(c: Controller): void {
  let ifaces: NetInterface[] = [];
  try {
    ifaces = lister();
  } catch (e) {
    log.warning(`plugin/bind: failed to get interfaces list, cannot bind by interface name: ${e instanceof Error ? e.message : String(e)}`);
  }
  const all: string[] = [];
  while (c.next()) {
    const addrs = c.remainingArgs();
    if (addrs.length === 0) throw new Error('at least one address or interface name is expected');
    let except: string[] = [];
    while (c.nextBlock()) {
      switch (c.val()) {
        case 'except':
          except = c.remainingArgs();
          if (except.length === 0) throw new Error('at least one address or interface must be given to except subdirective');
          break;
        default:
          throw new Error(`invalid option ${goQuote(c.val())}`);
      }
    }
    const ips = listIP(addrs, ifaces);
    const excluded = listIP(except, ifaces);
    for (const ip of ips) if (!excluded.includes(ip)) all.push(ip);
  }
  c.config.listenHosts = all;
}
