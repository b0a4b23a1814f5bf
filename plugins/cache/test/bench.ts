/**
 * Micro-benchmark (not a test; runs only with `--bench`):
 *   node plugins/cache/dist/test/bench.js --bench
 * µs per query through Server.serve with an in-memory connection writer:
 * a cache hit (wire path and message path) next to a whoami answer.
 */
import { encodeMessage, newReply, type ConnWriter, type Msg, type PluginDefinition, type Address, type Instance } from '@tsdns/core';
import { buildCorefile, packQuery } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import cachePlugin, { Cache } from '../src/index.js';

class NullConn implements ConnWriter {
  readonly remote: Address = { address: '10.240.0.1', port: 40212, family: 4 };
  readonly local: Address = { address: '127.0.0.1', port: 53, family: 4 };
  readonly transport = 'udp' as const;
  readonly proto = 'udp' as const;
  bytes = 0;
  send(m: Msg, compress: boolean): void {
    this.bytes += encodeMessage(m, compress).length;
  }
  writeMsg(m: Msg): void {
    this.send(m, false);
  }
  write(wire: Uint8Array): void {
    this.bytes += wire.length;
  }
}

/** A synchronous stand-in for an upstream: an A record for every name. */
const fakeUpstream: PluginDefinition = {
  name: 'fakeup',
  setup(c) {
    c.next();
    c.addPlugin(() => ({
      name: 'fakeup',
      ServeDNS(_ctx, w, r): number {
        const m = newReply(r);
        m.flags |= 0x80;
        m.answers.push({ name: r.questions[0]!.name, type: 'A', class: 'IN', ttl: 300, data: '192.0.2.1' });
        w.writeMsg(m);
        return 0;
      },
    }));
  },
};

/** The floor: a handler that writes the same bytes every time (server overhead only). */
const fixedBytes: PluginDefinition = {
  name: 'fixed',
  setup(c) {
    c.next();
    const b = Buffer.alloc(60);
    c.addPlugin(() => ({
      name: 'fixed',
      ServeDNS(_ctx, w): number {
        w.write(b);
        return 0;
      },
    }));
  },
};

function server(corefile: string): Promise<Instance> {
  return buildCorefile(corefile, { plugins: [cachePlugin, whoami, fakeUpstream, fixedBytes], defaultPort: '53', loopback: false });
}

const best = new Map<string, number>();

function measure(label: string, inst: Instance, raw: Buffer, n: number): number {
  const only = process.env['ONLY'];
  if (only !== undefined && !label.includes(only)) return 0;
  const s = inst.servers[0]!;
  const w = new NullConn();
  for (let i = 0; i < 20000; i++) s.serve(raw, w);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) s.serve(raw, w);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  best.set(label, Math.min(best.get(label) ?? Infinity, us));
  return us;
}

if (process.argv.includes('--bench')) {
  const n = 200000;
  const q = packQuery('www.example.org', 'A', { edns: true });
  const qNoEdns = packQuery('www.example.org', 'A');
  const w = await server('.:53 {\n whoami\n}');
  const f = await server('.:53 {\n fixed\n}');
  const c = await server('.:53 {\n cache 30\n fakeup\n}');
  const cache = c.configs[0]!.handlers.find((h): h is Cache => h instanceof Cache)!;
  const rounds = Number(process.env['ROUNDS'] ?? 5);
  for (let round = 0; round < rounds; round++) {
    measure('server floor: fixed bytes (EDNS)', f, q, n);
    measure('whoami (EDNS)', w, q, n);
    cache.wireHits = true;
    measure('cache hit, wire path (EDNS)', c, q, n);
    measure('cache hit, wire path (no EDNS)', c, qNoEdns, n);
    cache.wireHits = false;
    measure('cache hit, message path (EDNS)', c, q, n);
  }
  for (const [label, us] of best) console.log(`${label.padEnd(36)} ${us.toFixed(3)} µs/query (best of ${rounds})`);
}
