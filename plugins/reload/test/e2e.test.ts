/**
 * End to end: the real `tsdns` with `reload 2s 1s` (the shortest allowed)
 * under a continuous load of UDP and TCP queries while its Corefile changes
 * ten times, some changes invalid. No query may go unanswered or fail, the
 * answers must follow the valid changes, and the invalid ones must leave the
 * old configuration serving and be logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RR } from '@tsdns/core';
import { DnsTcpClient, freePort, httpGet, makeQuery, queryTcp, queryUdp, spawnTsdns, type DnsReply } from '@tsdns/testing';
import { hashCorefile } from '../src/index.js';

interface Step {
  what: string;
  text: string;
  kind: 'ok' | 'parse' | 'fail';
  /** For failures: a part of the logged error. */
  error?: string;
  expect: Record<string, string>;
}

test('reload under load: 10 Corefile changes, no query lost, answers follow, bad changes keep the old config', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const mport = await freePort();
  const host = '127.0.0.1';

  const core = (a: string, opts: { top?: string; ttl?: string; inline?: string; extra?: string; inBlock?: string } = {}): string =>
    `${opts.top ?? ''}.:${port} {\n  reload 2s 1s\n  prometheus ${host}:${mport}\n  hosts HOSTS {\n    ${a} a.example.org\n${opts.inline ?? ''}${
      opts.ttl ? `    ttl ${opts.ttl}\n` : ''
    }    fallthrough\n  }\n${opts.inBlock ?? ''}  whoami\n}\n${opts.extra ?? ''}`;
  const net = `example.net:${port} {\n  hosts {\n    10.9.9.9 x.example.net\n  }\n}\n`;
  const com = `example.com:${port} {\n  hosts {\n    10.0.0.6 c.example.com\n  }\n}\n`;
  const whoami = 'whoami';

  const dir = mkdtempSync(join(tmpdir(), 'reload-e2e-'));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, '');
  const fill = (t: string): string => t.replaceAll('HOSTS', hostsFile);

  const v0 = fill(core('10.0.0.1'));
  const steps: Step[] = [
    { what: 'hosts entry changed', text: core('10.0.0.2'), kind: 'ok', expect: { 'a.example.org': '10.0.0.2', 'x.example.net': whoami } },
    { what: 'zone added', text: core('10.0.0.2', { extra: net }), kind: 'ok', expect: { 'a.example.org': '10.0.0.2', 'x.example.net': '10.9.9.9' } },
    { what: 'syntax error', text: `.:${port} {\n  reload 2s 1s\n  whoami\n`, kind: 'parse', error: "Unexpected token 'whoami', expecting '}'", expect: { 'x.example.net': '10.9.9.9' } },
    {
      what: 'unknown directive',
      text: core('10.0.0.3', { extra: net, inBlock: '  foobar\n' }),
      kind: 'fail',
      error: "Unknown directive 'foobar'",
      expect: { 'a.example.org': '10.0.0.2', 'x.example.net': '10.9.9.9' },
    },
    { what: 'zone removed, entry changed', text: core('10.0.0.4'), kind: 'ok', expect: { 'a.example.org': '10.0.0.4', 'x.example.net': whoami } },
    {
      what: 'duplicate zone',
      text: core('10.0.0.5', { extra: `.:${port} {\n  whoami\n}\n` }),
      kind: 'fail',
      error: 'it is already defined',
      expect: { 'a.example.org': '10.0.0.4' },
    },
    {
      what: 'comment line on top, inline entry added',
      text: core('10.0.0.4', { top: '# the test Corefile\n', inline: '    10.0.0.5 b.example.org\n' }),
      kind: 'ok',
      expect: { 'b.example.org': '10.0.0.5' },
    },
    {
      what: 'invalid option',
      text: core('10.0.0.7', { ttl: '0' }),
      kind: 'fail',
      error: 'ttl provided is invalid',
      expect: { 'a.example.org': '10.0.0.4', 'b.example.org': '10.0.0.5' },
    },
    { what: 'ttl changed', text: core('10.0.0.4', { ttl: '60' }), kind: 'ok', expect: { 'a.example.org': '10.0.0.4 ttl 60', 'b.example.org': whoami } },
    { what: 'another zone added', text: core('10.0.0.8', { ttl: '60', extra: com }), kind: 'ok', expect: { 'a.example.org': '10.0.0.8 ttl 60', 'c.example.com': '10.0.0.6' } },
  ];

  const proc = await spawnTsdns(v0, { port, timeoutMs: 15_000 });
  const stats = { sent: 0, udp: 0, tcp: 0, failures: [] as string[] };
  let stop = false;
  try {
    assert.ok(!proc.exited, proc.stderrText());
    const expectedStart = `[INFO] plugin/reload: Running configuration SHA512 = ${hashCorefile(v0, proc.corefilePath)}`;
    await proc.waitForLine(expectedStart, { timeoutMs: 5000 });

    const describe = (r: DnsReply): string => {
      const m = r.msg;
      if ((m.flags & 0xf) !== 0) return `rcode ${m.flags & 0xf}`;
      const a = m.answers[0] as RR | undefined;
      if (!a) return m.additionals.length === 2 ? 'whoami' : 'empty';
      return a.ttl === 3600 || a.ttl === 0 ? String(a.data) : `${String(a.data)} ttl ${a.ttl}`;
    };
    const names = ['a.example.org', 'x.example.net', 'b.example.org', 'c.example.com'];
    const check = (r: DnsReply, via: string, name: string): void => {
      stats.sent++;
      if ((r.msg.flags & 0xf) !== 0) stats.failures.push(`${via} ${name}: rcode ${r.msg.flags & 0xf}`);
    };
    const udpLoop = async (i: number): Promise<void> => {
      for (let n = i; !stop; n++) {
        const name = names[n % names.length]!;
        try {
          check(await queryUdp(host, port, makeQuery(name, 'A'), { timeoutMs: 3000 }), 'udp', name);
          stats.udp++;
        } catch (e) {
          stats.failures.push(`udp ${name}: ${(e as Error).message}`);
        }
      }
    };
    const tcpLoop = async (i: number): Promise<void> => {
      for (let n = i; !stop; n++) {
        const name = names[n % names.length]!;
        try {
          check(await queryTcp(host, port, makeQuery(name, 'A'), { timeoutMs: 3000 }), 'tcp', name);
          stats.tcp++;
        } catch (e) {
          stats.failures.push(`tcp ${name}: ${(e as Error).message}`);
        }
      }
    };
    // one long-lived TCP connection across every reload
    const tcpConn = await DnsTcpClient.connect(host, port);
    const connLoop = async (): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const name = names[n % names.length]!;
        try {
          check(await tcpConn.query(makeQuery(name, 'A'), 3000), 'tcp-conn', name);
          stats.tcp++;
        } catch (e) {
          stats.failures.push(`tcp-conn ${name}: ${(e as Error).message}`);
          return;
        }
      }
    };
    const load = [...Array.from({ length: 6 }, (_, i) => udpLoop(i)), tcpLoop(0), tcpLoop(1), connLoop()];

    const answer = async (name: string): Promise<string> => describe(await queryUdp(host, port, makeQuery(name, 'A')));
    let failedExpected = 0;
    for (const [i, step] of steps.entries()) {
      const text = fill(step.text);
      const mark = proc.mark();
      proc.writeCorefile(text);
      const where = `step ${i + 1} (${step.what})`;
      if (step.kind === 'ok') {
        await proc.waitForLine('[INFO] Reloading complete', { after: mark, timeoutMs: 6000 });
        await proc.waitForLine(`[INFO] plugin/reload: Running configuration SHA512 = ${hashCorefile(text, proc.corefilePath)}`, { after: mark, timeoutMs: 1000 });
      } else if (step.kind === 'parse') {
        const l = await proc.waitForLine('[WARNING] plugin/reload: Corefile parse failed: ', { after: mark, timeoutMs: 6000 });
        assert.ok(l.includes(step.error!), `${where}: ${l}`);
      } else {
        failedExpected++;
        const l = await proc.waitForLine('[ERROR] plugin/reload: Corefile changed but reload failed: ', { after: mark, timeoutMs: 6000 });
        assert.ok(l.includes(step.error!), `${where}: ${l}`);
      }
      for (const [name, want] of Object.entries(step.expect)) assert.equal(await answer(name), want, `${where}: ${name}`);
    }

    // every failed reload was counted; the last change's hash is the version
    const metrics = (await httpGet(`${host}:${mport}`, '/metrics')).body;
    assert.match(metrics, new RegExp(`^coredns_reload_failed_total ${failedExpected}$`, 'm'));
    const last = hashCorefile(fill(steps.at(-1)!.text), proc.corefilePath);
    assert.match(metrics, new RegExp(`^coredns_reload_version_info\\{hash="sha512",value="${last}"\\} 1$`, 'm'));

    stop = true;
    await Promise.all(load);
    tcpConn.close();
    assert.deepEqual(stats.failures, []);
    assert.ok(stats.udp > 500 && stats.tcp > 100, JSON.stringify(stats));
    t.diagnostic(`queries answered during the changes: ${stats.udp} over UDP, ${stats.tcp} over TCP`);

    // SIGTERM: polling stops with the process
    proc.kill('SIGTERM');
    const st = await proc.waitForExit(8000);
    assert.equal(st.code, 0, proc.stderrText());
  } finally {
    stop = true;
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
