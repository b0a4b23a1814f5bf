/**
 * Micro-benchmark (not a test; runs only with `--bench` or `--inproc`):
 *   node plugins/forward/dist/test/bench.js --bench [--n 100000] [--rounds 3] [--floor] [--only LABEL]
 *   node plugins/forward/dist/test/bench.js --inproc [--n 200000] [--rounds 5] [--edns]
 * `--inproc` measures forward's JavaScript alone (see inprocMain); `--bench`:
 * CPU µs per query spent by a forwarding tsdns (this process, real loopback
 * sockets) while a child process plays both the client (K queries
 * outstanding over UDP or TCP) and the upstream (a raw responder: the
 * question echoed, or a compressed answer). Only this process's CPU time
 * (process.cpuUsage) is counted, so the figure holds on a busy machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { encodeMessage, toAddress, type ConnWriter, type Msg } from '@tsdns/core';
import { serve, plugins } from './helpers.js';
import { Forward } from '../src/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : def;
};

type Reply = 'echo' | 'answer';

// ------------------------------------------------------------------ child: client + upstream
function startUpstream(): Promise<{ port: number; setReply(r: Reply): void }> {
  const sock = dgram.createSocket('udp4');
  const cache = new Map<string, Buffer>();
  let mode: Reply = 'echo';
  sock.on('message', (m, rinfo) => {
    if (m.length < 12) return;
    const key = mode + m.toString('latin1', 2);
    let reply = cache.get(key);
    if (reply === undefined) {
      if (mode === 'echo') {
        reply = Buffer.from(m);
        reply[2]! |= 0x84;
      } else {
        reply = answerFor(m);
      }
      cache.set(key, reply);
    }
    const out = Buffer.from(reply);
    out[0] = m[0]!;
    out[1] = m[1]!;
    sock.send(out, rinfo.port, rinfo.address);
  });
  const tcp = net.createServer((s) => {
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + q.length);
        const r = Buffer.from(mode === 'echo' ? q : answerFor(q));
        if (mode === 'echo') r[2]! |= 0x84;
        r[0] = q[0]!;
        r[1] = q[1]!;
        const f = Buffer.alloc(r.length + 2);
        f.writeUInt16BE(r.length);
        r.copy(f, 2);
        s.write(f);
      }
    });
    s.on('error', () => s.destroy());
  });
  return new Promise((resolve) => {
    sock.bind(0, '127.0.0.1', () => {
      const port = sock.address().port;
      tcp.listen(port, '127.0.0.1', () => resolve({ port, setReply: (r) => (mode = r) }));
    });
  });
}

/** A compressed reply with a CNAME and two A records (what a recursive resolver sends). */
function answerFor(q: Buffer): Buffer {
  // the question as sent (name, type, class)
  let off = 12;
  while (q[off]! !== 0) off += q[off]! + 1;
  off += 5;
  const question = q.subarray(12, off);
  const hasOpt = q.readUInt16BE(10) > 0;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(3, 6);
  header.writeUInt16BE(hasOpt ? 1 : 0, 10);
  parts.push(header, question);
  // owner: pointer to the question name (offset 12); CNAME target www.example.net.
  const cname = Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 17, 3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 110, 101, 116, 0]);
  parts.push(cname);
  const target = 12 + question.length + 12; // offset of www.example.net. in the message
  for (const last of [1, 2]) parts.push(Buffer.from([0xc0 | (target >> 8), target & 0xff, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, last]));
  if (hasOpt) parts.push(Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

function childMain(): void {
  void startUpstream().then((up) => {
    process.send!({ up: up.port });
    process.on('message', (msg: { run: { port: number; n: number; k: number; tcp: boolean; edns: boolean; reply: Reply } }) => {
      const { port, n, k, tcp, edns, reply } = msg.run;
      up.setReply(reply);
      const queries: Buffer[] = [];
      for (let i = 0; i < 1000; i++) {
        const m: Msg = { id: 0, type: 'query', flags: 0x0100, questions: [{ name: `host-${i}.bench.example.`, type: 'A', class: 'IN' }], answers: [], authorities: [], additionals: [] };
        if (edns) m.additionals.push({ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] });
        queries.push(encodeMessage(m));
      }
      let sent = 0;
      let got = 0;
      const t0 = performance.now();
      const done = (): void => {
        process.send!({ done: got, ms: performance.now() - t0 });
      };
      if (!tcp) {
        const s = dgram.createSocket('udp4');
        s.connect(port, '127.0.0.1', () => {
          const next = (): void => {
            const q = queries[sent % 1000]!;
            q[0] = (sent >> 8) & 0xff;
            q[1] = sent & 0xff;
            sent++;
            s.send(q);
          };
          s.on('message', () => {
            got++;
            if (got === n) {
              s.close();
              done();
            } else if (sent < n) next();
          });
          for (let i = 0; i < k; i++) next();
        });
      } else {
        const s = net.connect(port, '127.0.0.1', () => {
          const next = (): void => {
            const q = queries[sent % 1000]!;
            const f = Buffer.alloc(q.length + 2);
            f.writeUInt16BE(q.length);
            q.copy(f, 2);
            f[2] = (sent >> 8) & 0xff;
            f[3] = sent & 0xff;
            sent++;
            s.write(f);
          };
          let buf: Buffer = Buffer.alloc(0);
          s.on('data', (d: Buffer) => {
            buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
            while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
              buf = buf.subarray(2 + buf.readUInt16BE(0));
              got++;
              if (got === n) {
                s.destroy();
                done();
                return;
              } else if (sent < n) next();
            }
          });
          for (let i = 0; i < k; i++) next();
        });
      }
    });
  });
}

// ------------------------------------------------------------------ parent: tsdns
async function parentMain(): Promise<void> {
  const n = Number(opt('n', '100000'));
  const rounds = Number(opt('rounds', '3'));
  const k = Number(opt('k', '100'));
  const child: ChildProcess = fork(process.argv[1]!, ['--load'], { stdio: 'inherit' });
  const up = await new Promise<number>((r) => child.once('message', (m: { up: number }) => r(m.up)));
  const srv = await serve(`.:0 {\n    forward . 127.0.0.1:${up}\n}\n`);
  void plugins;
  const fwd = srv.instance.configs[0]!.handlers.find((h): h is Forward => h instanceof Forward)!;
  const port = srv.udpAddress().port;
  const floor = await serve(`.:0 {\n    whoami\n}\n`);
  const tport = srv.tcpAddress().port;
  const best = new Map<string, { us: number; sys: number; qps: number }>();
  const run = (tcp: boolean, edns: boolean, reply: Reply, count: number, to?: number): Promise<{ us: number; sys: number; qps: number }> =>
    new Promise((resolve) => {
      const c0 = process.cpuUsage();
      child.once('message', (m: { done: number; ms: number }) => {
        const c = process.cpuUsage(c0);
        resolve({ us: (c.user + c.system) / m.done, sys: c.system / m.done, qps: (m.done / m.ms) * 1000 });
      });
      child.send({ run: { port: to ?? (tcp ? tport : port), n: count, k, tcp, edns, reply } });
    });
  const cases: [string, boolean, boolean, Reply][] = [
    ['udp, no EDNS, echo reply', false, false, 'echo'],
    ['udp, EDNS, echo reply', false, true, 'echo'],
    ['udp, EDNS, compressed answer', false, true, 'answer'],
    ['tcp, EDNS, compressed answer', true, true, 'answer'],
  ];
  const only = opt('only', '');
  if (args.includes('--floor')) {
    for (let round = 0; round < rounds; round++) {
      await run(false, true, 'echo', 20000, floor.udpAddress().port);
      const r = await run(false, true, 'echo', n, floor.udpAddress().port);
      const b = best.get('floor: whoami, udp, EDNS');
      if (b === undefined || r.us < b.us) best.set('floor: whoami, udp, EDNS', r);
    }
  }
  // wire / msg: the reply path (relayWire, or decode + writeMsg)
  const modes = (process.env['MODES'] ?? 'wire,msg').split(',');
  for (let round = 0; round < rounds; round++) {
    for (const [label, tcp, edns, reply] of cases) {
      if (only !== '' && !label.includes(only)) continue;
      for (const mode of modes) {
        fwd.wireReplies = mode !== 'msg';
        await run(tcp, edns, reply, Math.min(20000, n));
        const r = await run(tcp, edns, reply, n);
        const key = `${label} [${mode}]`;
        const b = best.get(key);
        if (b === undefined || r.us < b.us) best.set(key, r);
      }
    }
  }
  for (const [label, r] of best) console.log(`${label.padEnd(46)} ${r.us.toFixed(2)} µs/query, ${r.sys.toFixed(2)} of them in the kernel  (${Math.round(r.qps)} q/s, best of ${rounds})`);
  child.kill();
  await srv.close();
  await floor.close();
}

// ------------------------------------------------------------------ in-process: no sockets
/**
 * `--inproc`: forward's JavaScript alone. The server is driven with raw
 * queries (as the UDP listener does) and a writer that drops the reply; the
 * upstream socket's `send` is replaced by an echo answered in a microtask,
 * fed to the socket's reply handler. Prints µs per query for forward and for
 * whoami in the same harness.
 */
async function inprocMain(): Promise<void> {
  const n = Number(opt('n', '200000'));
  const rounds = Number(opt('rounds', '5'));
  const k = 50; // under the 64 queries a socket takes: one (patched) socket serves them all
  const enc = encodeMessage;
  const local = toAddress('127.0.0.1', 53);
  const remote = toAddress('127.0.0.1', 40000);
  let sink = 0;
  const writer = {
    transport: 'udp' as const,
    proto: 'udp' as const,
    remote,
    local,
    send(m: Msg, compress: boolean): void {
      sink += enc(m, compress).length;
    },
    writeMsg(m: Msg): void {
      this.send(m, false);
    },
    write(wire: Uint8Array): void {
      sink += wire.length;
    },
  };
  const queries: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const m: Msg = { id: i, type: 'query', flags: 0x0100, questions: [{ name: `host-${i}.bench.example.`, type: 'A', class: 'IN' }], answers: [], authorities: [], additionals: [] };
    if (args.includes('--edns')) m.additionals.push({ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] });
    queries.push(enc(m));
  }
  const results: string[] = [];
  for (const [label, corefile] of [
    ['forward', `.:0 {\n    forward . 127.0.0.1:9\n}\n`],
    ['whoami', `.:0 {\n    whoami\n}\n`],
  ] as const) {
    const srv = await serve(corefile);
    const server = srv.instance.servers[0]!;
    const fwd = srv.instance.configs[0]!.handlers.find((h): h is Forward => h instanceof Forward);
    if (fwd !== undefined) {
      const pool = fwd.proxies[0]!.pool;
      const m = await pool.dialUdp();
      const mux = m as unknown as { sock: { send(b: Uint8Array): void }; receive(b: Buffer): void; reserved: number };
      mux.reserved = 0;
      mux.sock.send = (b: Uint8Array): void => {
        const r = Buffer.from(b);
        r[2]! |= 0x84;
        queueMicrotask(() => mux.receive(r));
      };
    }
    const once = async (count: number): Promise<number> => {
      const c0 = process.cpuUsage();
      const pending: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const p = server.serve(Buffer.from(queries[i % 1000]!), writer as ConnWriter);
        if (p !== undefined) pending.push(p);
        if (pending.length >= k) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / count;
    };
    await once(Math.min(n, 50000));
    const r: number[] = [];
    for (let i = 0; i < rounds; i++) r.push(await once(n));
    r.sort((a, b) => a - b);
    results.push(`${label.padEnd(10)} ${r[Math.floor(r.length / 2)]!.toFixed(3)} µs/query (min ${r[0]!.toFixed(3)}; in-process, no sockets)`);
    await srv.close();
  }
  for (const l of results) console.log(l);
  if (sink < 0) console.log(sink);
}

if (args.includes('--load')) childMain();
else if (args.includes('--inproc')) await inprocMain();
else if (args.includes('--bench')) await parentMain();
