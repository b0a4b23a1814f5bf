/**
 * Fuzzing one real tsdns process with random and mutated packets over UDP
 * and TCP. Every fuzz packet is followed by a valid whoami query on the same
 * socket; the server handles a socket's messages in order, so the replies
 * before the valid answer belong to the fuzz packet and are checked against
 * the header-filter rules (drop / NOTIMP / FORMERR / some reply), decoded,
 * and their ID compared. The process must never exit, never log a recovered
 * panic, answer every valid query, and keep its RSS within a bound.
 *
 * FUZZ_PACKETS (5000) packets per transport; TSDNS_FUZZ_SOAK=1 runs
 * SOAK_PACKETS (200,000) instead, TSDNS_FUZZ_PACKETS=N any count, and
 * TSDNS_FUZZ_SEED picks another stream:
 *   TSDNS_FUZZ_SOAK=1 node --test test/dist/e2e/fuzz/fuzz.test.js
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { RCODE, decodeMessage, type Msg } from '@tsdns/core';
import { DnsTcpClient, makeQuery, packQuery, type TsdnsProcess } from '@tsdns/testing';
import { HOST, assertWhoami, hex, startWhoami } from '../helpers.js';
import { expectationOf, packet, Rng, type Generated } from './gen.js';

/** Packets per transport in the normal suite. */
export const FUZZ_PACKETS = 5000;
/** Packets per transport for a soak run (TSDNS_FUZZ_SOAK=1). */
export const SOAK_PACKETS = 200_000;

const COUNT = Number(process.env.TSDNS_FUZZ_PACKETS ?? (process.env.TSDNS_FUZZ_SOAK ? SOAK_PACKETS : FUZZ_PACKETS));
const SEED = Number(process.env.TSDNS_FUZZ_SEED ?? 0x7d5e);
const UDP_WORKERS = 16;
const TCP_WORKERS = 8;
const STREAMS = Math.max(50, Math.min(2000, Math.floor(COUNT / 20)));
/** Allowed RSS growth after the warm-up, in kB. */
const RSS_SLACK_KB = 64 * 1024;
/** Absolute RSS ceiling, in kB. */
const RSS_MAX_KB = 400 * 1024;

interface Failure {
  proto: string;
  index: number;
  reason: string;
  packet: string;
  mutations: string[];
  reply?: string;
}

class Stats {
  drop = 0;
  notimp = 0;
  formerr = 0;
  reply = 0;
  longNameReplies = 0;
  valid = 0;
  readonly rcodes = new Map<number, number>();
}

/** Checks the replies a fuzz packet got. Returns a failure reason or undefined. */
function checkFuzzReplies(sent: Buffer, replies: Buffer[], stats: Stats): string | undefined {
  const exp = expectationOf(sent);
  if (exp.kind === 'drop') {
    stats.drop++;
    return replies.length === 0 ? undefined : `a message that must be dropped got ${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}`;
  }
  if (replies.length !== 1) return `expected exactly one reply (${exp.kind}), got ${replies.length}`;
  const rep = replies[0]!;
  if (rep.length < 12) return 'reply shorter than a header';
  if (rep.readUInt16BE(0) !== sent.readUInt16BE(0)) return `reply ID ${rep.readUInt16BE(0)} does not echo ${sent.readUInt16BE(0)}`;
  const bits = rep.readUInt16BE(2);
  if (!(bits & 0x8000)) return 'QR not set in the reply';
  const rc = bits & 0xf;
  stats.rcodes.set(rc, (stats.rcodes.get(rc) ?? 0) + 1);
  let m: Msg;
  try {
    m = decodeMessage(rep);
  } catch (e) {
    // whoami's `_udp.<qname>` can exceed 255 octets for a long qname: CoreDNS sends it
    // anyway (miekg does not check on pack); decoders then reject it.
    if (/255 wire-format octets/.test((e as Error).message) && longQname(sent)) {
      stats.longNameReplies++;
      return undefined;
    }
    return `reply does not decode: ${(e as Error).message}`;
  }
  const counts = [rep.readUInt16BE(4), rep.readUInt16BE(6), rep.readUInt16BE(8), rep.readUInt16BE(10)];
  const sentBits = sent.readUInt16BE(2);
  switch (exp.kind) {
    case 'notimp': {
      stats.notimp++;
      if (rc !== RCODE.NOTIMP) return `NOTIMP expected, got rcode ${rc}`;
      const want = (sentBits & ~(0x0400 | 0x0040 | 0xf)) | 0x8000 | RCODE.NOTIMP;
      if (bits !== want) return `NOTIMP header bits ${bits.toString(16)}, want ${want.toString(16)}`;
      if (counts.some((c) => c !== 0)) return `NOTIMP with sections ${counts.join(',')}`;
      return undefined;
    }
    case 'formerr': {
      stats.formerr++;
      if (rc !== RCODE.FORMERR) return `FORMERR expected, got rcode ${rc}`;
      const want = (sentBits & ~(0x7800 | 0x0400 | 0x0040 | 0xf)) | 0x8000 | RCODE.FORMERR;
      if (bits !== want) return `FORMERR header bits ${bits.toString(16)}, want ${want.toString(16)}`;
      if (counts.some((c) => c !== 0)) return `FORMERR with sections ${counts.join(',')}`;
      return undefined;
    }
    default: {
      stats.reply++;
      if (rc === RCODE.SERVFAIL && m.questions.length > 0) return 'SERVFAIL with a question: a handler or the server threw';
      if (rc === RCODE.FORMERR && (counts[1] !== 0 || counts[2] !== 0 || counts[3] !== 0)) return 'FORMERR with records';
      if (rc === RCODE.NOERROR && m.questions.length !== 1) return 'NOERROR without the question';
      return undefined;
    }
  }
}

function longQname(sent: Buffer): boolean {
  try {
    const q = decodeMessage(sent).questions[0];
    return q !== undefined && Buffer.byteLength(q.name) >= 240;
  } catch {
    return false;
  }
}

function whoamiProblem(m: Msg, want: Parameters<typeof assertWhoami>[1]): string | undefined {
  try {
    assertWhoami(m, want);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** A UDP socket with a receive queue. */
class UdpClient {
  readonly sock: dgram.Socket;
  private readonly queue: Buffer[] = [];
  private waiter: ((b: Buffer | undefined) => void) | undefined;
  private constructor(sock: dgram.Socket) {
    this.sock = sock;
    sock.on('message', (m) => {
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w(m);
      } else this.queue.push(m);
    });
  }
  static open(): Promise<UdpClient> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, HOST, () => resolve(new UdpClient(s)));
    });
  }
  get port(): number {
    return this.sock.address().port;
  }
  send(b: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.sock.send(b, port, HOST, (e) => (e ? reject(e) : resolve())));
  }
  recv(timeoutMs: number): Promise<Buffer | undefined> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (b) => {
        clearTimeout(t);
        resolve(b);
      };
    });
  }
  close(): void {
    this.sock.close();
  }
}

function validId(fid: number, i: number): number {
  const v = (fid + 1 + (i % 997)) & 0xffff;
  return v === fid ? (v + 1) & 0xffff : v;
}

describe('fuzz', () => {
  let p: TsdnsProcess;
  let port: number;
  const failures: Failure[] = [];
  const stats = { udp: new Stats(), tcp: new Stats() };
  const rss: number[] = [];

  const fail = (f: Failure): void => {
    if (failures.length < 50) failures.push(f);
  };

  /** The answer to the valid query sent after fuzz packet `i` (bytes `f`): counted, and a failure unless it is whoami's answer. */
  const checkValid = (proto: 'udp' | 'tcp', i: number, g: Generated, f: Buffer, r: Buffer, want: { id: number; qname: string; port: number }): void => {
    stats[proto].valid++;
    let problem: string | undefined;
    try {
      problem = whoamiProblem(decodeMessage(r), { ...want, proto });
    } catch (e) {
      problem = `valid answer does not decode: ${(e as Error).message}`;
    }
    if (problem) fail({ proto, index: i, reason: `valid query answered wrongly: ${problem}`, packet: hex(f), mutations: g.mutations, reply: hex(r) });
  };

  /** The replies fuzz packet `i` got before the valid answer, checked against what the server may do with `seen` (what of `f` reached it). */
  const checkOthers = (proto: 'udp' | 'tcp', i: number, g: Generated, f: Buffer, seen: Buffer, others: Buffer[]): void => {
    const why = checkFuzzReplies(seen, others, stats[proto]);
    if (why) fail({ proto, index: i, reason: why, packet: hex(f), mutations: g.mutations, reply: others.map(hex).join(' | ') });
  };

  before(async () => {
    ({ p, port } = await startWhoami());
  });
  after(() => {
    p?.kill('SIGKILL');
  });

  async function udpRange(from: number, to: number): Promise<void> {
    const workers = Array.from({ length: UDP_WORKERS }, async (_, w) => {
      const c = await UdpClient.open();
      try {
        for (let i = from + w; i < to; i += UDP_WORKERS) {
          const g = packet(SEED, i);
          const f = g.bytes;
          const seen = f.length > 512 ? f.subarray(0, 512) : f;
          const fid = f.length >= 2 ? f.readUInt16BE(0) : -1;
          const vid = validId(fid, i);
          const vname = `v${i}.Fuzz.example.`;
          await c.send(f, port);
          await c.send(packQuery(vname, 'A', { id: vid }), port);
          const others: Buffer[] = [];
          for (;;) {
            const r = await c.recv(3000);
            if (r === undefined) {
              fail({ proto: 'udp', index: i, reason: 'the valid query after this packet got no answer', packet: hex(f), mutations: g.mutations });
              break;
            }
            if (r.length >= 2 && r.readUInt16BE(0) === vid) {
              checkValid('udp', i, g, f, r, { id: vid, qname: vname, port: c.port });
              break;
            }
            others.push(r);
          }
          checkOthers('udp', i, g, f, seen, others);
        }
      } finally {
        c.close();
      }
    });
    await Promise.all(workers);
  }

  async function tcpRange(from: number, to: number): Promise<void> {
    const workers = Array.from({ length: TCP_WORKERS }, async (_, w) => {
      let c = await DnsTcpClient.connect(HOST, port);
      try {
        for (let i = from + w; i < to; i += TCP_WORKERS) {
          const g = packet(SEED ^ 0x5a5a5a5a, i);
          const f = g.bytes.length > 65535 ? g.bytes.subarray(0, 65535) : g.bytes;
          const fid = f.length >= 2 ? f.readUInt16BE(0) : -1;
          const vid = validId(fid, i);
          const vname = `t${i}.Fuzz.example.`;
          if (!c.isOpen) c = await DnsTcpClient.connect(HOST, port);
          c.send(f, packQuery(vname, 'A', { id: vid }));
          const others: Buffer[] = [];
          for (;;) {
            let r: Buffer;
            try {
              r = (await c.next(3000)).raw;
            } catch (e) {
              fail({ proto: 'tcp', index: i, reason: `no answer to the valid query: ${(e as Error).message}`, packet: hex(f), mutations: g.mutations });
              c.close();
              break;
            }
            if (r.readUInt16BE(0) === vid && r.length >= 12) {
              checkValid('tcp', i, g, f, r, { id: vid, qname: vname, port: c.localPort });
              break;
            }
            others.push(r);
          }
          checkOthers('tcp', i, g, f, f, others);
        }
      } finally {
        c.close();
      }
    });
    await Promise.all(workers);
  }

  /** Raw garbage on TCP streams (random framing), closed abruptly or politely. */
  async function streams(n: number): Promise<void> {
    const r = new Rng(SEED, 0x57);
    for (let i = 0; i < n; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, n - i) }, async () => {
          const c = await DnsTcpClient.connect(HOST, port);
          const chunks = r.range(1, 4);
          for (let k = 0; k < chunks; k++) {
            const body = packet(SEED, r.int(1 << 30)).bytes;
            const len = r.chance(0.5) ? body.length : r.int(65536);
            const frame = Buffer.concat([Buffer.from([len >> 8, len & 0xff]), body]);
            await c.writeRaw(r.chance(0.3) ? frame.subarray(0, r.int(frame.length + 1)) : frame).catch(() => undefined);
          }
          if (r.chance(0.5)) c.close();
          else c.sock.end();
        }),
      );
    }
  }

  it(`survives ${COUNT} UDP and ${COUNT} TCP fuzz packets (seed ${SEED}) and answers every valid query`, { timeout: Math.max(120_000, COUNT * 60) }, async (t) => {
    const warm = Math.min(1000, Math.floor(COUNT / 5));
    await udpRange(0, warm);
    await tcpRange(0, warm);
    rss.push(p.rssKb() ?? 0);
    const step = Math.max(warm, 5000);
    for (let from = warm; from < COUNT; from += step) {
      const to = Math.min(COUNT, from + step);
      await udpRange(from, to);
      await tcpRange(from, to);
      rss.push(p.rssKb() ?? 0);
      assert.ok(!p.exited, `tsdns exited: ${JSON.stringify(p.exitStatus)}\n${p.stderrText()}`);
    }
    await streams(STREAMS);
    // still alive and answering after the garbage streams
    const c = await DnsTcpClient.connect(HOST, port);
    const r = await c.query(makeQuery('after.streams.', 'A', { id: 1 }));
    assertWhoami(r.msg, { id: 1, qname: 'after.streams.', proto: 'tcp', port: c.localPort });
    c.close();
    rss.push(p.rssKb() ?? 0);

    t.diagnostic(`udp: ${JSON.stringify({ ...stats.udp, rcodes: Object.fromEntries(stats.udp.rcodes) })}`);
    t.diagnostic(`tcp: ${JSON.stringify({ ...stats.tcp, rcodes: Object.fromEntries(stats.tcp.rcodes) })}`);
    t.diagnostic(`rss kB after warm-up and each step: ${rss.join(', ')}`);

    assert.ok(!p.exited, `tsdns exited: ${JSON.stringify(p.exitStatus)}\n${p.stderrText()}`);
    const panics = p.stdout().filter((l) => l.includes('Recovered from panic'));
    assert.deepEqual(panics.slice(0, 10), [], 'no recovered panics');
    assert.equal(p.stderrText(), '');
    assert.equal(stats.udp.valid, COUNT, 'every valid UDP query answered');
    assert.equal(stats.tcp.valid, COUNT, 'every valid TCP query answered');
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures (seed ${SEED})`);
    if (process.platform === 'linux') {
      const base = rss[0]!;
      const peak = Math.max(...rss);
      assert.ok(peak - base < RSS_SLACK_KB, `RSS grew from ${base} kB to ${peak} kB after the warm-up`);
      assert.ok(peak < RSS_MAX_KB, `RSS ${peak} kB`);
    }
  });
});
