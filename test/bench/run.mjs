#!/usr/bin/env node
// tsdns benchmarks (`pnpm bench`). Not a test: it prints figures and never fails
// on a timing. Every scenario runs against the real `tsdns` executable with
// dnsperf; the reference server (reference.mjs, a raw Node UDP responder) is
// measured in the same round so that figures are ratios, which survive a noisy
// machine better than absolute numbers.
//
//   pnpm bench [--rounds N] [--duration SECONDS] [--only a,b] [--json FILE]
//
// Besides the QPS scenarios: start-up time and idle RSS (always), and RSS with
// 100,000 cached names (`rss-100k`; alone: --only rss-100k --rounds 0).
//
// Needs dnsperf (Debian/Ubuntu: apt-get install dnsperf). Uses taskset, when
// present, to pin the server to CPU 0 and dnsperf to CPU 1.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const tsdnsBin = join(root, 'packages', 'cli', 'bin', 'tsdns.js');
const pluginCfg = readFileSync(join(root, 'plugin.cfg'), 'utf8');
const havePlugin = (name) => new RegExp(`^${name}:`, 'm').test(pluginCfg);

// ---------------------------------------------------------------- options
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const ROUNDS = Number(opt('rounds', '3'));
const DURATION = Number(opt('duration', '10'));
const WARMUP = Number(opt('warmup', '2'));
const CLIENTS = 10;
const OUTSTANDING = 500;
const only = opt('only', '')
  .split(',')
  .filter(Boolean);
const jsonOut = opt('json', join(here, 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
}
if (!which('dnsperf')) {
  console.error('dnsperf is not installed. On Debian/Ubuntu: apt-get install dnsperf');
  process.exit(1);
}
const taskset = which('taskset') && cpus().length >= 2 ? 'taskset' : '';
const pinned = (cpu, cmd, argv) => (taskset ? ['taskset', ['-c', String(cpu), cmd, ...argv]] : [cmd, argv]);
// this process (the latency prober) stays off the server's CPU
if (taskset) spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

// ---------------------------------------------------------------- helpers
const tmp = mkdtempSync(join(tmpdir(), 'tsdns-bench-'));
let nextPort = 25300 + Math.floor(Math.random() * 2000);
const port = () => nextPort++;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function queryFile(name, lines) {
  const f = join(tmp, `${name}.txt`);
  if (!existsSync(f)) writeFileSync(f, lines.join('\n') + '\n');
  return f;
}
const whoamiQueries = queryFile('whoami', Array.from({ length: 1000 }, (_, i) => `host-${i}.bench.example. A`));
const gatherQueries = queryFile('gathersrv', ['_demo._tcp.demo-service.default.svc.distributed.local. SRV', 'a-demo-service-0.default.svc.distributed.local. A']);

/** Sends a UDP query until answered; resolves with the time it took. */
async function waitAnswer(p, timeoutMs = 10000) {
  const sock = dgram.createSocket('udp4');
  const q = Buffer.from('beef01000001000000000000' + '0570726f6265076578616d706c650000010001', 'hex');
  const t0 = performance.now();
  try {
    return await new Promise((resolve, reject) => {
      const timer = setInterval(() => sock.send(q, p, '127.0.0.1'), 2);
      const dead = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no answer on port ${p}`));
      }, timeoutMs);
      sock.on('message', () => {
        clearInterval(timer);
        clearTimeout(dead);
        resolve(performance.now() - t0);
      });
      sock.send(q, p, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

function startProcess(cpu, cmd, argv) {
  const [c, a] = pinned(cpu, cmd, argv);
  const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  p.output = () => out;
  return p;
}

async function stopProcess(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(t);
}

/** The process doing the work (taskset execs, so it is the child itself). */
function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}
function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

async function startTsdns(corefile, cpu = 0) {
  const f = join(tmp, `Corefile-${nextPort}`);
  writeFileSync(f, corefile);
  const p = startProcess(cpu, process.execPath, [tsdnsBin, '-conf', f, '-quiet']);
  return p;
}

/** Runs dnsperf; returns QPS, average latency (s), lost queries (and p99 from -v output when verbose). */
function dnsperf(p, file, { mode = 'udp', seconds = DURATION, verbose = false } = {}) {
  const argv = ['-s', '127.0.0.1', '-p', String(p), '-d', file, '-l', String(seconds), '-c', String(CLIENTS), '-q', String(OUTSTANDING), '-m', mode];
  if (verbose) argv.push('-v');
  const [c, a] = pinned(1, 'dnsperf', argv);
  return new Promise((resolve) => {
    const proc = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lat = [];
    let tail = '';
    let summary = '';
    proc.stdout.on('data', (d) => {
      const text = tail + d.toString('latin1');
      const lines = text.split('\n');
      tail = lines.pop();
      for (const l of lines) {
        if (l.charCodeAt(0) === 62 /* '>' */) {
          const sp = l.lastIndexOf(' ');
          lat.push(Number(l.slice(sp + 1)));
        } else summary += l + '\n';
      }
    });
    proc.stderr.on('data', () => {});
    proc.on('exit', () => {
      summary += tail;
      const num = (re) => {
        const m = re.exec(summary);
        return m ? Number(m[1]) : NaN;
      };
      lat.sort((x, y) => x - y);
      resolve({
        qps: num(/Queries per second:\s+([\d.]+)/),
        avg: num(/Average Latency \(s\):\s+([\d.]+)/),
        p99: lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] : NaN,
        lost: num(/Queries lost:\s+(\d+)/),
      });
    });
  });
}

/**
 * Latency under load as another client sees it: one UDP query every 5 ms for
 * the length of the run, round-trip times kept for the percentiles (dnsperf
 * reports only the average; its per-query output would slow dnsperf down).
 */
function startProber(p) {
  const sock = dgram.createSocket('udp4');
  const sent = new Map();
  const rtts = [];
  let id = 0;
  sock.on('message', (m) => {
    const t = sent.get(m.readUInt16BE(0));
    if (t !== undefined) {
      rtts.push(performance.now() - t);
      sent.delete(m.readUInt16BE(0));
    }
  });
  const q = Buffer.from('0000010000010000000000000570726f6265076578616d706c650000010001', 'hex');
  const timer = setInterval(() => {
    id = (id + 1) & 0xffff;
    q.writeUInt16BE(id, 0);
    sent.set(id, performance.now());
    sock.send(q, p, '127.0.0.1');
  }, 5);
  return () => {
    clearInterval(timer);
    sock.close();
    rtts.sort((a, b) => a - b);
    const lost = sent.size;
    return { p99: rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))] / 1000 : NaN, probes: rtts.length, probesLost: lost };
  };
}

/**
 * Measures one running server: warm-up, then dnsperf while sampling CPU, RSS and
 * probe latency. CPU is the share of one CPU the server used while dnsperf was
 * sending (its `-l` seconds), not while dnsperf waits for its last answers
 * afterwards. `pids` lists the processes that serve (all workers of `-workers N`).
 */
async function measure(proc, p, file, mode = 'udp', pids = () => [proc.pid]) {
  await dnsperf(p, file, { mode, seconds: WARMUP, verbose: false });
  const serving = pids();
  const ticks = () => serving.reduce((sum, pid) => sum + cpuTicks(pid), 0);
  const t0 = ticks();
  const w0 = performance.now();
  const sendEnd = sleep(DURATION * 1000).then(() => ({ ticks: ticks(), at: performance.now() }));
  const stopProbe = startProber(p);
  const r = await dnsperf(p, file, { mode, verbose: false });
  const probe = stopProbe();
  const end = await sendEnd;
  const cpu = (end.ticks - t0) / TICK / ((end.at - w0) / 1000);
  return { ...r, p99: probe.p99, cpu, cpuUsPerQuery: (cpu * 1e6) / r.qps, rss: serving.reduce((sum, pid) => sum + rssMb(pid), 0) };
}

/**
 * The forward scenario for a forwarder started by `start(port, upstreamPort)`.
 * The target reads "forward >= 0.9x of the upstream queried directly, when the
 * upstream has its own core". The upstream is the reference responder. With 2 CPUs:
 * - baseline: the upstream alone on CPU 0, dnsperf on CPU 1 - the upstream with a
 *   core of its own, measured like every other server here;
 * - forward: the forwarder alone on CPU 0; the upstream can only go on CPU 1, next
 *   to dnsperf;
 * - `upstreamSharedQps`: the upstream queried directly from CPU 1 (dnsperf and the
 *   upstream sharing that CPU), the most the forward run's CPU 1 can carry: while
 *   forward stays well under it, CPU 0 (the forwarder) is what limits the forward
 *   figure, as on a machine with a third CPU for the upstream. `cpu1Busy` is CPU 1's
 *   load during the forward run.
 */
async function forwardRun(start) {
  // busy and total jiffies of CPU 1 (/proc/stat)
  const cpu1 = () => {
    try {
      const f = /^cpu1 (.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))[1].trim().split(/\s+/).map(Number);
      const total = f.reduce((a, b) => a + b, 0);
      return { busy: total - f[3] - f[4], total };
    } catch {
      return { busy: NaN, total: NaN };
    }
  };
  const up = port();
  const upstream = startProcess(0, process.execPath, [join(here, 'reference.mjs'), String(up)]);
  await waitAnswer(up);
  const p = port();
  let s;
  try {
    const direct = await measure(upstream, up, whoamiQueries);
    if (taskset) spawnSync('taskset', ['-p', '-c', '1', String(upstream.pid)], { stdio: 'ignore' });
    const shared = await measure(upstream, up, whoamiQueries);
    s = await start(p, up);
    await waitAnswer(p);
    const busy0 = cpu1();
    const fwd = await measure(s, p, whoamiQueries);
    const busy1 = cpu1();
    return {
      ...fwd,
      baseline: direct.qps,
      baselineName: 'upstream directly, own CPU',
      upstreamSharedQps: shared.qps,
      cpu1Busy: (busy1.busy - busy0.busy) / (busy1.total - busy0.total),
    };
  } finally {
    if (s) await stopProcess(s);
    await stopProcess(upstream);
  }
}

let miekgBuild;
/**
 * The miekg/dns comparison server (miekg/main.go), built once with the Go
 * toolchain in GOPATH mode against Debian's golang-github-miekg-dns-dev (or a
 * GOPATH of the user's that holds github.com/miekg/dns): `{ bin }`, or `{ why }`
 * it cannot be had.
 */
function miekg() {
  if (miekgBuild) return miekgBuild;
  const how = 'apt-get install golang-go golang-github-miekg-dns-dev';
  const go = which('go');
  if (!go) return (miekgBuild = { why: `needs Go and miekg/dns: ${how}` });
  const bin = join(tmp, 'miekg');
  const gopath = [process.env.GOPATH, '/usr/share/gocode'].filter(Boolean).join(':');
  const r = spawnSync(go, ['build', '-o', bin, join(here, 'miekg', 'main.go')], {
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOPATH: gopath },
  });
  if (r.status !== 0) {
    const first = `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim().split('\n')[0];
    return (miekgBuild = { why: `go build failed (${first}); needs github.com/miekg/dns: ${how}` });
  }
  return (miekgBuild = { bin });
}

// ---------------------------------------------------------------- scenarios
const scenarios = [
  {
    name: 'whoami',
    needs: ['whoami', 'bind'],
    async run() {
      const p = port();
      const s = await startTsdns(`.:${p} {\n    bind 127.0.0.1\n    whoami\n}\n`);
      await waitAnswer(p);
      try {
        return await measure(s, p, whoamiQueries);
      } finally {
        await stopProcess(s);
      }
    },
  },
  {
    name: 'tcp-whoami',
    needs: ['whoami', 'bind'],
    async run() {
      const p = port();
      const s = await startTsdns(`.:${p} {\n    bind 127.0.0.1\n    whoami\n}\n`);
      await waitAnswer(p);
      try {
        return await measure(s, p, whoamiQueries, 'tcp');
      } finally {
        await stopProcess(s);
      }
    },
  },
  {
    name: 'metrics-on',
    needs: ['whoami', 'bind', 'prometheus', 'errors'],
    async run() {
      const p = port();
      const mp = port();
      const s = await startTsdns(`.:${p} {\n    bind 127.0.0.1\n    prometheus 127.0.0.1:${mp}\n    errors\n    whoami\n}\n`);
      await waitAnswer(p);
      try {
        return await measure(s, p, whoamiQueries);
      } finally {
        await stopProcess(s);
      }
    },
  },
  {
    name: 'forward',
    needs: ['forward', 'bind'],
    // tsdns forwarding to the reference responder (see forwardRun)
    run: () => forwardRun((p, up) => startTsdns(`.:${p} {\n    bind 127.0.0.1\n    forward . 127.0.0.1:${up}\n}\n`)),
  },
  {
    name: 'miekg-whoami',
    needs: [],
    unavailable: () => miekg().why,
    // CoreDNS's whoami answer from a miekg/dns server with one core (miekg/main.go)
    async run() {
      const p = port();
      const s = startProcess(0, miekg().bin, ['whoami', `127.0.0.1:${p}`]);
      try {
        await waitAnswer(p);
        return await measure(s, p, whoamiQueries);
      } finally {
        await stopProcess(s);
      }
    },
  },
  {
    name: 'miekg-forward',
    needs: [],
    unavailable: () => miekg().why,
    // the forward scenario with a miekg/dns forwarder of CoreDNS forward's shape in tsdns's place
    run: () => forwardRun((p, up) => startProcess(0, miekg().bin, ['forward', `127.0.0.1:${p}`, `127.0.0.1:${up}`])),
  },
  {
    name: 'gathersrv',
    needs: ['gathersrv', 'forward', 'file', 'bind'],
    // the two clusters (file plugin, examples/gathersrv zones) share CPU 1 with dnsperf
    async run() {
      const cp = port();
      const zones = join(root, 'examples', 'gathersrv');
      const clusters = await startTsdns(
        `cluster-a.local.:${cp} cluster-b.local.:${cp} {\n    bind 127.0.0.1\n    file ${zones}/cluster-a.local.db cluster-a.local.\n    file ${zones}/cluster-b.local.db cluster-b.local.\n}\n`,
        1,
      );
      const p = port();
      const s = await startTsdns(
        `distributed.local.:${p} {\n    bind 127.0.0.1\n    cancel\n    gathersrv distributed.local. {\n        cluster-a.local. a-\n        cluster-b.local. b-\n    }\n    forward cluster-a.local. 127.0.0.1:${cp}\n    forward cluster-b.local. 127.0.0.1:${cp}\n}\n`,
      );
      try {
        await sleep(500);
        return await measure(s, p, gatherQueries);
      } finally {
        await stopProcess(s);
        await stopProcess(clusters);
      }
    },
  },
  {
    name: 'cache-hit',
    needs: ['forward', 'cache', 'bind'],
    async run() {
      const up = port();
      const upstream = startProcess(1, process.execPath, [join(here, 'reference.mjs'), String(up)]);
      await waitAnswer(up);
      const p = port();
      const s = await startTsdns(`.:${p} {\n    bind 127.0.0.1\n    cache 30\n    forward . 127.0.0.1:${up}\n}\n`);
      try {
        await waitAnswer(p);
        return await measure(s, p, whoamiQueries);
      } finally {
        await stopProcess(s);
        await stopProcess(upstream);
      }
    },
  },
  {
    name: 'workers',
    needs: ['whoami', 'bind'],
    // The whoami scenario with `-workers 2`: the primary and its two workers may
    // use CPUs 0 and 1 (not pinned to one). On a 2-core machine dnsperf, pinned
    // to CPU 1, competes with them for the same CPUs, so this understates what
    // two cores of its own give tsdns; compare it with whoami on a machine with
    // more cores for the real scaling. CPU and RSS are the sums over the primary
    // and its workers.
    async run() {
      const p = port();
      const f = join(tmp, `Corefile-${p}`);
      writeFileSync(f, `.:${p} {\n    bind 127.0.0.1\n    whoami\n}\n`);
      const s = startProcess('0,1', process.execPath, [tsdnsBin, '-conf', f, '-quiet', '-workers', '2']);
      try {
        await waitAnswer(p);
        // the first answer can come before the second worker serves
        for (let i = 0; i < 500 && processTree(s.pid).length < 3; i++) await sleep(10);
        return await measure(s, p, whoamiQueries, 'udp', () => processTree(s.pid));
      } finally {
        await stopProcess(s);
      }
    },
  },
];

/** A process and its children (the workers of `-workers N`), from /proc. */
function processTree(pid) {
  const out = [pid];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function reference() {
  const p = port();
  const s = startProcess(0, process.execPath, [join(here, 'reference.mjs'), String(p)]);
  await waitAnswer(p);
  try {
    return await measure(s, p, whoamiQueries);
  } finally {
    await stopProcess(s);
  }
}

/** Start-up time and idle memory of the whoami configuration. */
/**
 * Time from process start to the first answered query (median of 5) for a
 * Corefile; with `rss`, the idle RSS one second after the first start.
 */
async function startTimes(corefile, rss = false) {
  const times = [];
  let idle = NaN;
  for (let i = 0; i < 5; i++) {
    const p = port();
    const f = join(tmp, `Corefile-start-${p}`);
    writeFileSync(f, corefile(p));
    const t0 = performance.now();
    const s = startProcess(0, process.execPath, [tsdnsBin, '-conf', f, '-quiet']);
    await waitAnswer(p);
    times.push(performance.now() - t0);
    if (rss && i === 0) {
      await sleep(1000);
      idle = rssMb(s.pid);
    }
    await stopProcess(s);
  }
  times.sort((a, b) => a - b);
  return { startMs: times[2], rssIdleMb: idle };
}

const productionNeeds = ['errors', 'health', 'ready', 'prometheus', 'forward', 'cache', 'reload', 'loadbalance', 'bind'];

/**
 * Start-up: the whoami Corefile (and idle RSS), and kubeadm's Corefile without
 * kubernetes and loop (errors, health, ready, prometheus, forward to a local
 * upstream, cache, reload, loadbalance; health's lameduck is left out, as it
 * only slows the stop).
 */
async function startup() {
  const whoami = await startTimes((p) => `.:${p} {\n    bind 127.0.0.1\n    whoami\n}\n`, true);
  if (productionNeeds.some((n) => !havePlugin(n))) return whoami;
  const upstream = await startAnswerUpstream();
  try {
    const up = upstream.address().port;
    const production = await startTimes(
      (p) =>
        `.:${p} {\n    bind 127.0.0.1\n    errors\n    health 127.0.0.1:${port()}\n    ready 127.0.0.1:${port()}\n    prometheus 127.0.0.1:${port()}\n    forward . 127.0.0.1:${up}\n    cache 30\n    reload\n    loadbalance\n}\n`,
    );
    return { ...whoami, productionStartMs: production.startMs };
  } finally {
    upstream.close();
  }
}

/**
 * A local upstream for the memory scenario: answers every A query with one A
 * record (TTL 3600), its address taken from a counter, so that each name is a
 * distinct, cacheable positive answer. Runs in this process (CPU 1).
 */
function startAnswerUpstream() {
  const sock = dgram.createSocket('udp4');
  let n = 0;
  sock.on('message', (m, rinfo) => {
    if (m.length < 12 || m[2] & 0x80) return;
    // the question ends after its name and type/class
    let off = 12;
    while (off < m.length && m[off] !== 0) off += m[off] + 1;
    off += 5;
    if (off > m.length) return;
    const r = Buffer.alloc(off + 16);
    m.copy(r, 0, 0, off);
    r[2] = 0x84 | (m[2] & 0x01); // QR, AA, RD copied
    r[3] = 0x80; // RA
    r.writeUInt16BE(1, 4);
    r.writeUInt16BE(1, 6);
    r.writeUInt32BE(0, 8); // no authority, no additional
    n++;
    // answer: pointer to the question name, A IN 3600, 10.x.y.z
    Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]).copy(r, off);
    sock.send(r, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock)));
}

/** The value of a metric series from a /metrics page (the first line starting with `prefix`). */
async function metricValue(url, prefix) {
  try {
    const text = await (await fetch(url)).text();
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
  } catch {
    return NaN;
  }
}

const CACHED_NAMES = 100000;

/**
 * RSS with 100,000 cached names: forward + cache (capacity 200,000, so that no
 * shard evicts), filled with 100,000 distinct names through dnsperf from a
 * local upstream, then the server's RSS read from /proc. The number of names
 * actually cached is read from coredns_cache_entries (passes are repeated for
 * names whose query was lost).
 */
async function cachedMemory() {
  const names = queryFile('names-100k', Array.from({ length: CACHED_NAMES }, (_, i) => `n${i}.mem.bench.example. A`));
  const upstream = await startAnswerUpstream();
  const p = port();
  const mp = port();
  const s = await startTsdns(
    `.:${p} {\n    bind 127.0.0.1\n    prometheus 127.0.0.1:${mp}\n    cache 3600 {\n        success 200000\n    }\n    forward . 127.0.0.1:${upstream.address().port}\n}\n`,
  );
  const entries = () => metricValue(`http://127.0.0.1:${mp}/metrics`, 'coredns_cache_entries{server="dns://127.0.0.1:' + p + '",type="success"');
  try {
    await waitAnswer(p);
    await sleep(500);
    const before = rssMb(s.pid);
    let cached = 0;
    for (let pass = 0; pass < 4 && !(cached >= CACHED_NAMES); pass++) {
      const [c, a] = pinned(1, 'dnsperf', ['-s', '127.0.0.1', '-p', String(p), '-d', names, '-n', '1', '-c', String(CLIENTS), '-q', '200', '-t', '2']);
      // not spawnSync: the upstream answers from this process's event loop
      await new Promise((resolve) => spawn(c, a, { stdio: 'ignore' }).on('exit', resolve));
      cached = await entries();
    }
    await sleep(1000);
    return { rssBeforeMb: before, rssMb: rssMb(s.pid), cachedNames: cached };
  } finally {
    await stopProcess(s);
    upstream.close();
  }
}

// ---------------------------------------------------------------- main
const selected = scenarios.filter((s) => only.length === 0 || only.includes(s.name));
const results = new Map(selected.map((s) => [s.name, []]));
const skipped = [];
const refs = [];
console.log(`tsdns benchmarks: ${ROUNDS} rounds × ${DURATION}s, dnsperf -c ${CLIENTS} -q ${OUTSTANDING}${taskset ? ', server on CPU 0, dnsperf on CPU 1' : ''}\n`);
for (let round = 1; round <= ROUNDS; round++) {
  const ref = await reference();
  refs.push(ref);
  process.stdout.write(`round ${round}: reference ${ref.qps.toFixed(0)} qps`);
  for (const sc of selected) {
    const missing = sc.needs.filter((n) => !havePlugin(n));
    const why = missing.length ? `needs ${missing.join(', ')}` : sc.unavailable?.();
    if (why) {
      if (round === 1) skipped.push(`${sc.name} (${why})`);
      continue;
    }
    const r = await sc.run();
    r.ratio = r.qps / (r.baseline ?? ref.qps);
    results.get(sc.name).push(r);
    process.stdout.write(`, ${sc.name} ${r.qps.toFixed(0)}`);
  }
  process.stdout.write('\n');
}
const start = await startup();
const memoryNeeds = ['forward', 'cache', 'prometheus', 'bind'].filter((n) => !havePlugin(n));
if (memoryNeeds.length && (only.length === 0 || only.includes('rss-100k'))) skipped.push(`rss-100k (needs ${memoryNeeds.join(', ')})`);
const memory = memoryNeeds.length === 0 && (only.length === 0 || only.includes('rss-100k')) ? await cachedMemory() : undefined;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const rows = [['scenario', 'QPS median (min-max)', 'ratio', 'vs', 'avg lat ms', 'probe p99 ms', 'server CPU', 'CPU µs/query', 'RSS MB']];
rows.push([
  'reference',
  `${fmt(median(refs.map((r) => r.qps)))} (${fmt(Math.min(...refs.map((r) => r.qps)))}-${fmt(Math.max(...refs.map((r) => r.qps)))})`,
  '1.00',
  '',
  fmt(median(refs.map((r) => r.avg * 1000)), 2),
  fmt(median(refs.map((r) => r.p99 * 1000)), 2),
  fmt(median(refs.map((r) => r.cpu * 100))) + '%',
  fmt(median(refs.map((r) => r.cpuUsPerQuery)), 1),
  fmt(median(refs.map((r) => r.rss)), 1),
]);
const summary = { date: new Date().toISOString(), rounds: ROUNDS, duration: DURATION, reference: refs, scenarios: {}, startup: start, memory, skipped };
for (const [name, rs] of results) {
  if (rs.length === 0) continue;
  const qps = rs.map((r) => r.qps);
  rows.push([
    name,
    `${fmt(median(qps))} (${fmt(Math.min(...qps))}-${fmt(Math.max(...qps))})`,
    fmt(median(rs.map((r) => r.ratio)), 2),
    rs[0].baselineName ?? 'reference',
    fmt(median(rs.map((r) => r.avg * 1000)), 2),
    fmt(median(rs.map((r) => r.p99 * 1000)), 2),
    fmt(median(rs.map((r) => r.cpu * 100))) + '%',
    fmt(median(rs.map((r) => r.cpuUsPerQuery)), 1),
    fmt(median(rs.map((r) => r.rss)), 1),
  ]);
  summary.scenarios[name] = rs;
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log('');
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
// tsdns against the miekg/dns servers, QPS measured in the same round (both on CPU 0)
const perCore = [];
for (const [name, theirs] of [['whoami', 'miekg-whoami'], ['forward', 'miekg-forward']]) {
  const a = results.get(name) ?? [];
  const b = results.get(theirs) ?? [];
  const n = Math.min(a.length, b.length);
  if (n === 0) continue;
  const ratios = Array.from({ length: n }, (_, i) => a[i].qps / b[i].qps);
  perCore.push(`${name} ${fmt(median(ratios), 2)} (${fmt(Math.min(...ratios), 2)}-${fmt(Math.max(...ratios), 2)})`);
  summary[`vsMiekg-${name}`] = ratios;
}
if (perCore.length) console.log(`\ntsdns QPS / miekg/dns QPS, one core each, same round: ${perCore.join('; ')}`);
console.log(
  `\nstart to first answer: ${fmt(start.startMs)} ms (median of 5)${start.productionStartMs !== undefined ? `, ${fmt(start.productionStartMs)} ms with kubeadm's Corefile (forward, cache, prometheus, health, ready, reload)` : ''}; RSS idle: ${fmt(start.rssIdleMb, 1)} MB`,
);
if (memory) {
  console.log(
    `RSS with ${CACHED_NAMES.toLocaleString('en')} cached names: ${fmt(memory.rssMb, 1)} MB (${fmt(memory.cachedNames)} names in the cache; ${fmt(memory.rssBeforeMb, 1)} MB before filling it)`,
  );
}
if (skipped.length) console.log(`not in this build: ${skipped.join('; ')}`);
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
console.log(`\nresults: ${jsonOut}`);
