/**
 * Signals (runtime.md §10): SIGUSR1 reload without dropping queries, a
 * broken reload keeping the old configuration, SIGTERM/SIGQUIT/SIGINT exits,
 * SIGHUP ignored.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RCODE, type Msg } from '@tsdns/core';
import { DnsTcpClient, freePort, makeQuery, queryUdp, spawnTsdns, type TsdnsProcess } from '@tsdns/testing';
import { HOST, assertWhoami, txtOf, writeTestPlugins, type TestPlugins } from './helpers.js';

const procs: TsdnsProcess[] = [];
const dirs: string[] = [];
let plugins: TestPlugins;

async function start(corefile: (port: number) => string, opts: { env?: Record<string, string> } = {}): Promise<{ p: TsdnsProcess; port: number }> {
  const port = await freePort();
  const p = await spawnTsdns(corefile(port), { port, ...(opts.env ? { env: opts.env } : {}) });
  procs.push(p);
  assert.ok(!p.exited, p.stderrText());
  return { p, port };
}

async function startWithPidfile(extra = ''): Promise<{ p: TsdnsProcess; pidfile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-e2e-sig-'));
  dirs.push(dir);
  const pidfile = join(dir, 'pid');
  const port = await freePort();
  const p = await spawnTsdns(`.:${port} {\n    whoami\n${extra}}\n`, { port, args: ['-pidfile', pidfile] });
  procs.push(p);
  assert.ok(!p.exited, p.stderrText());
  assert.equal(readFileSync(pidfile, 'utf8'), `${p.pid}\n`);
  return { p, pidfile };
}

function tag(m: Msg): string {
  if ((m.flags & 0xf) !== RCODE.NOERROR) return `rcode${m.flags & 0xf}`;
  return txtOf(m)[0] ?? 'none';
}

describe('signals', { concurrency: true }, () => {
  before(() => {
    plugins = writeTestPlugins();
  });
  after(() => {
    for (const p of procs) p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    plugins?.cleanup();
  });

  it('SIGUSR1 reloads the Corefile on the same sockets without losing a query', async () => {
    const v1 = (port: number): string => `.:${port} {\n    zonetag v1\n}\n`;
    const v2 = (port: number): string => `.:${port} {\n    zonetag v2\n}\nexample.org:${port} {\n    zonetag v2-example\n}\n`;
    const { p, port } = await start(v1, { env: plugins.env });
    const before = p.listeningPorts();
    assert.equal(tag((await queryUdp(HOST, port, makeQuery('www.example.org.', 'TXT'))).msg), 'v1');

    // query loops across the reload: UDP (sequential, every query must be answered)
    // and TCP (a new connection per query: the listener must never refuse)
    let stop = false;
    const seen = { udp: new Set<string>(), tcp: new Set<string>() };
    let udpCount = 0;
    let tcpCount = 0;
    const udpLoop = (async () => {
      while (!stop) {
        const r = await queryUdp(HOST, port, makeQuery('loop.example.org.', 'TXT', { id: udpCount & 0xffff }), { timeoutMs: 2000 });
        assert.equal(r.msg.id, udpCount & 0xffff);
        seen.udp.add(tag(r.msg));
        udpCount++;
      }
    })();
    const tcpLoop = (async () => {
      while (!stop) {
        const c = await DnsTcpClient.connect(HOST, port);
        try {
          const r = await c.query(makeQuery('loop.example.org.', 'TXT', { id: tcpCount & 0xffff }), 2000);
          assert.equal(r.msg.id, tcpCount & 0xffff);
          seen.tcp.add(tag(r.msg));
          tcpCount++;
        } finally {
          c.close();
        }
      }
    })();
    // a long-lived TCP connection opened before the reload: answered until the old server lets it go
    const lived = await DnsTcpClient.connect(HOST, port);
    assert.equal(tag((await lived.query(makeQuery('x.example.org.', 'TXT'))).msg), 'v1');

    const mark = p.mark();
    p.writeCorefile(v2(port));
    assert.ok(p.kill('SIGUSR1'));
    await p.waitForLine('[INFO] SIGUSR1: Reloading', { after: mark });
    await p.waitForLine('[INFO] Reloading complete', { after: mark });
    // keep querying a little after the switch
    const target = udpCount + 50;
    while (udpCount < target && !stop) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all([udpLoop, tcpLoop]);
    lived.close();

    assert.ok(udpCount > 50 && tcpCount > 5, `queries during the test: udp ${udpCount}, tcp ${tcpCount}`);
    assert.ok(seen.udp.has('v2-example'), `UDP answers seen: ${[...seen.udp].join(',')}`);
    for (const s of [seen.udp, seen.tcp]) for (const t of s) assert.ok(['v1', 'v2-example'].includes(t), `unexpected answer ${t}`);
    // the new configuration answers, with the new zone
    assert.equal(tag((await queryUdp(HOST, port, makeQuery('www.example.org.', 'TXT'))).msg), 'v2-example');
    assert.equal(tag((await queryUdp(HOST, port, makeQuery('www.example.net.', 'TXT'))).msg), 'v2');
    assert.deepEqual(p.listeningPorts(), before, 'same listening sockets');
    assert.ok(!p.exited);
    const lines = p.stdout().slice(mark);
    assert.deepEqual(
      lines.filter((l) => /Reload/.test(l)),
      ['[INFO] SIGUSR1: Reloading', '[INFO] Reloading', '[INFO] Reloading complete'],
    );
  });

  it('SIGUSR1 with a broken Corefile logs [ERROR] and keeps the old configuration serving', async () => {
    const { p, port } = await start((port) => `.:${port} {\n    whoami\n}\n`);
    const mark = p.mark();
    p.writeCorefile(`.:${port} {\n    whoami\n    bogus\n}\n`);
    p.kill('SIGUSR1');
    const err = await p.waitForLine(/^\[ERROR\] SIGUSR1: /, { after: mark });
    const want = `starting with listener file descriptors: ${p.corefilePath}:3 - Error during parsing: Unknown directive 'bogus'`;
    assert.equal(err, `[ERROR] SIGUSR1: ${want}`);
    assert.ok(p.stdout().slice(mark).includes(`[ERROR] Restart failed: ${want}`), p.stdoutText());
    assert.ok(!p.stdout().slice(mark).includes('[INFO] Reloading complete'));
    const r = await queryUdp(HOST, port, makeQuery('still.example.', 'A'));
    assertWhoami(r.msg, { qname: 'still.example.', proto: 'udp', port: r.localPort });
    // a Corefile that parses but cannot start (duplicate zone) is rejected the same way
    const mark2 = p.mark();
    p.writeCorefile(`.:${port} {\n    whoami\n}\n.:${port} {\n    whoami\n}\n`);
    p.kill('SIGUSR1');
    const err2 = await p.waitForLine(/^\[ERROR\] SIGUSR1: /, { after: mark2 });
    assert.match(err2, new RegExp(`cannot serve dns://\\.:${port} - it is already defined$`));
    const r2 = await queryUdp(HOST, port, makeQuery('still.example.', 'A'));
    assertWhoami(r2.msg, { qname: 'still.example.', proto: 'udp', port: r2.localPort });
    // and a missing Corefile
    const mark3 = p.mark();
    rmSync(p.corefilePath);
    p.kill('SIGUSR1');
    const err3 = await p.waitForLine(/^\[ERROR\] SIGUSR1: /, { after: mark3 });
    assert.equal(err3, `[ERROR] SIGUSR1: loading updated Caddyfile: loading Caddyfile via flag: open ${p.corefilePath}: no such file or directory`);
    const r3 = await queryUdp(HOST, port, makeQuery('still.example.', 'A'));
    assert.equal(r3.msg.flags & 0xf, RCODE.NOERROR);
  });

  it('SIGTERM: shuts down servers, logs, exits 0', async () => {
    const { p, pidfile } = await startWithPidfile();
    p.kill('SIGTERM');
    const st = await p.waitForExit();
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(p.stdout().includes('[INFO] SIGTERM: Shutting down servers then terminating'), p.stdoutText());
    assert.equal(existsSync(pidfile), false, 'pidfile removed');
  });

  it('SIGQUIT: quits immediately, exits 0', async () => {
    const { p, pidfile } = await startWithPidfile();
    p.kill('SIGQUIT');
    const st = await p.waitForExit();
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(p.stdout().includes('[INFO] SIGQUIT: Quitting process immediately'), p.stdoutText());
    assert.equal(existsSync(pidfile), false, 'pidfile removed');
  });

  it('SIGINT: shuts down, exits 0', async () => {
    const { p, pidfile } = await startWithPidfile();
    p.kill('SIGINT');
    const st = await p.waitForExit();
    assert.deepEqual(st, { code: 0, signal: null });
    assert.ok(p.stdout().includes('[INFO] SIGINT: Shutting down'), p.stdoutText());
    assert.equal(existsSync(pidfile), false, 'pidfile removed');
  });

  it('a second SIGINT while the first one stops the server (here: lameduck) quits at once, exits 2', async () => {
    const hport = await freePort();
    const { p, pidfile } = await startWithPidfile(`    health ${HOST}:${hport} {\n        lameduck 20s\n    }\n`);
    const t0 = Date.now();
    p.kill('SIGINT');
    await p.waitForLine('[INFO] plugin/health: Going into lameduck mode for 20s');
    assert.equal(existsSync(pidfile), false, 'pidfile removed by the first SIGINT');
    p.kill('SIGINT');
    const st = await p.waitForExit();
    assert.deepEqual(st, { code: 2, signal: null });
    assert.ok(Date.now() - t0 < 10000, 'did not wait for the lameduck');
    assert.deepEqual(
      p.stdout().filter((l) => l.includes('SIGINT')),
      ['[INFO] SIGINT: Shutting down', '[INFO] SIGINT: Force quit'],
    );
  });

  it('SIGHUP is ignored: the process keeps serving', async () => {
    const { p, port } = await start((port) => `.:${port} {\n    whoami\n}\n`);
    const mark = p.mark();
    p.kill('SIGHUP');
    // SIGHUP would kill a process without a handler at once; keep querying for a while
    const until = Date.now() + 400;
    while (Date.now() < until) {
      const r = await queryUdp(HOST, port, makeQuery('hup.example.', 'A'));
      assertWhoami(r.msg, { qname: 'hup.example.', proto: 'udp', port: r.localPort });
      assert.ok(!p.exited);
    }
    assert.deepEqual(p.stdout().slice(mark), [], 'nothing logged');
    assert.equal(p.stderrText(), '');
  });
});
