import { fileURLToPath } from 'node:url';
import {
  AUTHORITATIVE_ANSWER,
  isOpt,
  rcodeOf,
  type CaaData,
  type DnsRecord,
  type HinfoData,
  type MxData,
  type Msg,
  type RR,
  type SoaData,
  type SrvData,
} from '@tsdns/core';
import { makeQuery, serveHandler, type QueryOptions } from '@tsdns/testing';
import { File, parseZone, type Zone } from '../src/index.js';

/** Absolute path of a fixture file (the sources' test/fixtures, also when run from dist/). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
}

/** Path of a file under the repository's examples/. */
export function example(path: string): string {
  return fileURLToPath(new URL(`../../../../examples/${path}`, import.meta.url));
}

function q(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'latin1')) {
    if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b < 0x20 || b > 0x7e) out += '\\' + String(b).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

/** RDATA in presentation form (close to what `dig` prints). */
export function rdataText(r: RR): string {
  const d = r.data;
  switch (r.type) {
    case 'MX':
      return `${(d as MxData).preference} ${(d as MxData).exchange}`;
    case 'SRV': {
      const s = d as SrvData;
      return `${s.priority} ${s.weight} ${s.port} ${s.target}`;
    }
    case 'SOA': {
      const s = d as SoaData;
      return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case 'TXT':
    case 'SPF':
      return (d as Uint8Array[]).map((p) => q(Buffer.from(p).toString('latin1'))).join(' ');
    case 'CAA': {
      const c = d as CaaData;
      return `${c.flags} ${c.tag} ${q(c.value)}`;
    }
    case 'HINFO': {
      const h = d as HinfoData;
      return `${q(h.cpu)} ${q(h.os)}`;
    }
  }
  if (typeof d === 'string') return d;
  if (d instanceof Uint8Array) return `\\# ${d.length} ${Buffer.from(d).toString('hex')}`;
  return JSON.stringify(d);
}

/** A record as one line: `name ttl class type rdata`. */
export function rrText(r: DnsRecord): string {
  if (isOpt(r)) return `OPT ${r.udpPayloadSize}`;
  return `${r.name} ${r.ttl ?? 0} ${r.class ?? 'IN'} ${r.type} ${rdataText(r)}`;
}

export interface Reply {
  rcode: number;
  aa: boolean;
  answer: string[];
  ns: string[];
  extra: string[];
  msg: Msg;
}

/** The sections of a reply as text lines (OPT left out of the additional section). */
export function reply(m: Msg): Reply {
  return {
    rcode: rcodeOf(m),
    aa: (m.flags & AUTHORITATIVE_ANSWER) !== 0,
    answer: m.answers.map(rrText),
    ns: m.authorities.map(rrText),
    extra: m.additionals.filter((r) => !isOpt(r)).map(rrText),
    msg: m,
  };
}

/** A File handler serving `text` as zone `origin` (no next plugin). */
export function zoneHandler(text: string, origin: string, fall: string[] = []): { file: File; zone: Zone } {
  const zone = parseZone(Buffer.from(text), origin, 'stdin');
  const file = new File(undefined, { z: new Map([[origin, zone]]), names: [origin] }, fall);
  return { file, zone };
}

/** Runs one query through a handler as the server would (scrub, error replies). */
export async function ask(h: File, name: string, type: string, opts: QueryOptions = {}): Promise<Reply> {
  const r = await serveHandler(h, makeQuery(name, type, opts));
  if (!r.reply) throw new Error(`no reply for ${name} ${type}`);
  return reply(r.reply);
}

export interface Case {
  qname: string;
  qtype: string;
  rcode?: number;
  aa?: boolean;
  answer?: string[];
  ns?: string[];
  extra?: string[];
}

/** Record lines in the shape `rrText` prints, from compact `name ttl type rdata` strings. */
export function rrs(...lines: string[]): string[] {
  return lines.map((l) => {
    const [name, ttl, type, ...rest] = l.trim().split(/\s+/);
    return `${name} ${ttl} IN ${type} ${rest.join(' ')}`;
  });
}
