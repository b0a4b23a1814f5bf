/**
 * The hosts data: parsing of /etc/hosts style text (CoreDNS's hostsfile.go,
 * itself derived from Go's net/hosts.go) into forward, wildcard and reverse
 * maps, and the lookups the handler does.
 */
import { normalizeName, zonesMatch, nextLabel } from '@tsdns/core';
import { ipString, isV4, parseGoIP } from '@tsdns/core';

/** One parsed hosts text (the file, or the inline lines of the Corefile). */
export class HostsMap {
  /** Lower-case FQDN -> IPv4 addresses (text form), in file order. */
  readonly name4 = new Map<string, string[]>();
  /** Lower-case FQDN -> IPv6 addresses (Go's text form). */
  readonly name6 = new Map<string, string[]>();
  /** `*.parent.` -> IPv4 addresses. */
  readonly wildName4 = new Map<string, string[]>();
  /** `*.parent.` -> IPv6 addresses. */
  readonly wildName6 = new Map<string, string[]>();
  /** Address (Go's text form) -> names, for PTR. */
  readonly addr = new Map<string, string[]>();

  /** CoreDNS's `Map.Len()`: every address of every name plus every reverse name. */
  get size(): number {
    let n = 0;
    for (const m of [this.name4, this.name6, this.wildName4, this.wildName6, this.addr]) for (const v of m.values()) n += v.length;
    return n;
  }
}

export interface ParseHostsOptions {
  /** Names outside these zones are ignored. */
  origins: readonly string[];
  /** Add address -> name entries for PTR (false with `no_reverse`). */
  autoReverse: boolean;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Go's `bufio.MaxScanTokenSize`: a longer line stops the scan (bufio.ErrTooLong). */
const MAX_LINE_BYTES = 64 * 1024;

/** Unicode white space as Go's `bytes.Fields` sees it (unicode.IsSpace). */
const FIELD_SEP = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/**
 * Parses hosts text: per line, everything from `#` on is dropped; lines with
 * fewer than two fields or whose first field is not an IP address are
 * skipped; every further field is a name (made FQDN and lower-case) kept only
 * if it is inside `origins`. `*.name` entries are wildcards and get no PTR.
 */
export function parseHosts(text: string, opts: ParseHostsOptions): HostsMap {
  const m = new HostsMap();
  const lines = text.split('\n');
  // a final newline does not start another line
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let line of lines) {
    if (line.length >= MAX_LINE_BYTES / 3 && Buffer.byteLength(line, 'utf8') >= MAX_LINE_BYTES) break;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const f = line.split(FIELD_SEP);
    if (f[0] === '') f.shift();
    if (f.length > 0 && f[f.length - 1] === '') f.pop();
    if (f.length < 2) continue;
    let a = f[0]!;
    const pct = a.indexOf('%');
    if (pct >= 0) a = a.slice(0, pct); // IPv6 zone
    const ip = parseGoIP(a);
    if (!ip) continue;
    const v4 = isV4(ip);
    const text4or6 = ipString(ip);
    for (let i = 1; i < f.length; i++) {
      const name = normalizeName(f[i]!);
      if (zonesMatch(opts.origins, name) === '') continue;
      if (isWildcardName(name)) {
        push(v4 ? m.wildName4 : m.wildName6, name, text4or6);
        continue;
      }
      push(v4 ? m.name4 : m.name6, name, text4or6);
      if (opts.autoReverse) push(m.addr, text4or6, name);
    }
  }
  return m;
}

/** `*.example.com.` */
export function isWildcardName(name: string): boolean {
  return name.length >= 2 && name[0] === '*' && name[1] === '.';
}

/** The wildcard owner that would cover `qname` (`a.example.com.` -> `*.example.com.`), or ''. */
export function wildcardOf(qname: string): string {
  const r = nextLabel(qname, 0);
  if (r.end) return '';
  return '*.' + qname.slice(r.index);
}

/** Addresses of `host` in one map: the exact name, else its wildcard. */
export function lookupIn(m: ReadonlyMap<string, string[]>, wild: ReadonlyMap<string, string[]>, host: string): readonly string[] | undefined {
  const exact = m.get(host);
  if (exact) return exact;
  const pattern = wildcardOf(host);
  return pattern === '' ? undefined : wild.get(pattern);
}
