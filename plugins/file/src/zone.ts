/**
 * A zone: its apex (SOA, NS), the tree of its other names, where it was read
 * from and how it is reloaded (CoreDNS plugin/file zone.go, file.go Parse).
 */
import { normalize } from 'node:path';
import { countLabels, fqdnOf, goQuote, lowerName, type RR, type SoaData, type MxData } from '@tsdns/core';
import { Tree } from './tree.js';
import { prevLabel } from './names.js';
import { ZoneParser, type IncludeReader } from './zoneparser.js';

/** The apex records of a zone. */
export interface Apex {
  soa: RR | undefined;
  ns: RR[];
  /** RRSIGs over the SOA and the apex NS (kept, not served: DNSSEC is out of scope). */
  sigSoa: RR[];
  sigNs: RR[];
}

/** `Parse` found the same SOA serial as the zone already has (nothing was read). */
export class SerialUnchangedError extends Error {
  constructor(origin: string, file: string, serial: number) {
    super(`no change in SOA serial for origin ${origin} in file ${file}, with ${serial} SOA serial`);
    this.name = 'SerialUnchangedError';
  }
}

/** Go's filepath.Clean (POSIX). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  let c = normalize(p);
  if (c.length > 1 && c.endsWith('/')) c = c.slice(0, -1);
  return c;
}

function emptyApex(): Apex {
  return { soa: undefined, ns: [], sigSoa: [], sigNs: [] };
}

export class Zone {
  /** The zone's name, fully qualified. */
  readonly origin: string;
  readonly origLen: number;
  /** The zone file (cleaned path). */
  file: string;
  apex: Apex = emptyApex();
  tree: Tree = new Tree();
  /** How often the file is checked, in ms (0: never). */
  reloadInterval = 0;
  /** Reload when the file's modification time changes instead of its SOA serial. */
  reloadByMtime = false;
  /** Modification time (ms) of the file when it was last read. */
  mtimeMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private reloading = false;

  constructor(origin: string, file: string) {
    this.origin = fqdnOf(origin);
    this.origLen = countLabels(this.origin);
    this.file = cleanPath(file);
  }

  /** Adds a record as CoreDNS's Zone.Insert: names lower-cased (SRV owners keep their case), apex SOA/NS apart. */
  insert(r: RR): void {
    let rr: RR = r.type === 'SRV' ? { ...r } : { ...r, name: lowerName(r.name) };
    switch (rr.type) {
      case 'NS':
        rr = { ...rr, data: lowerName(rr.data as string) };
        if (rr.name === this.origin) {
          this.apex.ns.push(rr);
          return;
        }
        break;
      case 'SOA': {
        const s = rr.data as SoaData;
        rr = { ...rr, data: { ...s, mname: lowerName(s.mname), rname: lowerName(s.rname) } };
        this.apex.soa = rr;
        return;
      }
      case 'NSEC3':
      case 'NSEC3PARAM':
        throw new Error(`NSEC3 zone is not supported, dropping RR: ${rr.name} for zone: ${this.origin}`);
      case 'RRSIG': {
        const d = rr.data as Uint8Array;
        const covered = d.length >= 2 ? (d[0]! << 8) | d[1]! : 0;
        if (covered === 6) {
          this.apex.sigSoa.push(rr);
          return;
        }
        if (covered === 2 && rr.name === this.origin) {
          this.apex.sigNs.push(rr);
          return;
        }
        break;
      }
      case 'CNAME':
        rr = { ...rr, data: lowerName(rr.data as string) };
        break;
      case 'MX': {
        const m = rr.data as MxData;
        rr = { ...rr, data: { ...m, exchange: lowerName(m.exchange) } };
        break;
      }
      case 'SVCB':
      case 'HTTPS':
        if (rr.data instanceof Uint8Array) rr = { ...rr, data: lowerWireNameAt(rr.data, 2) };
        break;
    }
    this.tree.insert(rr);
  }

  /** The SOA serial, or -1 when the zone has no SOA (it was never loaded). */
  soaSerial(): number {
    const soa = this.apex.soa;
    return soa ? (soa.data as SoaData).serial : -1;
  }

  /** Apex records in zone-file order (SOA, its RRSIGs, NS, their RRSIGs); undefined without SOA. */
  apexRecords(): RR[] | undefined {
    const a = this.apex;
    if (!a.soa) return undefined;
    return [a.soa, ...a.sigSoa, ...a.ns, ...a.sigNs];
  }

  /** Replaces the zone's data with another zone's (a reload). */
  setData(from: Zone): void {
    this.apex = from.apex;
    this.tree = from.tree;
  }

  /**
   * CoreDNS nameFromRight: the origin plus `i` more labels of `qname`, or
   * `shot` when `qname` has fewer labels than that.
   */
  nameFromRight(qname: string, i: number): { name: string; shot: boolean } {
    if (i <= 0) return { name: this.origin, shot: false };
    let n = qname.length;
    for (let j = 1; j <= this.origLen; j++) {
      const p = prevLabel(qname.slice(0, n), 1);
      if (p.start) return { name: qname, shot: true };
      n = p.i;
    }
    for (let j = 1; j <= i; j++) {
      const p = prevLabel(qname.slice(0, n), 1);
      if (p.start) return { name: qname, shot: true };
      n = p.i;
    }
    return { name: qname.slice(n), shot: false };
  }

  /** Starts the periodic reload (once). */
  startReload(tick: () => Promise<void>): void {
    if (this.reloadInterval <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.reloading) return;
      this.reloading = true;
      void tick().finally(() => {
        this.reloading = false;
      });
    }, Math.max(1, this.reloadInterval));
    this.timer.unref();
  }

  /** Stops the periodic reload. */
  stopReload(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function lowerWireNameAt(d: Uint8Array, off: number): Uint8Array {
  const b = Buffer.from(d);
  let o = off;
  while (o < b.length) {
    const n = b[o]!;
    if (n === 0 || n >= 0xc0) break;
    for (let k = o + 1; k <= o + n && k < b.length; k++) {
      const c = b[k]!;
      if (c >= 65 && c <= 90) b[k] = c + 32;
    }
    o += n + 1;
  }
  return b;
}

export interface ParseOptions {
  /** Reads `$INCLUDE`d files (default: readFileSync). */
  readFile?: IncludeReader;
}

/**
 * Reads a zone (CoreDNS file.Parse). With `serial >= 0`, a zone whose first
 * SOA has that serial is not read: SerialUnchangedError. Errors carry
 * CoreDNS's texts: `failed to parse file "F" for origin O with error E`,
 * `file "F" has no SOA record for origin O`.
 */
export function parseZone(data: Uint8Array, origin: string, fileName: string, serial = -1, opts: ParseOptions = {}): Zone {
  const zp = new ZoneParser(data, fqdnOf(origin), fileName, opts.readFile ? { readFile: opts.readFile } : {});
  const z = new Zone(origin, fileName);
  let seenSOA = false;
  for (let rr = zp.next(); rr; rr = zp.next()) {
    if (!seenSOA && rr.type === 'SOA') {
      seenSOA = true;
      if (serial >= 0 && (rr.data as SoaData).serial === serial) throw new SerialUnchangedError(origin, fileName, serial);
    }
    z.insert(rr);
  }
  const e = zp.err();
  if (e) throw new Error(`failed to parse file ${goQuote(fileName)} for origin ${origin} with error ${e.message}`, { cause: e });
  if (!seenSOA) throw new Error(`file ${goQuote(fileName)} has no SOA record for origin ${origin}`);
  return z;
}
