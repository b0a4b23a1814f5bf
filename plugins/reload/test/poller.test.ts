import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Instance, setProcessReloader, type ProcessReloader, type RR } from '@tsdns/core';
import hosts from '@tsdns/plugin-hosts';
import whoami from '@tsdns/plugin-whoami';
import { captureLogs, corefileInput, makeQuery, queryUdp, type CapturedLogs } from '@tsdns/testing';
import reload, { currentPoller, hashCorefile, reloadFailed, reloadInfo, type Poller } from '../src/index.js';

const plugins = [reload, hosts, whoami];

/** A process reloader like the executable's, over a Corefile in a temp directory. */
class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'reload-poller-'));
  readonly file = join(this.dir, 'Corefile');
  inst!: Instance;
  readonly logs: CapturedLogs = captureLogs();
  running = { text: '', filename: '' };
  readonly reloader: ProcessReloader = {
    read: () => ({ text: readFileSync(this.file, 'utf8'), filename: this.file }),
    current: () => this.running,
    reload: async (src) => {
      const src2 = src ?? this.reloader.read();
      const previous = this.running;
      this.running = src2;
      try {
        this.inst = await this.inst.restart(async () => corefileInput(src2.text, { plugins, filename: src2.filename }));
      } catch (e) {
        this.running = previous;
        throw e;
      }
    },
  };

  async start(text: string, loaded = text): Promise<void> {
    writeFileSync(this.file, text);
    this.running = { text: loaded, filename: this.file };
    setProcessReloader(this.reloader);
    this.inst = await Instance.build(corefileInput(loaded, { plugins, filename: this.file }));
    await this.inst.start();
  }

  write(text: string): void {
    writeFileSync(this.file, text);
  }

  async a(name: string): Promise<string> {
    const u = this.inst.boundAddresses().find((b) => b.transport === 'udp')!;
    const m = (await queryUdp('127.0.0.1', u.port, makeQuery(name, 'A'))).msg;
    return m.answers.map((r) => String((r as RR).data)).join(',') || `rcode ${m.flags & 0xf}`;
  }

  poller(): Poller {
    const p = currentPoller();
    assert.ok(p, 'a poller runs');
    return p;
  }

  async close(): Promise<void> {
    this.logs.restore();
    await this.inst.stopListeners(0);
    await this.inst.lifecycle.runAll('shutdown');
    await this.inst.lifecycle.runAll('finalShutdown');
    setProcessReloader(undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const corefile = (ip: string, extra = ''): string => `. {\n  reload 2s 0s\n  hosts {\n    ${ip} a.example.org\n    fallthrough\n  }\n  whoami\n}\n${extra}`;

async function failedTotal(): Promise<number> {
  return (await reloadFailed.get()).values[0]?.value ?? 0;
}
async function versions(): Promise<string[]> {
  return (await reloadInfo.get()).values.filter((v) => v.value === 1).map((v) => `${String(v.labels.hash)}=${String(v.labels.value)}`);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('logs the running hash, reloads on a change, and the new instance polls on', async () => {
  h = new Harness();
  const v1 = corefile('10.0.0.1');
  await h.start(v1);
  const p1 = h.poller();
  assert.equal(p1.intervalMs, 2000);
  assert.equal(p1.sha, hashCorefile(v1, h.file));
  assert.ok(h.logs.lines.includes(`[INFO] plugin/reload: Running configuration SHA512 = ${p1.sha}`), h.logs.lines.join('\n'));
  assert.equal(await h.a('a.example.org'), '10.0.0.1');

  // nothing changed: nothing happens
  await p1.check();
  assert.equal(currentPoller(), p1);

  // white space only: same hash, no reload
  h.write(v1.replace('  whoami', '\twhoami   '));
  await p1.check();
  assert.equal(currentPoller(), p1);

  const v2 = corefile('10.0.0.2');
  h.write(v2);
  const mark = h.logs.lines.length;
  await p1.check();
  assert.equal(await h.a('a.example.org'), '10.0.0.2');
  const p2 = h.poller();
  assert.notEqual(p2, p1);
  assert.ok(p1.stopped);
  assert.equal(p2.sha, hashCorefile(v2, h.file));
  assert.deepEqual(h.logs.lines.slice(mark), ['[INFO] Reloading', `[INFO] plugin/reload: Running configuration SHA512 = ${p2.sha}`, '[INFO] Reloading complete']);
  assert.ok((await versions()).includes(`sha512=${p2.sha}`));
});

test('a parse failure warns; a failing reload logs, counts, keeps the old config and is not retried', async () => {
  h = new Harness();
  await h.start(corefile('10.0.0.1'));
  const p = h.poller();
  const failed0 = await failedTotal();

  h.write('. {\n  reload 2s 0s\n  whoami\n');
  let mark = h.logs.lines.length;
  await p.check();
  assert.deepEqual(h.logs.lines.slice(mark), [
    `[WARNING] plugin/reload: Corefile parse failed: ${h.file}:3 - Syntax error: Unexpected token 'whoami', expecting '}'`,
  ]);
  assert.equal(currentPoller(), p);

  const bad = corefile('10.0.0.3').replace('  whoami', '  no_such_plugin\n  whoami');
  h.write(bad);
  mark = h.logs.lines.length;
  await p.check();
  const lines = h.logs.lines.slice(mark);
  assert.equal(lines[0], '[INFO] Reloading');
  assert.ok(
    lines.includes(
      `[ERROR] plugin/reload: Corefile changed but reload failed: starting with listener file descriptors: ${h.file}:7 - Error during parsing: Unknown directive 'no_such_plugin'`,
    ),
    lines.join('\n'),
  );
  assert.equal(await failedTotal(), failed0 + 1);
  assert.equal(currentPoller(), p, 'the old poller keeps polling');
  assert.equal(await h.a('a.example.org'), '10.0.0.1', 'the old configuration serves');
  const badSha = hashCorefile(bad, h.file);
  assert.ok((await versions()).includes(`sha512=${badSha}`));

  // the same broken file is not tried again
  mark = h.logs.lines.length;
  await p.check();
  assert.deepEqual(h.logs.lines.slice(mark), []);

  // a duplicate zone fails at server creation
  h.write(corefile('10.0.0.4', '. {\n  whoami\n}\n'));
  await p.check();
  assert.equal(await failedTotal(), failed0 + 2);
  assert.ok(h.logs.lines.some((l) => l.startsWith('[ERROR] plugin/reload: Corefile changed but reload failed: ') && l.includes('it is already defined')));
  assert.ok(!(await versions()).includes(`sha512=${badSha}`), 'the previous hash is removed from version_info');

  // fixed: reloads
  h.write(corefile('10.0.0.5'));
  await p.check();
  assert.equal(await h.a('a.example.org'), '10.0.0.5');
  assert.equal(await failedTotal(), failed0 + 2);
});

test('a reload that removes `reload` stops polling; shutdown stops polling', async () => {
  h = new Harness();
  await h.start(corefile('10.0.0.1'));
  const p = h.poller();
  h.write('. {\n  hosts {\n    10.0.0.9 a.example.org\n  }\n}\n');
  await p.check();
  assert.equal(await h.a('a.example.org'), '10.0.0.9');
  assert.equal(currentPoller(), undefined);
  assert.ok(p.stopped);
  await h.close();

  h = new Harness();
  await h.start(corefile('10.0.0.1'));
  const p2 = h.poller();
  await h.inst.lifecycle.runAll('shutdown');
  assert.ok(p2.stopped);
  assert.equal(currentPoller(), undefined);
});

test('the last reload directive sets the interval (one poller per process)', async () => {
  h = new Harness();
  await h.start(`. {\n  reload 3s 0s\n  whoami\n}\nexample.org {\n  reload 4s 0s\n  whoami\n}\n`);
  assert.equal(h.poller().intervalMs, 4000);
  assert.equal(h.logs.lines.filter((l) => l.includes('Running configuration')).length, 1);
});

test('a Corefile changed between loading and start is reloaded at the first check', async () => {
  h = new Harness();
  await h.start(corefile('10.0.0.2'), corefile('10.0.0.1'));
  const p = h.poller();
  // the hash is the one of the Corefile the running configuration was built from
  assert.equal(p.sha, hashCorefile(corefile('10.0.0.1'), h.file));
  assert.ok(h.logs.lines.includes(`[INFO] plugin/reload: Running configuration SHA512 = ${p.sha}`));
  assert.equal(await h.a('a.example.org'), '10.0.0.1');
  await p.check();
  assert.equal(await h.a('a.example.org'), '10.0.0.2');
});

test('embedded (no process reloader): no poller', async () => {
  h = new Harness();
  writeFileSync(h.file, corefile('10.0.0.1'));
  setProcessReloader(undefined);
  h.inst = await Instance.build(corefileInput(corefile('10.0.0.1'), { plugins, filename: h.file }));
  await h.inst.start();
  await new Promise((r) => setImmediate(r));
  assert.equal(currentPoller(), undefined);
  assert.deepEqual(h.logs.lines, []);
});
