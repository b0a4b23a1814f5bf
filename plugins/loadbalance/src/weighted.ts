/**
 * The weighted policy (CoreDNS's loadbalance/weighted.go): per-name weights
 * for addresses read from a weight file, re-read when its content (MD5)
 * changes; the address moved to the top of the answer is drawn with
 * probability proportional to its weight (default 1).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { normalize } from 'node:path';
import { formatGoDuration, pluginLogger, type DnsRecord, type Msg } from '@tsdns/core';
import { ipEqual, parseGoIP } from '@tsdns/core';
import { recordIP, splitSection } from './shuffle.js';

const log = pluginLogger('loadbalance');

/** The weight file could not be opened (CoreDNS's `errOpen`). */
export class WeightFileOpenError extends Error {
  constructor() {
    super('weight file open error');
    this.name = 'WeightFileOpenError';
  }
}

export interface WeightItem {
  /** 16-byte address. */
  address: Uint8Array;
  /** 1..255 */
  value: number;
}

/** Go's `bufio.MaxScanTokenSize`. */
const MAX_LINE_BYTES = 64 * 1024;
/** Go's unicode.IsSpace set, for strings.TrimSpace and strings.Fields. */
const SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, 'g');
const FIELDS = new RegExp(`[${SPACE}]+`);

/**
 * Parses weight file text (CoreDNS's `parseWeights`): a domain name line
 * starts a list; `IP WEIGHT` lines add to it. Throws with CoreDNS's messages.
 */
export function parseWeights(text: string, fileName: string): Map<string, WeightItem[]> {
  const domains = new Map<string, WeightItem[]>();
  let dname = '';
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    if (raw.length >= MAX_LINE_BYTES / 3 && Buffer.byteLength(raw, 'utf8') >= MAX_LINE_BYTES) {
      throw new Error(`weight file ${fileName} parsing error:bufio.Scanner: token too long`);
    }
    const line = (raw.endsWith('\r') ? raw.slice(0, -1) : raw).replace(TRIM, '');
    if (line.length === 0 || line[0] === '#') continue;
    const fields = line.split(FIELDS);
    switch (fields.length) {
      case 1: {
        const f = fields[0]!;
        if (parseGoIP(f)) throw new Error(`wrong domain name:"${f}" in weight file ${fileName}. (Maybe a missing weight value?)`);
        dname = f.endsWith('.') ? f : f + '.';
        if (!domains.has(dname)) domains.set(dname, []);
        break;
      }
      case 2: {
        const ip = parseGoIP(fields[0]!);
        if (!ip) throw new Error(`wrong IP address:"${fields[0]!}" in weight file ${fileName}`);
        const w = /^[0-9]+$/.test(fields[1]!) ? Number(fields[1]) : NaN;
        if (!(w >= 1 && w <= 255)) throw new Error(`wrong weight value:"${fields[1]!}" in weight file ${fileName}`);
        if (dname === '') throw new Error(`missing domain name in weight file ${fileName}`);
        domains.get(dname)!.push({ address: ip, value: w });
        break;
      }
      default:
        throw new Error(`could not parse weight line:"${line}" in weight file ${fileName}`);
    }
  }
  return domains;
}

export class WeightedRR {
  readonly fileName: string;
  /** Re-read period in ms (0: never). */
  readonly reloadMs: number;
  domains = new Map<string, WeightItem[]>();
  /** Random integer in [0, limit). */
  rand: (limit: number) => number = (limit) => Math.floor(Math.random() * limit);
  private md5 = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(fileName: string, reloadMs: number) {
    this.fileName = fileName;
    this.reloadMs = reloadMs;
  }

  /** Reads the file; parses it when its content changed. Throws WeightFileOpenError or a parse error. */
  async updateWeights(): Promise<void> {
    let data: Buffer;
    try {
      data = await readFile(normalize(this.fileName));
    } catch {
      throw new WeightFileOpenError();
    }
    const sum = createHash('md5').update(data).digest('hex');
    if (sum === this.md5) return;
    this.md5 = sum;
    this.domains = parseWeights(data.toString('utf8'), this.fileName);
    log.info(`Successfully reloaded weight file ${this.fileName}`);
  }

  /** The OnStartup work: first read (a missing file is tolerated when it will be retried). */
  async startup(): Promise<void> {
    try {
      await this.updateWeights();
    } catch (e) {
      if (e instanceof WeightFileOpenError && this.reloadMs !== 0) {
        log.warning(`Failed to open weight file:${e.message}. Will try again in ${formatGoDuration(this.reloadMs)}`);
      } else {
        throw new Error(`plugin/loadbalance: ${(e as Error).message}`);
      }
    }
  }

  /** Starts the periodic re-read (nothing with reload 0). */
  startReload(): void {
    if (this.reloadMs === 0 || this.timer) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.updateWeights()
        .catch((e: unknown) => log.error((e as Error).message))
        .finally(() => {
          busy = false;
        });
    }, Math.max(1, this.reloadMs));
    this.timer.unref();
  }

  stopReload(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** CoreDNS's `weightedShuffle`: only for A, AAAA and SRV questions; Answer and Additional. */
  shuffle(m: Msg): Msg {
    const qt = m.questions[0]?.type;
    if (qt === 'A' || qt === 'AAAA' || qt === 'SRV') {
      m.answers = this.weightedRoundRobin(m.answers);
      m.additionals = this.weightedRoundRobin(m.additionals);
    }
    return m;
  }

  /** CNAMEs, other records, the addresses with the drawn one first, MX; unchanged without addresses. */
  weightedRoundRobin(records: DnsRecord[]): DnsRecord[] {
    const { cname, address, mx, rest } = splitSection(records);
    if (address.length === 0) return records;
    const top = this.topAddressIndex(address);
    if (top > 0) {
      const t = address[0]!;
      address[0] = address[top]!;
      address[top] = t;
    }
    return cname.concat(rest, address, mx);
  }

  /** Index of the address to put first, drawn with the weights of its owner name. */
  topAddressIndex(address: DnsRecord[]): number {
    let wsum = 0;
    const weighted = address.map((r, index) => {
      let weight = 1;
      const ws = this.domains.get(r.name);
      if (ws) {
        const ip = recordIP(r);
        if (ip) {
          for (const w of ws) {
            if (ipEqual(w.address, ip)) {
              weight = w.value;
              break;
            }
          }
        }
      }
      wsum += weight;
      return { index, weight };
    });
    weighted.sort((a, b) => b.weight - a.weight);
    const v = this.rand(wsum);
    let psum = 0;
    for (const wa of weighted) {
      psum += wa.weight;
      if (v < psum) return wa.index;
    }
    log.error(`Internal error: cannot find top address (randv:${v} wsum:${wsum})`);
    return -1;
  }
}
