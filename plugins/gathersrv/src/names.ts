/**
 * Name arithmetic for gathersrv: label-aware, ASCII case-insensitive suffix
 * tests and swaps between the distributed domain and the cluster domains,
 * and the `_service._proto.` split used to place the hostname prefix.
 *
 * Names are presentation-format FQDNs (trailing dot, `\.` and `\DDD`
 * escapes). Zones passed in are normalised (lower case, trailing dot).
 */
import { lowerName } from '@tsdns/core';

/**
 * The part of `name` in front of `zone` (ending with a dot, case kept), `''`
 * when `name` is the zone itself, or undefined when `name` is not at or below
 * `zone`. Label-aware: `foo.xdistro.local.` is not below `distro.local.`.
 */
export function relativeTo(name: string, zone: string): string | undefined {
  if (zone === '.') return name === '.' ? '' : name;
  const n = name.length;
  const z = zone.length;
  if (n < z) return undefined;
  if (n === z) return lowerName(name) === zone ? '' : undefined;
  // the character before the zone must be an unescaped dot
  const cut = n - z;
  if (name.charCodeAt(cut - 1) !== 0x2e || escaped(name, cut - 1)) return undefined;
  if (lowerName(name.slice(cut)) !== zone) return undefined;
  return name.slice(0, cut);
}

/** True when the character at `i` is escaped by an odd number of backslashes. */
function escaped(s: string, i: number): boolean {
  let k = 0;
  for (let j = i - 1; j >= 0 && s.charCodeAt(j) === 0x5c; j--) k++;
  return (k & 1) === 1;
}

/**
 * gathersrv's `divideDomain`: the leading labels that start with `_` (each
 * with its dot, e.g. `_http._tcp.`) and the rest.
 */
export function divideDomain(name: string): [head: string, tail: string] {
  let i = 0;
  while (i < name.length && name.charCodeAt(i) === 0x5f /* _ */) {
    // find the end of this label
    let j = i;
    while (j < name.length) {
      const c = name.charCodeAt(j);
      if (c === 0x5c) {
        j += 2;
        continue;
      }
      if (c === 0x2e) break;
      j++;
    }
    if (j >= name.length) break; // a last `_label` without dot stays in the tail
    i = j + 1;
  }
  return [name.slice(0, i), name.slice(i)];
}

/** True when `s` starts with `prefix`, ASCII case-insensitively. */
export function startsWithFold(s: string, prefix: string): boolean {
  if (s.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let a = s.charCodeAt(i);
    let b = prefix.charCodeAt(i);
    if (a >= 65 && a <= 90) a += 32;
    if (b >= 65 && b <= 90) b += 32;
    if (a !== b) return false;
  }
  return true;
}

/**
 * A host name moved into the distributed domain with the cluster's prefix in
 * front of its first non-`_` label: `demo-0.svc.` + `distro.local.` with
 * prefix `a-` gives `a-demo-0.svc.distro.local.` (gathersrv's rewriting of
 * A/AAAA owners and SRV targets).
 */
export function prefixedHost(relative: string, domain: string, prefix: string): string {
  const [head, tail] = divideDomain(joinName(relative, domain));
  return head + prefix + tail;
}

/** `relative` (as returned by `relativeTo`) put in front of `zone`. */
export function joinName(relative: string, zone: string): string {
  if (zone === '.') return relative === '' ? '.' : relative;
  return relative + zone;
}
