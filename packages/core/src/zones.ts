/**
 * Zone-name helpers with CoreDNS semantics (miekg/dns name helpers,
 * plugin.SplitHostPort, plugin/pkg/cidr, plugin/pkg/parse.Transport,
 * plugin.OriginsFromArgsOrServerBlock, plugin.Zones.Matches).
 *
 * Names are handled as JavaScript strings. Where Go counts bytes (label and
 * name lengths) the UTF-8 byte length is used.
 */
import { Buffer } from 'node:buffer';
import type { Transport } from './corefile-types.js';
import { parseGoCIDRParts } from './ip.js';

// ---------------------------------------------------------------------------
// miekg/dns name helpers

/** dns.IsFqdn: true when `s` ends with a dot that is not escaped (the wire module exports its own isFqdn). */
function isFqdn(s: string): boolean {
  if (s === '' || s[s.length - 1] !== '.') return false;
  const body = s.slice(0, -1);
  if (body === '' || body[body.length - 1] !== '\\') return true;
  // Go: i := strings.LastIndexFunc(body, notBackslash); (len(body)-i)%2 != 0,
  // in bytes - so the byte length of the rune before the backslashes counts.
  let i = body.length - 1;
  while (i >= 0 && body[i] === '\\') i--;
  const backslashes = body.length - 1 - i;
  let runeBytes = 1; // no such rune: Go's i is -1, len(body)-i = backslashes+1
  if (i >= 0) {
    const start = i > 0 && isLowSurrogate(body.charCodeAt(i)) && isHighSurrogate(body.charCodeAt(i - 1)) ? i - 1 : i;
    runeBytes = Buffer.byteLength(body.slice(start, i + 1), 'utf8');
  }
  return (runeBytes + backslashes) % 2 !== 0;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** dns.Fqdn: appends a dot unless `s` is already fully qualified. */
export function fqdn(s: string): string {
  return isFqdn(s) ? s : s + '.';
}

/**
 * dns.IsDomainName: the very lenient miekg check. Only label lengths (< 64
 * bytes), the total length (<= 255 bytes in wire form), empty labels and a
 * dangling escape are rejected; any other character is accepted.
 */
export function isDomainName(s: string): boolean {
  return domainNameLabels(s) !== undefined;
}

/** Like {@link isDomainName}, returning the label count (undefined when invalid). */
export function domainNameLabels(s: string): number | undefined {
  if (s.length === 0) return undefined;
  return byteNameLabels(Buffer.from(fqdn(s), 'utf8').toString('latin1'));
}

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The label-counting loop of dns.IsDomainName on a name that is already fully
 * qualified, given as a byte string (one character per byte, as zone files
 * are read, or UTF-8 bytes decoded as latin1); undefined when it is invalid.
 */
export function byteNameLabels(b: string): number | undefined {
  const lenmsg = 256;
  let labels = 0;
  let off = 0;
  let begin = 0;
  let wasDot = false;
  let escape = false;
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      escape = !escape;
      if (off + 1 > lenmsg) return undefined;
      if (isDigitCode(b.charCodeAt(i + 1)) && isDigitCode(b.charCodeAt(i + 2)) && isDigitCode(b.charCodeAt(i + 3))) {
        i += 3;
        begin += 3;
      } else {
        i++;
        begin++;
      }
      wasDot = false;
    } else if (c === 0x2e /* . */) {
      escape = false;
      if (i === 0 && b.length > 1) return undefined; // leading dot, not the root
      if (wasDot) return undefined; // empty label
      wasDot = true;
      const labelLen = i - begin;
      if (labelLen >= 64) return undefined;
      off += 1 + labelLen;
      if (off > lenmsg) return undefined;
      labels++;
      begin = i + 1;
    } else {
      escape = false;
      wasDot = false;
    }
  }
  if (escape) return undefined;
  return labels;
}

/**
 * dns.NextLabel: index of the start of the label after `offset`, and whether
 * the end of the name was reached.
 */
export function nextLabel(s: string, offset: number): { index: number; end: boolean } {
  if (s === '') return { index: 0, end: true };
  let i = offset;
  for (; i < s.length - 1; i++) {
    if (s[i] !== '.') continue;
    let j = i - 1;
    while (j >= 0 && s[j] === '\\') j--;
    if ((j - i) % 2 === 0) continue; // escaped dot
    return { index: i + 1, end: false };
  }
  return { index: i + 1, end: true };
}

/** dns.Split: start indexes of the labels of `s` (empty for the root). */
export function splitLabels(s: string): number[] {
  if (s === '.') return [];
  const idx = [0];
  let off = 0;
  for (;;) {
    const r = nextLabel(s, off);
    off = r.index;
    if (r.end) return idx;
    idx.push(off);
  }
}

/** dns.CountLabel: number of labels of `s` (0 for the root). */
export function countLabels(s: string): number {
  if (s === '.') return 0;
  let labels = 0;
  let off = 0;
  for (;;) {
    const r = nextLabel(s, off);
    off = r.index;
    labels++;
    if (r.end) return labels;
  }
}

/** dns.SplitDomainName: the labels of `s` (escapes kept), [] for the root. */
export function splitDomainName(s: string): string[] {
  if (s === '') return [];
  const idx = splitLabels(s);
  if (idx.length === 0) return [];
  const end = isFqdn(s) ? s.length - 1 : s.length;
  const labels: string[] = [];
  let begin = 0;
  for (const e of idx.slice(1)) {
    labels.push(s.slice(begin, e - 1));
    begin = e;
  }
  labels.push(s.slice(begin, end));
  return labels;
}

function asciiEqualFold(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * dns.CompareDomainName: how many labels `a` and `b` have in common counting
 * from the right (ASCII case-insensitive). The root has none in common.
 */
export function compareDomainName(a: string, b: string): number {
  if (a === '.' || b === '.') return 0;
  const l1 = splitLabels(a);
  const l2 = splitLabels(b);
  let j1 = l1.length - 1;
  let i1 = l1.length - 2;
  let j2 = l2.length - 1;
  let i2 = l2.length - 2;
  let n = 0;
  if (!asciiEqualFold(a.slice(l1[j1]), b.slice(l2[j2]))) return n;
  n++;
  while (i1 >= 0 && i2 >= 0) {
    if (!asciiEqualFold(a.slice(l1[i1], l1[j1]), b.slice(l2[i2], l2[j2]))) break;
    n++;
    j1--;
    i1--;
    j2--;
    i2--;
  }
  return n;
}

/**
 * dns.IsSubDomain: true when `child` is `parent` or below it (label-aware,
 * ASCII case-insensitive). Everything is below the root `.`.
 */
export function isSubDomain(parent: string, child: string): boolean {
  return compareDomainName(parent, child) === countLabels(parent);
}

/** dns.CanonicalName: ASCII-lowercased, fully qualified. */
export function canonicalName(s: string): string {
  return asciiLower(fqdn(s));
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Go's strings.ToLower: Unicode simple lower-case mapping, one code point at a
 * time (identical to ASCII lower-casing for ASCII input).
 */
export function goToLower(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return asciiLower(s);
  let out = '';
  for (const ch of s) {
    if (ch === '\u0130') {
      out += 'i'; // simple mapping; the full mapping would add U+0307
      continue;
    }
    const lower = ch.toLowerCase();
    out += [...lower].length === 1 ? lower : ch;
  }
  return out;
}

/**
 * plugin.Name.Normalize: `strings.ToLower(dns.Fqdn(s))` - fully qualified and
 * lower-cased (ASCII letters; other letters by Go's simple Unicode mapping).
 */
export function normalizeName(s: string): string {
  return goToLower(fqdn(s));
}

// ---------------------------------------------------------------------------
// Transports and ports

/** Default port of each transport (`unix` has none; `dns` is overridden by -dns.port). */
export const DEFAULT_PORTS: Readonly<Record<Transport, string>> = Object.freeze({
  dns: '53',
  tls: '853',
  quic: '853',
  grpc: '443',
  https: '443',
  https3: '443',
  unix: '',
});

/**
 * The port CoreDNS gives a key of `transport` without an explicit port:
 * `dnsPort` (the -dns.port value) for dns, the transport default otherwise.
 */
export function defaultPortFor(transport: Transport, dnsPort: string = DEFAULT_PORTS.dns): string {
  return transport === 'dns' ? dnsPort : DEFAULT_PORTS[transport];
}

// Checked in this order (https3 before https), case-sensitive prefixes.
const TRANSPORT_PREFIXES: readonly Transport[] = ['tls', 'dns', 'quic', 'grpc', 'https3', 'https', 'unix'];

/**
 * parse.Transport: strips a `scheme://` prefix (case-sensitive) and returns
 * the transport it names; `dns` when there is none.
 */
export function parseTransport(s: string): { transport: Transport; rest: string } {
  for (const t of TRANSPORT_PREFIXES) {
    const prefix = `${t}://`;
    if (s.startsWith(prefix)) return { transport: t, rest: s.slice(prefix.length) };
  }
  return { transport: 'dns', rest: s };
}

// ---------------------------------------------------------------------------
// Go formatting helpers

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.Atoi on a 64-bit platform; undefined on error. */
function goAtoi(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v < INT64_MIN || v > INT64_MAX) return undefined;
  return v;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** strconv.Quote (the `%q` verb) for a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      out += '\\ufffd'; // not representable in UTF-8
    } else if (PRINTABLE.test(ch)) {
      out += ch;
    } else {
      switch (ch) {
        case '\x07': out += '\\a'; break;
        case '\b': out += '\\b'; break;
        case '\f': out += '\\f'; break;
        case '\n': out += '\\n'; break;
        case '\r': out += '\\r'; break;
        case '\t': out += '\\t'; break;
        case '\v': out += '\\v'; break;
        default:
          if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
          else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
          else out += '\\U' + cp.toString(16).padStart(8, '0');
      }
    }
  }
  return out + '"';
}

// ---------------------------------------------------------------------------
// IP / CIDR parsing with Go's net.ParseCIDR (netip.ParseAddr) rules

interface GoCidr {
  /** 4 bytes for IPv4, 16 for IPv6; host bits cleared. */
  network: Uint8Array;
  prefix: number;
}

/** net.ParseCIDR: the masked network and prefix length, undefined when invalid. */
function parseGoCidr(s: string): GoCidr | undefined {
  const parts = parseGoCIDRParts(s);
  if (!parts) return undefined;
  const ip = parts.is4 ? parts.ip.subarray(12) : parts.ip;
  return { network: maskBytes(ip, parts.bits), prefix: parts.bits };
}

function maskBytes(ip: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(ip.length);
  for (let i = 0; i < ip.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = ip[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** Adds `n * 2^(bits-prefix)` to the network address (subnet enumeration). */
function nthSubnet(network: Uint8Array, prefix: number, n: number): Uint8Array {
  const out = Uint8Array.from(network);
  const bits = network.length * 8;
  let carry = BigInt(n) << BigInt(bits - prefix);
  for (let i = out.length - 1; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(out[i]!) + (carry & 0xffn);
    out[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return out;
}

/** Reverse zone covering `network/prefix`, prefix on a label boundary. */
function reverseZone(network: Uint8Array, prefix: number): string {
  if (network.length === 4) {
    const labels: string[] = [];
    for (let i = prefix / 8 - 1; i >= 0; i--) labels.push(String(network[i]));
    return labels.map((l) => l + '.').join('') + 'in-addr.arpa.';
  }
  const nibbles: string[] = [];
  for (let i = 0; i < prefix / 4; i++) {
    const byte = network[i >> 1]!;
    nibbles.push(((i & 1) === 0 ? byte >> 4 : byte & 0xf).toString(16));
  }
  return nibbles.reverse().map((l) => l + '.').join('') + 'ip6.arpa.';
}

function cidrReverseZones(c: GoCidr): string[] {
  const boundary = c.network.length === 4 ? 8 : 4;
  if (c.prefix % boundary === 0) return [reverseZone(c.network, c.prefix)];
  const newPrefix = Math.ceil(c.prefix / boundary) * boundary;
  const count = 2 ** (newPrefix - c.prefix);
  const zones: string[] = [];
  for (let i = 0; i < count; i++) zones.push(reverseZone(nthSubnet(c.network, newPrefix, i), newPrefix));
  return zones;
}

/**
 * Reverse zones for a CIDR (cidr.Split + cidr.Reverse): the prefix is rounded
 * up to the next label boundary (8 bits for IPv4, 4 for IPv6) and each
 * resulting subnet becomes one zone, in address order.
 * `10.0.0.0/15` -> `0.10.in-addr.arpa.`, `1.10.in-addr.arpa.`.
 * Returns undefined when `cidr` does not parse as a CIDR (net.ParseCIDR).
 */
export function reverseZonesFromCidr(cidr: string): string[] | undefined {
  const c = parseGoCidr(cidr);
  return c ? cidrReverseZones(c) : undefined;
}

// ---------------------------------------------------------------------------
// plugin.SplitHostPort and friends

/**
 * plugin.SplitHostPort: splits a key without scheme into host(s) and port.
 * A trailing `:digits` is the port (normalised: `0053` -> `53`); a reverse
 * CIDR host expands to its reverse zones. Hosts are not normalised.
 * Throws an Error with CoreDNS's text:
 * `expecting data after last colon: "X"`, `specified zone is too long: N > 255`,
 * `zone is not a valid domain name: X`, `invalid CIDR X`.
 */
export function splitHostPort(s: string): { hosts: string[]; port: string } {
  let port = '';
  const colon = s.lastIndexOf(':');
  if (colon === s.length - 1) throw new Error(`expecting data after last colon: ${goQuote(s)}`);
  if (colon !== -1) {
    const p = goAtoi(s.slice(colon + 1));
    if (p !== undefined) {
      port = p.toString();
      s = s.slice(0, colon);
    }
  }
  const len = Buffer.byteLength(s, 'utf8');
  if (len > 255) throw new Error(`specified zone is too long: ${len} > 255`);
  if (!isDomainName(s)) throw new Error(`zone is not a valid domain name: ${s}`);
  const c = parseGoCidr(s);
  if (!c) return { hosts: [s], port };
  if (s[0] === ':' || (s[0] === '0' && s.includes(':'))) throw new Error(`invalid CIDR ${s}`);
  return { hosts: cidrReverseZones(c), port };
}

/**
 * plugin.Host.NormalizeExact: strips the scheme and port and returns the
 * normalised zone(s) (several for a reverse CIDR); [] when the key is invalid.
 */
export function normalizeHostExact(host: string): string[] {
  try {
    return splitHostPort(parseTransport(host).rest).hosts.map(normalizeName);
  } catch {
    return [];
  }
}

/**
 * plugin.OriginsFromArgsOrServerBlock: the normalised zones given as plugin
 * arguments (invalid ones silently dropped, CIDRs expanded), or when there are
 * none, the server block keys each normalised to its first zone (a key that
 * does not normalise is kept as is).
 */
export function originsFromArgsOrServerBlock(args: readonly string[], blockKeys: readonly string[]): string[] {
  if (args.length === 0) {
    return blockKeys.map((k) => normalizeHostExact(k)[0] ?? k);
  }
  const out: string[] = [];
  for (const a of args) out.push(...normalizeHostExact(a));
  return out;
}

/**
 * plugin.Zones.Matches: the longest zone (in bytes) of which `qname` is a
 * subdomain; the first one wins a tie; '' when none matches.
 */
export function zonesMatch(zones: readonly string[], qname: string): string {
  let zone = '';
  let zoneLen = 0;
  for (const z of zones) {
    if (!isSubDomain(z, qname)) continue;
    const len = Buffer.byteLength(z, 'utf8');
    if (len > zoneLen) {
      zone = z;
      zoneLen = len;
    }
  }
  return zone;
}
