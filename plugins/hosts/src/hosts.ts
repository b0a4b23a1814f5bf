/**
 * The hosts handler (CoreDNS's plugin/hosts): answers A, AAAA and PTR
 * queries from a hosts file and inline entries, re-reading the file when its
 * modification time or size changes.
 */
import { open } from 'node:fs/promises';
import {
  AUTHORITATIVE_ANSWER,
  RCODE,
  lowerName,
  newReply,
  nextOrFailure,
  pluginLogger,
  typeCode,
  zonesMatch,
  type Context,
  type Handler,
  type Msg,
  type ResponseWriter,
  type RR,
} from '@tsdns/core';
import { HostsMap, lookupIn, parseHosts } from './hostsfile.js';
import { addressFromReverse, ipString, parseGoIP } from '@tsdns/core';
import { hostsEntries, hostsReloadTime } from './metrics.js';

const log = pluginLogger('hosts');

const TYPE_A = 1;
const TYPE_PTR = 12;
const TYPE_AAAA = 28;

/** Settings of one `hosts` directive. */
export interface HostsOptions {
  /** The hosts file (`/etc/hosts` by default; relative paths are read from the working directory). */
  path: string;
  /** Zones the plugin answers for (normalised FQDNs). */
  origins: readonly string[];
  /** TTL of every record (default 3600). */
  ttl: number;
  /** Generate PTR records from the entries (false with `no_reverse`). */
  autoReverse: boolean;
  /** How often the file is checked for changes, in ms (0: never; default 5000). */
  reloadMs: number;
  /** Zones for which a miss goes to the next plugin ([] = no fallthrough). */
  fallthrough: readonly string[];
  /** Unsupported query types go to the next plugin too (within `fallthrough`). */
  fallthroughUnsupported: boolean;
  /** Inline entries from the Corefile, one hosts line each. */
  inline: readonly string[];
}

/** The hosts file and the inline entries, with the file's change detection. */
export class Hostsfile {
  readonly path: string;
  readonly origins: readonly string[];
  readonly autoReverse: boolean;
  /** Entries of the file (replaced on every re-read). */
  hmap: HostsMap = new HostsMap();
  /** Entries inlined in the Corefile. */
  readonly inline: HostsMap;
  private mtimeNs = -1n;
  private size = -1n;
  private reading: Promise<void> | undefined;

  constructor(path: string, origins: readonly string[], autoReverse: boolean, inline: readonly string[]) {
    this.path = path;
    this.origins = origins;
    this.autoReverse = autoReverse;
    this.inline = inline.length === 0 ? new HostsMap() : this.parse(inline.join('\n'));
  }

  parse(text: string): HostsMap {
    return parseHosts(text, { origins: this.origins, autoReverse: this.autoReverse });
  }

  /**
   * Re-reads the file if its modification time or size changed since the
   * last read. A file that cannot be opened is ignored (its last content
   * stays); the metrics are updated on every successful re-read.
   */
  readHosts(): Promise<void> {
    this.reading ??= this.doRead().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async doRead(): Promise<void> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch {
      return; // a warning was logged at setup when it did not exist
    }
    try {
      let st;
      try {
        st = await fh.stat({ bigint: true });
      } catch {
        return;
      }
      if (st.mtimeNs === this.mtimeNs && st.size === this.size) return;
      let text = '';
      if (!st.isDirectory()) {
        try {
          text = await fh.readFile('utf8');
        } catch {
          text = '';
        }
      }
      const m = this.parse(text);
      log.debug(`Parsed hosts file into ${m.size} entries`);
      this.hmap = m;
      this.mtimeNs = st.mtimeNs;
      this.size = st.size;
      hostsEntries.labels(this.path).set(this.inline.size + m.size);
      hostsReloadTime.set(Number(st.mtimeNs) / 1e9);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** IPv4 addresses of `host` (lower-case FQDN): the file's, then the inline ones. */
  lookupV4(host: string): string[] {
    return concat(lookupIn(this.hmap.name4, this.hmap.wildName4, host), lookupIn(this.inline.name4, this.inline.wildName4, host));
  }

  /** IPv6 addresses of `host`. */
  lookupV6(host: string): string[] {
    return concat(lookupIn(this.hmap.name6, this.hmap.wildName6, host), lookupIn(this.inline.name6, this.inline.wildName6, host));
  }

  /** Names of an address (any text form Go parses), the file's then the inline ones. */
  lookupAddr(addr: string): string[] {
    const ip = parseGoIP(addr);
    if (!ip) return [];
    const key = ipString(ip);
    return concat(this.hmap.addr.get(key), this.inline.addr.get(key));
  }
}

function concat(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  if (!a) return b ? b.slice() : [];
  if (!b) return a.slice();
  return a.concat(b);
}

export class Hosts implements Handler {
  readonly name = 'hosts';
  readonly next: Handler | undefined;
  readonly hostsfile: Hostsfile;
  readonly ttl: number;
  readonly fallthrough: readonly string[];
  readonly fallthroughUnsupported: boolean;
  private readonly zones: readonly string[];
  private readonly allZones: boolean;

  constructor(next: Handler | undefined, hostsfile: Hostsfile, opts: Pick<HostsOptions, 'ttl' | 'fallthrough' | 'fallthroughUnsupported'>) {
    this.next = next;
    this.hostsfile = hostsfile;
    this.ttl = opts.ttl;
    this.fallthrough = opts.fallthrough;
    this.fallthroughUnsupported = opts.fallthroughUnsupported;
    this.zones = hostsfile.origins;
    this.allZones = this.zones.includes('.');
  }

  private fallsThrough(qname: string): boolean {
    return this.fallthrough.length > 0 && zonesMatch(this.fallthrough, qname) !== '';
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const q = r.questions[0];
    if (q === undefined) return nextOrFailure(this.name, this.next, ctx, w, r);
    const qname = lowerName(q.name);
    const qtype = typeCode(q.type) ?? 0;
    const h = this.hostsfile;

    if (!this.allZones && zonesMatch(this.zones, qname) === '') {
      // PTR zones need not be among the zones
      if (qtype !== TYPE_PTR) return nextOrFailure(this.name, this.next, ctx, w, r);
    }

    let answers: RR[] = [];
    switch (qtype) {
      case TYPE_PTR: {
        const names = h.lookupAddr(addressFromReverse(qname));
        if (names.length === 0) return nextOrFailure(this.name, this.next, ctx, w, r);
        answers = names.map((n) => ({ name: qname, type: 'PTR', class: 'IN', ttl: this.ttl, data: n.endsWith('.') ? n : n + '.' }));
        break;
      }
      case TYPE_A:
        answers = h.lookupV4(qname).map((ip) => ({ name: qname, type: 'A', class: 'IN', ttl: this.ttl, data: ip }));
        break;
      case TYPE_AAAA:
        answers = h.lookupV6(qname).map((ip) => ({ name: qname, type: 'AAAA', class: 'IN', ttl: this.ttl, data: ip }));
        break;
      default:
        if (this.fallthroughUnsupported && this.fallsThrough(qname)) return nextOrFailure(this.name, this.next, ctx, w, r);
    }

    if (answers.length === 0 && h.lookupV4(qname).length === 0 && h.lookupV6(qname).length === 0) {
      if (this.fallsThrough(qname)) return nextOrFailure(this.name, this.next, ctx, w, r);
      // NXDOMAIN would need a SOA, which a hosts file does not have
      return RCODE.SERVFAIL;
    }

    const m = newReply(r);
    m.flags |= AUTHORITATIVE_ANSWER;
    m.answers = answers;
    w.writeMsg(m);
    return RCODE.NOERROR;
  }
}
