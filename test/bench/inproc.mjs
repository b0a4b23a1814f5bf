#!/usr/bin/env node
// In-process micro-benchmark of the query path (no sockets): builds a
// configuration with the real plugins, then drives `Server.serve(raw, writer)`
// in a loop with a writer that encodes the reply as the UDP writer does and
// drops it. Prints µs per query (median and min of the rounds). Timings taken
// this way hold on a busy machine far better than dnsperf figures.
//
//   node test/bench/inproc.mjs [--only whoami,metrics-on] [--n 200000] [--rounds 7] [--edns]
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// the compiled packages, by path (the bench has no package.json of its own)
const imp = (name) => {
  const [, group, pkg] = /^@tsdns\/(plugin-)?(.*)$/.exec(name);
  return import(pathToFileURL(join(root, group ? 'plugins' : 'packages', pkg, 'dist', 'src', 'index.js')).href);
};

const core = await imp('@tsdns/core');
const { parseCorefile, inspectServerBlocks } = await imp('@tsdns/corefile');
const { Instance, PluginRegistry, encodeMessage, toAddress } = core;

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const N = Number(opt('n', '200000'));
const ROUNDS = Number(opt('rounds', '7'));
const only = opt('only', '').split(',').filter(Boolean);
const edns = args.includes('--edns');

const pluginNames = ['bind', 'prometheus', 'errors', 'log', 'cache', 'whoami'];
const pkgOf = { prometheus: 'metrics' };
const defs = [];
for (const n of pluginNames) defs.push((await imp(`@tsdns/plugin-${pkgOf[n] ?? n}`)).default);
const registry = PluginRegistry.of(defs);

async function build(corefile) {
  const blocks = parseCorefile(corefile, { filename: 'Corefile', validDirectives: new Set(registry.names()) });
  const inst = await Instance.build({ filename: 'Corefile', blocks: inspectServerBlocks(blocks, { defaultPort: '53' }), registry });
  return inst.servers[0];
}

// What dnsperf sends (no EDNS unless --edns): 1000 distinct names as in run.mjs.
function query(i, id) {
  const labels = [`host-${i}`, 'bench', 'example'];
  const parts = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  if (edns) parts.push(Buffer.from('0000291000000000000000', 'hex'));
  return Buffer.concat(parts);
}
const queries = Array.from({ length: 1000 }, (_, i) => query(i, i));

const local = toAddress('127.0.0.1', 53);
let sink = 0;
/** Mimics the UDP writer: one object per query, remote address parsed lazily, reply encoded. */
class FakeUdpWriter {
  constructor(rinfo) {
    this.rinfo = rinfo;
    this._remote = undefined;
    this.transport = 'udp';
    this.proto = 'udp';
  }
  get remote() {
    return (this._remote ??= toAddress(this.rinfo.address, this.rinfo.port));
  }
  get local() {
    return local;
  }
  send(m, compress, len) {
    this.write(encodeMessage(m, compress, false, len));
  }
  writeMsg(m) {
    this.send(m, false);
  }
  write(wire) {
    sink += wire.length;
  }
}
const rinfo = { address: '127.0.0.1', port: 40000, family: 'IPv4', size: 0 };

const scenarios = {
  whoami: '.:53 {\n    whoami\n}\n',
  'metrics-on': '.:53 {\n    prometheus 127.0.0.1:0\n    errors\n    whoami\n}\n',
  log: '.:53 {\n    log . "{remote}"\n    whoami\n}\n',
};

function run(server, n) {
  const qs = queries;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    // a fresh buffer per query, as dgram delivers them
    const q = qs[i % 1000];
    server.serve(q, new FakeUdpWriter(rinfo));
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

const out = {};
for (const [name, corefile] of Object.entries(scenarios)) {
  if (only.length && !only.includes(name)) continue;
  if (name === 'log') {
    // log lines would flood stdout: send them nowhere
    core.setLogSink({ write() {} });
  }
  const server = await build(corefile);
  run(server, Math.min(N, 50000)); // warm-up
  const r = [];
  for (let i = 0; i < ROUNDS; i++) r.push(run(server, N));
  r.sort((a, b) => a - b);
  out[name] = { median: r[Math.floor(r.length / 2)], min: r[0], max: r[r.length - 1] };
  console.log(`${name.padEnd(12)} ${r[Math.floor(r.length / 2)].toFixed(3)} µs/query (min ${r[0].toFixed(3)}, max ${r[r.length - 1].toFixed(3)})`);
}
if (sink < 0) console.log(sink);
if (args.includes('--json')) console.log(JSON.stringify(out));
process.exit(0);
