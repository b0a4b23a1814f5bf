/**
 * Shared helpers of the end-to-end tests: dig runner and parser, Node
 * resolver, a test plugin.cfg with a zone-tagging third-party plugin, a
 * whoami server, and assertions on whoami replies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promises as dnsPromises } from 'node:dns';
import { AUTHORITATIVE_ANSWER, RECURSION_AVAILABLE, getOpt, type Msg, type RR, type SrvData } from '@tsdns/core';
import { REPO_ROOT, freePort, spawnTsdns, type TsdnsProcess } from '@tsdns/testing';

export const HOST = '127.0.0.1';

export const DIG = '/usr/bin/dig';

/** Fails the test with how to get dig when it is missing. */
export function requireDig(): void {
  assert.ok(existsSync(DIG), `${DIG} not found: install dig (Debian/Ubuntu: apt-get install dnsutils)`);
}

/** A Node resolver (c-ares) pointed at 127.0.0.1:port, one try, short timeout. */
export function resolver(port: number, host = HOST): dnsPromises.Resolver {
  const r = new dnsPromises.Resolver({ timeout: 1500, tries: 1 });
  r.setServers([host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`]);
  return r;
}

/** The error code a resolver call rejected with (`ENODATA`, `EREFUSED`, ...), or 'resolved'. */
export async function resolverCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigResult {
  stdout: string;
  code: number;
  opcode: string;
  status: string;
  id: number;
  flags: string[];
  counts: { query: number; answer: number; authority: number; additional: number };
  edns: { version: number; flags: string[]; udp: number } | undefined;
  cookie: string | undefined;
  question: { name: string; class: string; type: string }[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** `UDP` or `TCP`, from the SERVER line. */
  transport: string;
}

/** Parses dig's default output (one message). */
export function parseDig(stdout: string, code = 0): DigResult {
  const res: DigResult = {
    stdout,
    code,
    opcode: '',
    status: '',
    id: -1,
    flags: [],
    counts: { query: 0, answer: 0, authority: 0, additional: 0 },
    edns: undefined,
    cookie: undefined,
    question: [],
    answer: [],
    authority: [],
    additional: [],
    transport: '',
  };
  type Section = 'question' | 'answer' | 'authority' | 'additional' | '';
  let section = '' as Section;
  for (const line of stdout.split('\n')) {
    let m = /^;; ->>HEADER<<- opcode: (\w+), status: (\w+), id: (\d+)/.exec(line);
    if (m) {
      res.opcode = m[1]!;
      res.status = m[2]!;
      res.id = Number(m[3]);
      continue;
    }
    m = /^;; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)/.exec(line);
    if (m) {
      res.flags = m[1]!.trim().split(/\s+/).filter(Boolean);
      res.counts = { query: Number(m[2]), answer: Number(m[3]), authority: Number(m[4]), additional: Number(m[5]) };
      continue;
    }
    m = /^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)/.exec(line);
    if (m) {
      res.edns = { version: Number(m[1]), flags: m[2]!.trim().split(/\s+/).filter(Boolean), udp: Number(m[3]) };
      continue;
    }
    m = /^; COOKIE: (\S+)/.exec(line);
    if (m) {
      res.cookie = m[1]!;
      continue;
    }
    m = /^;; SERVER: .*\((UDP|TCP)\)/.exec(line);
    if (m) {
      res.transport = m[1]!;
      continue;
    }
    m = /^;; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (m) {
      section = m[1]!.toLowerCase() as Section;
      continue;
    }
    if (line.trim() === '') {
      section = '';
      continue;
    }
    if (section === 'question') {
      const f = line.replace(/^;/, '').trim().split(/\s+/);
      res.question.push({ name: f[0]!, class: f[1]!, type: f[2]! });
    } else if (section !== '' && !line.startsWith(';')) {
      const f = line.trim().split(/\s+/);
      res[section].push({ name: f[0]!, ttl: Number(f[1]), class: f[2]!, type: f[3]!, data: f.slice(4).join(' ') });
    }
  }
  return res;
}

/** Runs dig against 127.0.0.1:port (one try, 3 s) and parses its output. */
export function dig(port: number, args: string[], host = HOST): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(DIG, [`@${host}`, '-p', String(port), '+tries=1', '+time=3', ...args], { timeout: 15000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      if (err && typeof code !== 'number') {
        reject(new Error(`dig failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve(parseDig(stdout, code));
    });
  });
}

/** Whether ::1 can be used. */
export function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp6');
    s.once('error', () => {
      try {
        s.close();
      } catch {
        // not bound
      }
      resolve(false);
    });
    s.bind(0, '::1', () => s.close(() => resolve(true)));
  });
}

/**
 * A third-party plugin for routing tests: `zonetag [TAG]` answers every
 * query with two TXT records, `TAG` (default: the block's first key) and
 * `zone=<the zone that matched>`. It imports nothing, as an external
 * package could.
 */
const ZONETAG_JS = `
export default {
  name: 'zonetag',
  setup(c) {
    c.next();
    const args = c.remainingArgs();
    const tag = args.length > 0 ? args[0] : c.key;
    c.addPlugin(() => ({
      name: 'zonetag',
      ServeDNS(ctx, w, r) {
        const q = r.questions[0];
        const flags = (r.flags & 0x7800) | (((r.flags >> 11) & 0xf) === 0 ? r.flags & 0x0110 : 0) | 0x0400;
        w.writeMsg({
          id: r.id,
          type: 'response',
          flags,
          questions: [q],
          answers: [
            { name: q.name, type: 'TXT', class: 'IN', ttl: 0, data: [tag] },
            { name: q.name, type: 'TXT', class: 'IN', ttl: 0, data: ['zone=' + ctx.zone] },
          ],
          authorities: [],
          additionals: [],
        });
        return 0;
      },
    }));
  },
};
`;

export interface TestPlugins {
  dir: string;
  /** plugin.cfg with zonetag and whoami. */
  pluginCfg: string;
  /** Environment that makes tsdns use it. */
  env: Record<string, string>;
  cleanup(): void;
}

/** Writes the zonetag plugin and a plugin.cfg (zonetag, whoami) to a temp directory. */
export function writeTestPlugins(): TestPlugins {
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-e2e-plugins-'));
  mkdirSync(join(dir, 'zonetag'));
  writeFileSync(join(dir, 'zonetag', 'package.json'), JSON.stringify({ name: 'zonetag', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'zonetag', 'index.js'), ZONETAG_JS);
  const pluginCfg = join(dir, 'plugin.cfg');
  writeFileSync(pluginCfg, `zonetag:./zonetag\nwhoami:${join(REPO_ROOT, 'plugins', 'whoami')}\n`);
  return {
    dir,
    pluginCfg,
    env: { TSDNS_PLUGIN_CFG: pluginCfg },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** TXT strings of the answer section (each record's strings joined). */
export function txtOf(m: Msg): string[] {
  return m.answers
    .filter((r): r is RR => r.type === 'TXT')
    .map((r) => (r.data as (string | Uint8Array)[]).map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('latin1'))).join(''));
}

export const QR_BIT = 0x8000;

/** Asserts a reply is whoami's answer for a client at address:port over proto. */
export function assertWhoami(
  m: Msg,
  want: { id?: number; qname: string; qtype?: string; proto: 'udp' | 'tcp'; port: number; address?: string; rd?: boolean },
): void {
  if (want.id !== undefined) assert.equal(m.id, want.id, 'ID echoed');
  assert.equal(m.type, 'response');
  assert.equal(m.flags & 0xf, 0, 'rcode NOERROR');
  assert.ok(m.flags & AUTHORITATIVE_ANSWER, 'AA set');
  assert.equal(m.flags & RECURSION_AVAILABLE, 0, 'RA not set');
  if (want.rd !== undefined) assert.equal((m.flags & 0x0100) !== 0, want.rd, 'RD copied');
  assert.equal(m.questions.length, 1);
  assert.equal(m.questions[0]!.name, want.qname, 'question echoed with its case');
  if (want.qtype) assert.equal(m.questions[0]!.type, want.qtype);
  assert.equal(m.answers.length, 0, 'no answer records');
  assert.equal(m.authorities.length, 0);
  const extra = m.additionals.filter((r) => r.type !== 'OPT') as RR[];
  assert.equal(extra.length, 2, 'A/AAAA and SRV in the additional section');
  const address = want.address ?? HOST;
  const a = extra[0]!;
  assert.equal(a.type, address.includes(':') ? 'AAAA' : 'A');
  assert.equal(a.name, want.qname, 'address record owner = qname as sent');
  assert.equal(a.class, 'IN');
  assert.equal(a.ttl, 0);
  assert.equal(a.data, address);
  const srv = extra[1]!;
  assert.equal(srv.type, 'SRV');
  assert.equal(srv.name, want.qname === '.' ? `_${want.proto}.` : `_${want.proto}.${want.qname}`);
  assert.equal(srv.class, 'IN');
  assert.equal(srv.ttl, 0);
  const d = srv.data as SrvData;
  assert.deepEqual({ ...d }, { priority: 0, weight: 0, port: want.port, target: '.' });
}

/** tsdns serving whoami on a free port (checked to have started). */
export async function startWhoami(): Promise<{ p: TsdnsProcess; port: number }> {
  const port = await freePort();
  const p = await spawnTsdns(`.:${port} {\n    whoami\n}\n`);
  assert.ok(!p.exited, p.stderrText());
  return { p, port };
}

/** The distributed SRV question of the gathersrv examples (clusters a and b behind distributed.local). */
export const DEMO_SRV = '_demo._tcp.demo-service.default.svc.distributed.local.';

/** The gathersrv examples' merged answer to DEMO_SRV: two instances per cluster, renamed with its prefix, with their A glue. */
export function assertDemoSrvAnswer(m: Msg): void {
  assert.deepEqual((m.answers as RR[]).map((r) => (r.data as SrvData).target).sort(), [
    'a-demo-service-0.default.svc.distributed.local.',
    'a-demo-service-1.default.svc.distributed.local.',
    'b-demo-service-0.default.svc.distributed.local.',
    'b-demo-service-1.default.svc.distributed.local.',
  ]);
  assert.deepEqual(
    (m.additionals as RR[]).filter((r) => r.type === 'A').map((r) => `${r.name} ${String(r.data)}`).sort(),
    [
      'a-demo-service-0.default.svc.distributed.local. 10.8.1.2',
      'a-demo-service-1.default.svc.distributed.local. 10.8.1.2',
      'b-demo-service-0.default.svc.distributed.local. 10.9.1.2',
      'b-demo-service-1.default.svc.distributed.local. 10.9.1.2',
    ],
  );
}

/** The reply's OPT record (or undefined). */
export { getOpt };

/** Hex dump for failure messages. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Waits until `cond()` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
