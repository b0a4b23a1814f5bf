/**
 * Pieces of `-workers N` that can be tested without processes: the flag's
 * value, `auto` and the cgroup CPU limit, the IPC channel, the metrics
 * aggregation and the primary's HTTP fronts (with real HTTP servers standing
 * in for the workers).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CounterVec, HistogramVec, aggregateMetrics, aggregatorFor, promClient, type MetricFamilyJson } from '@tsdns/core';
import { FlagError, parseFlags } from '../src/flags.js';
import { HttpFronts } from '../src/httpfront.js';
import { Channel, ChannelClosedError, type Envelope } from '../src/ipc.js';
import { MAX_WORKERS, cgroupCpuLimit, checkWorkers, resolveWorkers } from '../src/workers.js';

describe('-workers value', () => {
  it('accepts a positive number up to the maximum, or auto', () => {
    for (const v of ['1', '2', '16', String(MAX_WORKERS), 'auto']) assert.equal(checkWorkers(v), undefined, v);
  });

  it('rejects everything else with a reason', () => {
    for (const v of ['0', '00', '-1', '1.5', '', ' 2', 'x', 'AUTO', '1e3', String(MAX_WORKERS + 1)]) assert.equal(typeof checkWorkers(v), 'string', v);
  });

  it('is checked while the flags are parsed: Go flag package text, exit status 2', () => {
    const defs = [{ name: 'workers', kind: 'string' as const, usage: '', check: checkWorkers }];
    assert.equal(parseFlags(['-workers', '3'], defs).values.get('workers'), '3');
    assert.equal(parseFlags(['--workers=auto'], defs).values.get('workers'), 'auto');
    assert.throws(
      () => parseFlags(['-workers=0'], defs),
      (e: unknown) => e instanceof FlagError && e.exitCode === 2 && e.message === 'invalid value "0" for flag -workers: must be at least 1',
    );
    assert.throws(
      () => parseFlags(['-workers', 'x'], defs),
      (e: unknown) => e instanceof FlagError && e.message === 'invalid value "x" for flag -workers: parse error: want a number of processes or auto',
    );
  });

  it('auto: one per CPU, bounded by the cgroup CPU limit', () => {
    assert.equal(resolveWorkers('3', () => 64, () => 1), 3, 'a number is taken as is');
    assert.equal(resolveWorkers('auto', () => 8, () => undefined), 8);
    assert.equal(resolveWorkers('auto', () => 64, () => 2), 2);
    assert.equal(resolveWorkers('auto', () => 2, () => 16), 2);
    assert.equal(resolveWorkers('auto', () => 1024, () => undefined), MAX_WORKERS);
  });

  it('reads the cgroup v2 and v1 CPU quota (rounded down, at least 1)', () => {
    const files = (m: Record<string, string>) => (p: string) => m[p];
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' })), 2);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '250000 100000\n' })), 2);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' })), 1);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), undefined);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), 4);
    assert.equal(cgroupCpuLimit(files({})), undefined);
  });
});

describe('IPC channel', () => {
  /** Two channels wired to each other (asynchronously, as IPC is). */
  function pair(a: ConstructorParameters<typeof Channel>[1], b: ConstructorParameters<typeof Channel>[1]): [Channel, Channel] {
    let left!: Channel;
    let right!: Channel;
    const wire = (to: () => Channel) => (m: Envelope) => setImmediate(() => to().receive(JSON.parse(JSON.stringify(m))));
    left = new Channel(wire(() => right), a);
    right = new Channel(wire(() => left), b);
    return [left, right];
  }

  it('requests get replies, errors come back as errors, notes arrive', async () => {
    const notes: unknown[] = [];
    const [primary, worker] = pair(
      {},
      {
        request(op, body) {
          if (op === 'add') return (body as number[]).reduce((x, y) => x + y, 0);
          if (op === 'later') return new Promise((r) => setTimeout(() => r('done'), 10));
          throw new Error(`no ${op}`);
        },
        note: (op, body) => notes.push([op, body]),
      },
    );
    assert.equal(await primary.request('add', [1, 2, 3]), 6);
    assert.equal(await primary.request('later'), 'done');
    await assert.rejects(primary.request('nope'), /^Error: no nope$/);
    primary.note('stop', { signal: 'SIGTERM' });
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(notes, [['stop', { signal: 'SIGTERM' }]]);
    assert.equal(worker.receive({ cmd: 'NODE_CLUSTER' }), false, 'messages of others are left alone');
  });

  it('pending requests fail when the other side goes away; timeouts', async () => {
    const [primary] = pair({}, { request: () => new Promise(() => undefined) });
    const p = primary.request('hang');
    const t = primary.request('hang', undefined, 20);
    await assert.rejects(t, /no answer within 20 ms/);
    primary.close();
    await assert.rejects(p, (e: unknown) => e instanceof ChannelClosedError);
    await assert.rejects(primary.request('more'), (e: unknown) => e instanceof ChannelClosedError);
  });
});

describe('metrics aggregation', () => {
  async function workerRegistry(requests: number, observe: number[]): Promise<MetricFamilyJson[]> {
    const reg = new promClient.Registry();
    const c = new CounterVec({ name: 'coredns_dns_requests_total', help: 'h', labelNames: ['server', 'type'], registers: [reg] });
    c.labels('dns://:53', 'A').inc(requests);
    const h = new HistogramVec({ name: 'coredns_dns_request_duration_seconds', help: 'h', labelNames: ['server'], buckets: [0.001, 0.01], registers: [reg] });
    for (const v of observe) h.labels('dns://:53').observe(v);
    const info = new promClient.Gauge({ name: 'coredns_build_info', help: 'h', labelNames: ['version'], registers: [reg] });
    info.labels('1.14.7').set(1);
    const enabled = new promClient.Gauge({ name: 'coredns_plugin_enabled', help: 'h', labelNames: ['name'], registers: [reg] });
    enabled.labels('whoami').set(1);
    const entries = new promClient.Gauge({ name: 'coredns_cache_entries', help: 'h', registers: [reg] });
    entries.set(requests);
    const start = new promClient.Gauge({ name: 'process_start_time_seconds', help: 'h', aggregator: 'omit', registers: [reg] });
    start.set(1000 + requests);
    return (await reg.getMetricsAsJSON()) as unknown as MetricFamilyJson[];
  }

  it('sums counters, histograms and gauges, keeps info gauges and the oldest start time', async () => {
    const reg = aggregateMetrics([await workerRegistry(3, [0.0005, 0.005]), await workerRegistry(4, [0.5])]);
    const text = await reg.metrics();
    assert.match(text, /^coredns_dns_requests_total\{server="dns:\/\/:53",type="A"\} 7$/m);
    assert.match(text, /^coredns_dns_request_duration_seconds_bucket\{server="dns:\/\/:53",le="0.001"\} 1$/m);
    assert.match(text, /^coredns_dns_request_duration_seconds_bucket\{server="dns:\/\/:53",le="0.01"\} 2$/m);
    assert.match(text, /^coredns_dns_request_duration_seconds_bucket\{server="dns:\/\/:53",le="\+Inf"\} 3$/m);
    assert.match(text, /^coredns_dns_request_duration_seconds_count\{server="dns:\/\/:53"\} 3$/m);
    assert.match(text, /^coredns_build_info\{version="1.14.7"\} 1$/m);
    assert.match(text, /^coredns_plugin_enabled\{name="whoami"\} 1$/m);
    assert.match(text, /^coredns_cache_entries 7$/m);
    assert.match(text, /^process_start_time_seconds 1003$/m);
  });

  it('aggregator choices', () => {
    assert.equal(aggregatorFor({ name: 'coredns_dns_requests_total', type: 'counter', aggregator: 'sum' }), 'sum');
    assert.equal(aggregatorFor({ name: 'coredns_reload_version_info', type: 'gauge', aggregator: 'sum' }), 'max');
    assert.equal(aggregatorFor({ name: 'nodejs_eventloop_lag_seconds', type: 'gauge', aggregator: 'average' }), 'average');
    assert.equal(aggregatorFor({ name: 'coredns_forward_conn_cache_hits_total', type: 'counter' }), 'sum');
  });
});

describe('HTTP fronts of the primary', () => {
  interface Backend {
    server: http.Server;
    port: number;
  }
  async function backend(name: string, ready: () => boolean): Promise<Backend> {
    const server = http.createServer((req, res) => {
      if (req.url === '/ready') {
        const ok = ready();
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(ok ? 'OK' : name);
        return;
      }
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'X-Backend': name });
        res.end(`${name} ${req.method} ${req.url} ${body}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, port: (server.address() as AddressInfo).port };
  }
  function get(port: number, path: string, method = 'GET', body?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  function refused(port: number): Promise<boolean> {
    return get(port, '/').then(
      () => false,
      (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
    );
  }

  it('opens the address once, spreads requests, asks every worker for /ready, closes with the last worker', async () => {
    let ready1 = true;
    let ready2 = false;
    const b1 = await backend('w1', () => ready1);
    const b2 = await backend('w2', () => ready2);
    let serving = [1, 2];
    const fronts = new HttpFronts({ servingWorkers: () => serving, slotsNotServing: () => [1, 2].filter((n) => !serving.includes(n)), slotOf: (id) => id });
    try {
      const a1 = await fronts.register(1, '127.0.0.1:0', b1.port, false);
      const a2 = await fronts.register(2, '127.0.0.1:0', b2.port, false);
      assert.equal(a1.port, a2.port, 'one address for both');
      const port = a1.port;
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const r = await get(port, '/metrics');
        assert.equal(r.status, 200);
        names.add(String(r.headers['x-backend']));
      }
      assert.deepEqual(names, new Set(['w1', 'w2']), 'round robin');
      const post = await get(port, '/x?y=1', 'POST', 'payload');
      assert.match(post.body, /^w[12] POST \/x\?y=1 payload$/);

      assert.deepEqual([(await get(port, '/ready')).status, (await get(port, '/ready')).body], [503, 'w2']);
      ready2 = true;
      assert.deepEqual([(await get(port, '/ready')).status, (await get(port, '/ready')).body], [200, 'OK']);
      const head = await get(port, '/ready', 'HEAD');
      assert.deepEqual([head.status, head.body], [200, '']);
      serving = [2];
      assert.deepEqual([(await get(port, '/ready')).status, (await get(port, '/ready')).body], [503, 'worker 1 not ready']);
      serving = [1, 2];

      // a worker that went away without saying so: the next one answers
      await new Promise<void>((r) => b1.server.close(() => r()));
      for (let i = 0; i < 3; i++) assert.equal((await get(port, '/metrics')).headers['x-backend'], 'w2');
      assert.equal((await get(port, '/ready')).status, 503);

      fronts.unregister(1, '127.0.0.1:0', b1.port);
      fronts.dropWorker(2);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(fronts.addresses(), []);
      assert.ok(await refused(port), 'closed with its last worker');
    } finally {
      await fronts.closeAll();
      b1.server.close();
      b2.server.close();
    }
  });

  it("reports CoreDNS's listen error to the worker", async () => {
    const fronts = new HttpFronts({ servingWorkers: () => [1], slotsNotServing: () => [], slotOf: () => 1 });
    const b = await backend('w', () => true);
    const taken = http.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      await assert.rejects(fronts.register(1, `127.0.0.1:${port}`, b.port, false), new RegExp(`^Error: listen tcp 127.0.0.1:${port}: bind: address already in use$`));
      await assert.rejects(fronts.register(1, 'nohost', b.port, false), /^Error: address nohost: missing port in address$/);
    } finally {
      taken.close();
      b.server.close();
      await fronts.closeAll();
    }
  });
});
