/**
 * DNS codes and their mnemonics, spelled the way CoreDNS (miekg/dns) prints
 * them, so that logs and metric labels match CoreDNS byte for byte.
 */

export const TYPES: Readonly<Record<string, number>> = {
  None: 0, A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, PTR: 12,
  HINFO: 13, MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21,
  'NSAP-PTR': 23, SIG: 24, KEY: 25, PX: 26, GPOS: 27, AAAA: 28, LOC: 29, NXT: 30, EID: 31,
  NIMLOC: 32, SRV: 33, ATMA: 34, NAPTR: 35, KX: 36, CERT: 37, DNAME: 39, OPT: 41, APL: 42,
  DS: 43, SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50,
  NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55, NINFO: 56, RKEY: 57, TALINK: 58, CDS: 59,
  CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, SPF: 99, UINFO: 100,
  UID: 101, GID: 102, UNSPEC: 103, NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108,
  EUI64: 109, NXNAME: 128, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254,
  ANY: 255, URI: 256, CAA: 257, AVC: 258, AMTRELAY: 260, RESINFO: 261, TA: 32768, DLV: 32769,
  Reserved: 65535,
};

const typeNames: string[] = [];
const typeCodes = new Map<string, number>();
for (const [k, v] of Object.entries(TYPES)) {
  typeNames[v] = k;
  typeCodes.set(k, v);
}

/** Mnemonic of a type code (`A`, `SRV`, `TYPE65280`). */
export function typeToString(t: number): string {
  return typeNames[t] ?? `TYPE${t}`;
}

/**
 * Type code of a mnemonic. Accepts CoreDNS spellings (`A`, `TYPE65280`) and
 * dns-packet's (`UNKNOWN_65280`), case-insensitively. Undefined if unknown.
 */
export function typeCode(s: string): number | undefined {
  const v = typeCodes.get(s);
  if (v !== undefined) return v;
  const u = s.toUpperCase();
  const w = typeCodes.get(u);
  if (w !== undefined) return w;
  const m = /^TYPE(\d{1,5})$/.exec(u) ?? /^UNKNOWN_(\d{1,5})$/.exec(u);
  if (m) {
    const n = Number(m[1]);
    return n <= 0xffff ? n : undefined;
  }
  return undefined;
}

export const CLASSES: Readonly<Record<string, number>> = { IN: 1, CS: 2, CH: 3, HS: 4, NONE: 254, ANY: 255 };
const classNames: string[] = [];
for (const [k, v] of Object.entries(CLASSES)) classNames[v] = k;

/**
 * Class mnemonic as carried in decoded messages (`IN`, `CH`, `ANY`,
 * `CLASS42`).
 */
export function classToString(c: number): string {
  return classNames[c] ?? `CLASS${c}`;
}

/**
 * Class mnemonic exactly as CoreDNS prints it in logs and metrics: as
 * `classToString`, except that 255 is `CLASS255` (`ANY` is also a type name).
 */
export function classToPresentation(c: number): string {
  if (c === 255) return 'CLASS255';
  return classToString(c);
}

/** Class code of a mnemonic (`IN`, `CH`, `CLASS255`). Undefined if unknown. */
export function classCode(s: string): number | undefined {
  const v = CLASSES[s] ?? CLASSES[s.toUpperCase()];
  if (v !== undefined) return v;
  const m = /^CLASS(\d{1,5})$/i.exec(s);
  if (m) {
    const n = Number(m[1]);
    return n <= 0xffff ? n : undefined;
  }
  return undefined;
}

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  DSOTYPENI: 11,
  BADVERS: 16,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADMODE: 19,
  BADNAME: 20,
  BADALG: 21,
  BADTRUNC: 22,
  BADCOOKIE: 23,
} as const;

const rcodeNames: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE', 11: 'DSOTYPENI',
  16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG',
  22: 'BADTRUNC', 23: 'BADCOOKIE',
};

/** Rcode mnemonic or undefined (CoreDNS's `dns.RcodeToString`; 16 is `BADSIG`). */
export function rcodeName(r: number): string | undefined {
  return rcodeNames[r];
}

/** Rcode as CoreDNS labels metrics: mnemonic, else `RCODE<n>`. */
export function rcodeToString(r: number): string {
  return rcodeNames[r] ?? `RCODE${r}`;
}

/** Rcode code from a mnemonic (`NXDOMAIN`), or undefined. */
export function rcodeCode(s: string): number | undefined {
  const u = s.toUpperCase();
  return (RCODE as Record<string, number>)[u];
}

export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;
const opcodeNames: Record<number, string> = { 0: 'QUERY', 1: 'IQUERY', 2: 'STATUS', 4: 'NOTIFY', 5: 'UPDATE' };
export function opcodeToString(o: number): string {
  return opcodeNames[o] ?? String(o);
}

/** Header flag bits, as dns-packet names them (within the 16-bit flags word). */
export const QR = 1 << 15;
export const AUTHORITATIVE_ANSWER = 1 << 10;
export const TRUNCATED_RESPONSE = 1 << 9;
export const RECURSION_DESIRED = 1 << 8;
export const RECURSION_AVAILABLE = 1 << 7;
export const ZERO = 1 << 6;
export const AUTHENTIC_DATA = 1 << 5;
export const CHECKING_DISABLED = 1 << 4;
/** DO bit inside the OPT record's 16-bit flags. */
export const DNSSEC_OK = 1 << 15;

/** EDNS0 option codes. */
export const EDNS = {
  LLQ: 1,
  UL: 2,
  NSID: 3,
  DAU: 5,
  DHU: 6,
  N3U: 7,
  SUBNET: 8,
  EXPIRE: 9,
  COOKIE: 10,
  TCP_KEEPALIVE: 11,
  PADDING: 12,
  EDE: 15,
  REPORTING: 18,
  ZONEVERSION: 19,
  ESU: 0xfdf,
} as const;

export const MIN_MSG_SIZE = 512;
export const MAX_MSG_SIZE = 65535;
