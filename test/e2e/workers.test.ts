/**
 * `tsdns -workers N` (issue 6): N processes serving on shared sockets, one
 * /metrics with the sum over the workers, one /health and /ready (ready when
 * every worker is), reload and stop coordinated by the primary, a dead
 * worker replaced, and `-workers 1` unchanged.
 *
 * A third-party test plugin (`pidtag`, loaded through a plugin.cfg copy)
 * answers every query with a tag and the pid of the process that answered,
 * and is ready when a file named after its worker slot exists.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DnsTcpClient, REPO_ROOT, freePort, httpGet, listeningPorts, makeQuery, queryUdp, rssKb, spawnTsdns, type SpawnOptions, type TsdnsProcess } from '@tsdns/testing';
import { HOST, txtOf, waitFor } from './helpers.js';

const PIDTAG_JS = `
import { existsSync } from 'node:fs';
export default {
  name: 'pidtag',
  setup(c) {
    c.next();
    const args = c.remainingArgs();
    const tag = args[0] ?? 'none';
    const readyDir = args[1];
    const slot = process.env.TSDNS_WORKER_SLOT ?? '0';
    c.addPlugin(() => ({
      name: 'pidtag',
      ready() {
        return readyDir === undefined || existsSync(readyDir + '/' + slot);
      },
      ServeDNS(ctx, w, r) {
        const q = r.questions[0];
        w.writeMsg({
          id: r.id,
          type: 'response',
          flags: (r.flags & 0x7900) | 0x0400,
          questions: [q],
          answers: [
            { name: q.name, type: 'TXT', class: 'IN', ttl: 0, data: [tag] },
            { name: q.name, type: 'TXT', class: 'IN', ttl: 0, data: ['pid=' + process.pid] },
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

let pluginDir: string;
let env: Record<string, string>;
const procs: TsdnsProcess[] = [];
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsdns-e2e-workers-'));
  dirs.push(d);
  return d;
}

/** Pids of the processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** An exited process its parent has not collected yet. */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Cluster {
  p: TsdnsProcess;
  port: number;
  pidfile: string;
  dir: string;
}

/**
 * Starts `tsdns -workers N` and waits until the pidfile exists (the primary
 * writes it once every worker serves).
 */
async function startWorkers(corefile: (port: number) => string, opts: { workers?: string; args?: string[]; spawn?: SpawnOptions } = {}): Promise<Cluster> {
  const port = await freePort();
  const dir = tempDir();
  const pidfile = join(dir, 'tsdns.pid');
  const p = await spawnTsdns(corefile(port), { port, env, ...opts.spawn, args: ['-workers', opts.workers ?? '2', '-pidfile', pidfile, ...(opts.args ?? [])] });
  procs.push(p);
  assert.ok(!p.exited, p.stderrText());
  await waitFor(() => existsSync(pidfile), 15000);
  return { p, port, pidfile, dir };
}

interface Tagged {
  tag: string;
  pid: number;
}

function tagged(m: { answers: unknown[] } & Parameters<typeof txtOf>[0]): Tagged {
  const t = txtOf(m);
  return { tag: t[0] ?? '', pid: Number((t[1] ?? 'pid=0').slice(4)) };
}

/** Queries over `n` separate TCP connections (the primary hands connections round robin). */
async function tcpAnswers(port: number, n: number): Promise<Tagged[]> {
  const out: Tagged[] = [];
  for (let i = 0; i < n; i++) {
    const c = await DnsTcpClient.connect(HOST, port);
    try {
      out.push(tagged((await c.query(makeQuery(`tcp${i}.example.`, 'TXT'), 3000)).msg));
    } finally {
      c.close();
    }
  }
  return out;
}

/**
 * `n` UDP queries, each from its own socket, 25 at a time (more at once can
 * overflow the socket's receive buffer on a busy machine).
 */
async function udpAnswers(port: number, n: number): Promise<Tagged[]> {
  const out: Tagged[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = Array.from({ length: Math.min(25, n - i) }, (_, j) => queryUdp(HOST, port, makeQuery(`udp${i + j}.example.`, 'TXT'), { timeoutMs: 3000 }));
    for (const r of await Promise.all(batch)) out.push(tagged(r.msg));
  }
  return out;
}

/** Waits until every worker answers TCP queries (handed to the workers in turn) with `tag`. */
async function waitForTag(port: number, tag: string, workers: number[], timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await tcpAnswers(port, 2 * workers.length);
    if (got.every((a) => a.tag === tag) && new Set(got.map((a) => a.pid)).size === workers.length) return;
    if (Date.now() > deadline) throw new Error(`not every worker answers ${tag}: ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Bursts of UDP queries until `want` pids answered (or `rounds` bursts). */
async function udpPids(port: number, want: number, rounds = 20): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < rounds && seen.size < want; i++) for (const a of await udpAnswers(port, 100)) seen.add(a.pid);
  return seen;
}

/** Sum of a metric's samples whose labels contain every `want` pair. */
function metricSum(text: string, name: string, want: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** promtool, where installed (Debian package prometheus); the structural checks below run everywhere. */
const PROMTOOL = '/usr/bin/promtool';

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
    child.stdin!.end(text);
  });
}

/**
 * What aggregation could break in the text format: one HELP and TYPE per
 * family, no series twice, histogram buckets cumulative with `+Inf` equal
 * to `_count`.
 */
function checkExposition(text: string): void {
  const families = new Set<string>();
  const series = new Set<string>();
  const inf = new Map<string, number>();
  const count = new Map<string, number>();
  const last = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (meta) {
      const k = `${meta[1]} ${meta[2]}`;
      assert.ok(!families.has(k), `${k} twice`);
      families.add(k);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad sample line ${line}`);
    const [, name, labels = '', value] = m;
    assert.ok(!series.has(`${name}{${labels}}`), `series twice: ${line}`);
    series.add(`${name}{${labels}}`);
    const base = labels
      .replace(/(^|,)le="[^"]*"/, '')
      .replace(/^,/, '');
    if (name!.endsWith('_bucket')) {
      const key = `${name!.slice(0, -7)}{${base}}`;
      assert.ok(Number(value) >= (last.get(key) ?? 0), `buckets not cumulative: ${line}`);
      last.set(key, Number(value));
      if (labels.includes('le="+Inf"')) inf.set(key, Number(value));
    } else if (name!.endsWith('_count')) count.set(`${name!.slice(0, -6)}{${base}}`, Number(value));
  }
  for (const [key, v] of inf) assert.equal(count.get(key), v, `+Inf bucket and _count of ${key}`);
}

const v = (tag: string, extra = '') => (port: number): string => `.:${port} {\n    bind ${HOST}\n    pidtag ${tag}\n${extra}}\n`;

// a few at a time: each test runs three processes
describe('-workers', { concurrency: 4 }, () => {
  before(() => {
    pluginDir = mkdtempSync(join(tmpdir(), 'tsdns-e2e-pidtag-'));
    mkdirSync(join(pluginDir, 'pidtag'));
    writeFileSync(join(pluginDir, 'pidtag', 'package.json'), JSON.stringify({ name: 'pidtag', type: 'module', main: 'index.js' }));
    writeFileSync(join(pluginDir, 'pidtag', 'index.js'), PIDTAG_JS);
    const plugin = (dir: string): string => join(REPO_ROOT, 'plugins', dir);
    const cfg = join(pluginDir, 'plugin.cfg');
    writeFileSync(
      cfg,
      [
        `reload:${plugin('reload')}`,
        `bind:${plugin('bind')}`,
        `ready:${plugin('ready')}`,
        `health:${plugin('health')}`,
        `prometheus:${plugin('metrics')}`,
        `errors:${plugin('errors')}`,
        `log:${plugin('log')}`,
        'pidtag:./pidtag',
        `whoami:${plugin('whoami')}`,
        '',
      ].join('\n'),
    );
    env = { TSDNS_PLUGIN_CFG: cfg };
  });
  after(() => {
    for (const p of procs) p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    rmSync(pluginDir, { recursive: true, force: true });
  });

  it('-workers 2: two worker processes share the sockets and both answer, over UDP and TCP', async () => {
    const { p, port, pidfile } = await startWorkers(v('one'));
    assert.equal(readFileSync(pidfile, 'utf8'), `${p.pid}\n`, 'the pidfile holds the primary');
    const workers = childrenOf(p.pid);
    assert.equal(workers.length, 2, `two workers: ${workers.join(',')}`);
    // every worker holds the one UDP socket; the primary holds the TCP listener (round robin)
    for (const w of workers) assert.ok(listeningPorts(w).udp.includes(port), `worker ${w} has the UDP socket`);
    assert.ok(listeningPorts(p.pid).tcp.includes(port), 'the primary accepts TCP');

    const tcp = await tcpAnswers(port, 8);
    assert.deepEqual(new Set(tcp.map((a) => a.tag)), new Set(['one']));
    assert.deepEqual(new Set(tcp.map((a) => a.pid)), new Set(workers), 'TCP connections go to both workers');
    const udp = await udpPids(port, 2);
    assert.ok([...udp].every((pid) => workers.includes(pid)), 'only workers answer');
    assert.equal(udp.size, 2, 'UDP datagrams are answered by both workers');
    assert.ok(!p.stdoutText().includes('CoreDNS-'), '-quiet');
  });

  it('/metrics is served once, with the sum over the workers', async () => {
    const mport = await freePort();
    // no probe query: every query counted below is one of ours
    const { p, port } = await startWorkers(v('m', `    prometheus ${HOST}:${mport}\n`), { spawn: { probe: false } });
    const K = 300;
    const T = 10;
    const udp = await udpAnswers(port, K);
    const tcp = await tcpAnswers(port, T);
    assert.equal(new Set([...udp, ...tcp].map((a) => a.pid)).size, 2, 'both workers answered some');
    const r = await httpGet(`${HOST}:${mport}`, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    // each worker counts only what it answered: the sums are the queries sent
    assert.equal(metricSum(r.body, 'coredns_dns_requests_total', { type: 'TXT', proto: 'udp' }), K, r.body);
    assert.equal(metricSum(r.body, 'coredns_dns_requests_total', { type: 'TXT', proto: 'tcp' }), T);
    assert.equal(metricSum(r.body, 'coredns_dns_requests_total'), K + T);
    assert.equal(metricSum(r.body, 'coredns_dns_responses_total', { rcode: 'NOERROR', plugin: 'pidtag' }), K + T);
    assert.equal(metricSum(r.body, 'coredns_dns_request_duration_seconds_count'), K + T);
    assert.equal(metricSum(r.body, 'coredns_dns_request_duration_seconds_bucket', { le: '+Inf' }), K + T);
    assert.equal(metricSum(r.body, 'coredns_dns_request_size_bytes_count', { proto: 'udp' }), K);
    assert.equal(metricSum(r.body, 'coredns_dns_response_size_bytes_count', { proto: 'tcp' }), T);
    checkExposition(r.body);
    // constant gauges are not multiplied by the number of workers
    assert.equal(metricSum(r.body, 'coredns_build_info'), 1);
    assert.equal(metricSum(r.body, 'coredns_plugin_enabled', { name: 'prometheus' }), 1);
    assert.equal(metricSum(r.body, 'nodejs_version_info'), 1);
    assert.match(r.body, /^process_cpu_seconds_total \d/m);
    // memory of the whole server: the primary and both workers
    const rss = [p.pid, ...childrenOf(p.pid)].reduce((sum, pid) => sum + (rssKb(pid) ?? 0) * 1024, 0);
    const reported = metricSum(r.body, 'process_resident_memory_bytes');
    assert.ok(reported > rss * 0.6 && reported < rss * 1.4, `process_resident_memory_bytes ${reported}, the three processes ${rss}`);
    // the start time is the primary's (the oldest process)
    const started = metricSum(r.body, 'process_start_time_seconds');
    assert.ok(started > 0 && started <= Date.now() / 1000, String(started));
    // one listener, in the primary
    assert.ok(listeningPorts(p.pid).tcp.includes(mport));
    for (const w of childrenOf(p.pid)) assert.ok(!listeningPorts(w).tcp.includes(mport));
    // gzip and 404 pass through
    const z = await httpGet(`${HOST}:${mport}`, '/metrics', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(z.headers['content-encoding'], 'gzip');
    assert.equal(metricSum(z.body, 'coredns_dns_requests_total', { type: 'TXT', proto: 'udp' }), K);
    const nf = await httpGet(`${HOST}:${mport}`, '/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.body, '404 page not found\n');
  });

  it('promtool accepts the aggregated /metrics', async () => {
    const mport = await freePort();
    const { port } = await startWorkers(v('pt', `    prometheus ${HOST}:${mport}\n    errors\n`));
    await udpAnswers(port, 50);
    await tcpAnswers(port, 2);
    const r = await httpGet(`${HOST}:${mport}`, '/metrics');
    checkExposition(r.body);
    if (existsSync(PROMTOOL)) {
      const out = await promtoolCheck(r.body);
      assert.deepEqual(out, { code: 0, output: '' });
    }
  });

  it('/health answers once; /ready is 200 only when every worker is ready', async () => {
    const hport = await freePort();
    const rport = await freePort();
    const ready = tempDir();
    // without a ready directory pidtag is always ready
    await startWorkers(v('r', `    health ${HOST}:${hport}\n    ready ${HOST}:${rport}\n`));
    const h = await httpGet(`${HOST}:${hport}`, '/health');
    assert.deepEqual([h.status, h.body], [200, 'OK']);
    const r0 = await httpGet(`${HOST}:${rport}`, '/ready');
    assert.deepEqual([r0.status, r0.body], [200, 'OK']);

    // a plugin that is ready in worker 1 only: not ready as a whole
    const hport2 = await freePort();
    const rport2 = await freePort();
    const c2 = await startWorkers((port) => `.:${port} {\n    bind ${HOST}\n    health ${HOST}:${hport2}\n    ready ${HOST}:${rport2}\n    pidtag r ${ready}\n}\n`);
    const notReady = await httpGet(`${HOST}:${rport2}`, '/ready');
    assert.deepEqual([notReady.status, notReady.body], [503, 'pidtag']);
    writeFileSync(join(ready, '1'), '');
    const half = await httpGet(`${HOST}:${rport2}`, '/ready');
    assert.deepEqual([half.status, half.body], [503, 'pidtag'], 'worker 2 is not ready yet');
    writeFileSync(join(ready, '2'), '');
    const all = await httpGet(`${HOST}:${rport2}`, '/ready');
    assert.deepEqual([all.status, all.body], [200, 'OK']);
    assert.deepEqual((await httpGet(`${HOST}:${hport2}`, '/health')).status, 200);
    assert.ok(listeningPorts(c2.p.pid).tcp.includes(rport2));
  });

  it('SIGUSR1 reloads every worker; a broken Corefile keeps the old configuration in every worker', async () => {
    const { p, port } = await startWorkers(v('v1'));
    const workers = childrenOf(p.pid);
    const mark = p.mark();
    p.writeCorefile(v('v2')(port));
    p.kill('SIGUSR1');
    await p.waitForLine('[INFO] SIGUSR1: Reloading', { after: mark });
    await p.waitForLine('[INFO] Reloading complete', { after: mark });
    await waitForTag(port, 'v2', workers);
    const reloaded = p.stdout().slice(mark);
    assert.deepEqual(reloaded.filter((l) => l === '[INFO] SIGUSR1: Reloading'), ['[INFO] SIGUSR1: Reloading'], 'the primary logs the signal once');
    assert.deepEqual(reloaded.filter((l) => l === '[INFO] Reloading' || l === '[INFO] Reloading complete'), ['[INFO] Reloading', '[INFO] Reloading complete'], 'worker 1 logs the reload once for all');
    const tcp = await tcpAnswers(port, 6);
    assert.deepEqual(new Set(tcp.map((a) => a.tag)), new Set(['v2']));
    assert.deepEqual(new Set(tcp.map((a) => a.pid)), new Set(workers), 'both workers switched, on the same processes');
    const udp = await udpAnswers(port, 200);
    assert.deepEqual(new Set(udp.map((a) => a.tag)), new Set(['v2']));

    const mark2 = p.mark();
    p.writeCorefile(`.:${port} {\n    pidtag v3\n    bogus\n}\n`);
    p.kill('SIGUSR1');
    const err = await p.waitForLine(/^\[ERROR\] SIGUSR1: /, { after: mark2 });
    assert.equal(err, `[ERROR] SIGUSR1: starting with listener file descriptors: ${p.corefilePath}:3 - Error during parsing: Unknown directive 'bogus'`);
    await new Promise((r) => setTimeout(r, 200));
    const lines = p.stdout().slice(mark2);
    assert.equal(lines.filter((l) => l.startsWith('[ERROR] Restart failed:')).length, 1, `reported once, by the primary:\n${lines.join('\n')}`);
    assert.ok(!lines.includes('[INFO] Reloading complete'));
    const tcp2 = await tcpAnswers(port, 4);
    assert.deepEqual(new Set(tcp2.map((a) => a.tag)), new Set(['v2']));
    assert.deepEqual(new Set(tcp2.map((a) => a.pid)), new Set(workers));
  });

  it('the reload plugin reloads every worker together, through the primary', async () => {
    const body = (tag: string): ((port: number) => string) => v(tag, '    reload 2s 1s\n');
    const { p, port } = await startWorkers(body('r1'));
    const workers = childrenOf(p.pid);
    // only worker 1 polls: one hash line
    await p.waitForLine(/Running configuration SHA512 = /);
    const mark = p.mark();
    p.writeCorefile(body('r2')(port));
    await p.waitForLine('[INFO] Reloading complete', { after: mark, timeoutMs: 10000 });
    await waitForTag(port, 'r2', workers);
    // no second round of reloads from the other worker's poller
    await new Promise((r) => setTimeout(r, 3000));
    const lines = p.stdout().slice(mark);
    assert.equal(lines.filter((l) => l === '[INFO] Reloading').length, 1, lines.join('\n'));
    assert.equal(lines.filter((l) => l === '[INFO] Reloading complete').length, 1, lines.join('\n'));
    assert.equal(lines.filter((l) => /Running configuration SHA512 = /.test(l)).length, 1, lines.join('\n'));
  });

  it('a worker that dies is replaced, and queries keep being answered meanwhile', async () => {
    const { p, port } = await startWorkers(v('k'));
    const [w1, w2] = childrenOf(p.pid) as [number, number];
    const mark = p.mark();
    process.kill(w1, 'SIGKILL');
    // the other worker keeps answering
    const during = await udpAnswers(port, 50);
    assert.ok(during.every((a) => a.tag === 'k'));
    const died = await p.waitForLine(/^\[ERROR\] Worker \d \(pid \d+\) died \(signal SIGKILL\): starting a new one$/, { after: mark });
    assert.ok(died.includes(`(pid ${w1})`), died);
    const started = await p.waitForLine(/^\[INFO\] Worker \d started \(pid \d+\)$/, { after: mark });
    const w3 = Number(/pid (\d+)/.exec(started)![1]);
    await waitFor(() => childrenOf(p.pid).length === 2 && childrenOf(p.pid).includes(w3), 5000);
    assert.deepEqual(childrenOf(p.pid), [w2, w3].sort((a, b) => a - b));
    const tcp = await tcpAnswers(port, 6);
    assert.deepEqual(new Set(tcp.map((a) => a.pid)), new Set([w2, w3]));
  });

  it('SIGTERM stops every worker gracefully, exits 0 and removes the pidfile', async () => {
    const { p, pidfile } = await startWorkers(v('t'));
    const workers = childrenOf(p.pid);
    p.kill('SIGTERM');
    const st = await p.waitForExit(15000);
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(!existsSync(pidfile));
    assert.deepEqual(p.stdout().filter((l) => l.includes('SIGTERM')), ['[INFO] SIGTERM: Shutting down servers then terminating']);
    await waitFor(() => workers.every((w) => !alive(w)), 5000);
  });

  it('SIGINT stops every worker and exits 0', async () => {
    const { p, pidfile } = await startWorkers(v('i'));
    const workers = childrenOf(p.pid);
    p.kill('SIGINT');
    const st = await p.waitForExit(15000);
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(!existsSync(pidfile));
    await waitFor(() => workers.every((w) => !alive(w)), 5000);
  });

  it('SIGQUIT: the primary quits at once, exits 0, and no worker is left', async () => {
    const { p, pidfile } = await startWorkers(v('q'));
    const workers = childrenOf(p.pid);
    assert.equal(workers.length, 2);
    p.kill('SIGQUIT');
    const st = await p.waitForExit(15000);
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(!existsSync(pidfile));
    assert.deepEqual(p.stdout().filter((l) => l.includes('SIGQUIT')), ['[INFO] SIGQUIT: Quitting process immediately']);
    await waitFor(() => workers.every((w) => !alive(w) || zombie(w)), 5000);
  });

  it('a second SIGINT during the lameduck quits at once, exits 2, and no worker is left', async () => {
    const hport = await freePort();
    const { p } = await startWorkers(v('ii', `    health ${HOST}:${hport} {\n        lameduck 20s\n    }\n`));
    const workers = childrenOf(p.pid);
    const t0 = Date.now();
    p.kill('SIGINT');
    await p.waitForLine('[INFO] plugin/health: Going into lameduck mode for 20s');
    p.kill('SIGINT');
    const st = await p.waitForExit(15000);
    assert.deepEqual(st, { code: 2, signal: null });
    assert.ok(Date.now() - t0 < 10000, 'did not wait for the lameduck');
    assert.deepEqual(p.stdout().filter((l) => l.includes('SIGINT')), ['[INFO] SIGINT: Shutting down', '[INFO] SIGINT: Force quit']);
    await waitFor(() => workers.every((w) => !alive(w) || zombie(w)), 5000);
  });

  it('SIGTERM with health lameduck: every worker keeps answering for the lameduck time, then all exit 0', async () => {
    const hport = await freePort();
    const { p, port } = await startWorkers(v('ld', `    health ${HOST}:${hport} {\n        lameduck 1500ms\n    }\n`));
    const workers = childrenOf(p.pid);
    const t0 = Date.now();
    p.kill('SIGTERM');
    await p.waitForLine('[INFO] SIGTERM: Shutting down servers then terminating');
    await p.waitForLine('[INFO] plugin/health: Going into lameduck mode for 1.5s');
    // during lameduck: DNS from both workers, /health still OK
    const during = await tcpAnswers(port, 6);
    assert.deepEqual(new Set(during.map((a) => a.pid)), new Set(workers));
    assert.equal((await httpGet(`${HOST}:${hport}`, '/health')).status, 200);
    assert.ok(Date.now() - t0 < 1500, 'still within lameduck');
    const st = await p.waitForExit(15000);
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(Date.now() - t0 >= 1500, `exited after ${Date.now() - t0} ms`);
    assert.equal(p.stdout().filter((l) => l.includes('Going into lameduck mode')).length, 1, 'worker 1 logs it once for all');
    await waitFor(() => workers.every((w) => !alive(w)), 5000);
  });

  it('the workers exit when the primary dies (no orphans)', async () => {
    const { p, port } = await startWorkers(v('o'));
    const workers = childrenOf(p.pid);
    assert.equal(workers.length, 2);
    p.kill('SIGKILL');
    await p.waitForExit();
    await waitFor(() => workers.every((w) => !alive(w) || zombie(w)), 5000);
    // nothing answers any more
    await assert.rejects(queryUdp(HOST, port, makeQuery('gone.example.', 'TXT'), { timeoutMs: 300 }));
  });

  it('SIGTERM while a dead worker is being replaced: every process exits, status 0', async () => {
    const { p } = await startWorkers(v('rs'));
    const [w1] = childrenOf(p.pid) as [number];
    const mark = p.mark();
    process.kill(w1, 'SIGKILL');
    await p.waitForLine(/^\[ERROR\] Worker \d \(pid \d+\) died/, { after: mark });
    p.kill('SIGTERM');
    const st = await p.waitForExit(15000);
    assert.deepEqual(st, { code: 0, signal: null });
    await waitFor(() => childrenOf(p.pid).length === 0, 5000);
  });

  it('the banner and version are printed once, by the primary', async () => {
    const { p, port } = await startWorkers(v('b'), { spawn: { quiet: false } });
    await p.waitForLine(/^\S+\/\S+, node/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.stdoutText(), `.:${port} on ${HOST}\nCoreDNS-1.14.7\n${p.stdout()[2]!}\n`);
    assert.match(p.stdout()[2]!, /^\S+\/\S+, node\S+, tsdns-\S+$/);
  });

  it('-workers 1 is the single process of before: no worker processes', async () => {
    const port = await freePort();
    const p = await spawnTsdns(v('single')(port), { port, env, args: ['-workers', '1'] });
    procs.push(p);
    const r = tagged((await queryUdp(HOST, port, makeQuery('one.example.', 'TXT'))).msg);
    assert.deepEqual(r, { tag: 'single', pid: p.pid });
    assert.deepEqual(childrenOf(p.pid), []);
  });

  it('-workers auto: one per CPU', async () => {
    const n = Math.min(availableParallelism(), 256);
    const port = await freePort();
    const dir = tempDir();
    const pidfile = join(dir, 'pid');
    const p = await spawnTsdns(v('auto')(port), { port, env, args: ['-workers', 'auto', '-pidfile', pidfile] });
    procs.push(p);
    await waitFor(() => existsSync(pidfile), 15000);
    // (a cgroup CPU limit can lower it)
    const kids = childrenOf(p.pid).length;
    assert.ok(n === 1 ? kids === 0 : kids >= 1 && kids <= n, `${kids} workers for ${n} CPUs`);
  });

  for (const bad of ['0', 'x', '-1', '1.5', '', '257']) {
    it(`-workers ${JSON.stringify(bad)}: flag error and usage on stderr, exit 2`, async () => {
      const p = await spawnTsdns(null, { conf: 'none', probe: false, args: ['-workers', bad] });
      procs.push(p);
      const st = await p.waitForExit();
      assert.equal(st.code, 2);
      const lines = p.stderr();
      assert.match(lines[0]!, new RegExp(`^invalid value ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)} for flag -workers: `));
      assert.equal(lines[1], 'Usage of tsdns:');
      assert.ok(lines.includes('  -workers string'));
    });
  }

  it('a Corefile error is reported once, before any worker is forked: FILE:LINE, exit 1', async () => {
    const port = await freePort();
    const p = await spawnTsdns(`.:${port} {\n    pidtag x\n    bogus\n}\n`, { port, env, probe: false, args: ['-workers', '2'] });
    procs.push(p);
    const st = await p.waitForExit();
    assert.equal(st.code, 1);
    assert.equal(p.stderrText(), `${p.corefilePath}:3 - Error during parsing: Unknown directive 'bogus'\n`);
  });

  it('a port in use: the Listen error once, exit 1', async () => {
    const first = await startWorkers(v('first'));
    const p = await spawnTsdns(v('second')(first.port), { env, probe: false, args: ['-workers', '2'] });
    procs.push(p);
    const st = await p.waitForExit();
    assert.equal(st.code, 1);
    assert.match(p.stderrText(), new RegExp(`^Listen: listen (tcp|udp) ${HOST.replace(/\./g, '\\.')}:${first.port}: bind: address already in use\n$`));
  });
});
