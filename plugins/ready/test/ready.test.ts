import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Controller, Handler, Instance, PluginDefinition, Readiness } from '@tsdns/core';
import { captureLogs, freePort, httpGet as get, httpRefused as refused, parseEach, reloadInput, serveCorefile, serveError, stopInstance as stop } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import ready, { DEFAULT_ADDR, parseReady, readyListener } from '../src/index.js';

/** A handler with a readiness switch (like CoreDNS's erratic). */
class Switch implements Handler, Readiness {
  readonly name: string;
  next: Handler | undefined;
  on = false;
  constructor(name: string, next: Handler | undefined) {
    this.name = name;
    this.next = next;
  }
  ready(): boolean {
    return this.on;
  }
  ServeDNS(): number {
    return 2;
  }
}

/** A directive adding a Switch; `made` collects the instances. */
function switchPlugin(name: string, made: Switch[]): PluginDefinition {
  return {
    name,
    setup(c: Controller): void {
      c.next();
      c.addPlugin((next) => {
        const s = new Switch(name, next);
        made.push(s);
        return s;
      });
    },
  };
}

const setupError = (corefile: string): Promise<string> => serveError(corefile, { plugins: [ready, whoami] });

test('setup errors as CoreDNS', async () => {
  assert.match(await setupError('. {\n  ready bla\n}'), /^(Corefile:2 - )?plugin\/ready: address bla: missing port in address$/);
  assert.equal(await setupError('. {\n  ready bla bla\n}'), "plugin/ready: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'bla'");
  assert.equal(await setupError('. {\n  ready localhost:1234 b\n}'), "plugin/ready: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'b'");
  assert.equal(await setupError('. {\n  ready localhost:1234 {\n    monitor 404\n  }\n}'), "plugin/ready: Corefile:3 - Error during parsing: monitor type '404' not supported");
  assert.equal(await setupError('. {\n  ready {\n    monitro continuously\n  }\n}'), "plugin/ready: Corefile:3 - Error during parsing: unknown property 'monitro'");
  assert.equal(
    await setupError('. {\n  ready {\n    monitor\n  }\n}'),
    "plugin/ready: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'monitor'",
  );
  assert.match(await setupError('. {\n  ready :1\n  ready :2\n}'), /^(Corefile:3 - )?plugin\/ready: this plugin can only be used once per Server Block$/);
});

test('parse: defaults and monitor types', async () => {
  const got = await parseEach(
    'ready',
    parseReady,
    'a.example:0 {\n  ready\n}\nb.example:0 {\n  ready localhost:1234\n}\nc.example:0 {\n  ready {\n    monitor continuously\n  }\n}\nd.example:0 {\n  ready localhost:1234 {\n    monitor until-ready\n  }\n}\n',
  );
  assert.equal(DEFAULT_ADDR, ':8181');
  assert.deepEqual(got, [
    { addr: ':8181', monitor: 'until-ready' },
    { addr: 'localhost:1234', monitor: 'until-ready' },
    { addr: ':8181', monitor: 'continuously' },
    { addr: 'localhost:1234', monitor: 'until-ready' },
  ]);
});

test('until-ready: 503 with the not-ready plugins, then 200 OK for good', async () => {
  const made: Switch[] = [];
  const addr = `127.0.0.1:${await freePort()}`;
  const s = await serveCorefile(`.:0 {\n  ready ${addr}\n  erratic\n  whoami\n}\n`, { plugins: [ready, switchPlugin('erratic', made), whoami] });
  const logs = captureLogs();
  try {
    const r1 = await get(addr, '/ready');
    assert.equal(r1.status, 503);
    assert.equal(r1.body, 'erratic');
    made[0]!.on = true;
    const r2 = await get(addr, '/ready');
    assert.equal(r2.status, 200);
    assert.equal(r2.body, 'OK');
    made[0]!.on = false; // not asked again
    assert.equal((await get(addr, '/ready')).status, 200);
    const nf = await get(addr, '/health');
    assert.equal(nf.status, 404);
  } finally {
    logs.restore();
    await s.close();
  }
  assert.deepEqual(logs.lines, ['[INFO] plugin/ready: Plugins not ready: "erratic"']);
  assert.ok(await refused(addr));
});

test('several blocks: the sorted union of their not-ready plugins; the last block\'s monitor applies to all', async () => {
  const made: Switch[] = [];
  const addr = `127.0.0.1:${await freePort()}`;
  const plugins = [ready, switchPlugin('zeta', made), switchPlugin('alpha', made), whoami];
  const s = await serveCorefile(
    `a.example:0 {\n  ready ${addr}\n  zeta\n}\nb.example:0 {\n  ready ${addr} {\n    monitor continuously\n  }\n  alpha\n}\nc.example:0 {\n  zeta\n}\n`,
    { plugins },
  );
  const logs = captureLogs();
  try {
    const zetas = made.filter((m) => m.name === 'zeta');
    assert.equal(zetas.length, 2, 'the block without ready has its own zeta');
    const zetaA = zetas[0]!;
    const alphaB = made.find((m) => m.name === 'alpha')!;
    const r1 = await get(addr, '/ready');
    assert.equal(r1.status, 503);
    assert.equal(r1.body, 'alpha,zeta');
    zetaA.on = true;
    assert.equal((await get(addr, '/ready')).body, 'alpha');
    alphaB.on = true;
    assert.equal((await get(addr, '/ready')).status, 200, "zeta of the block without ready doesn't count");
    zetaA.on = false; // block a said nothing about monitoring, but the last block's `continuously` is process-wide
    assert.equal((await get(addr, '/ready')).body, 'zeta');
  } finally {
    logs.restore();
    await s.close();
  }
  assert.deepEqual(logs.lines, [
    '[INFO] plugin/ready: Plugins not ready: "alpha,zeta"',
    '[INFO] plugin/ready: Plugins not ready: "alpha"',
    '[INFO] plugin/ready: Plugins not ready: "zeta"',
  ]);
});

test('monitor continuously: a plugin can become not ready again', async () => {
  const made: Switch[] = [];
  const addr = `127.0.0.1:${await freePort()}`;
  const s = await serveCorefile(`.:0 {\n  ready ${addr} {\n    monitor continuously\n  }\n  erratic\n}\n`, { plugins: [ready, switchPlugin('erratic', made)] });
  const logs = captureLogs();
  try {
    made[0]!.on = true;
    assert.equal((await get(addr, '/ready')).status, 200);
    made[0]!.on = false;
    const r = await get(addr, '/ready');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'erratic');
  } finally {
    logs.restore();
    await s.close();
  }
});

test('no plugin with readiness: always 200 OK', async () => {
  const addr = `127.0.0.1:${await freePort()}`;
  const s = await serveCorefile(`.:0 {\n  ready ${addr}\n  whoami\n}\n`, { plugins: [ready, whoami] });
  try {
    const r = await get(addr, '/ready', 'POST');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK');
  } finally {
    await s.close();
  }
});

test('once shutdown began a request still in progress gets 503 "Shutting down"', async () => {
  const addr = `127.0.0.1:${await freePort()}`;
  const s = await serveCorefile(`.:0 {\n  ready ${addr}\n  whoami\n}\n`, { plugins: [ready, whoami] });
  const port = Number(addr.split(':')[1]);
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let data = '';
  sock.on('data', (d: Buffer) => (data += d.toString()));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.write('GET /ready HTTP/1.1\r\nHost: x\r\n'); // request started, not finished
  await new Promise((r) => setTimeout(r, 50));
  const shutdown = s.close(); // final shutdown: the listener stops
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(await refused(addr), 'no new connections');
  sock.write('\r\n');
  await closed;
  await shutdown;
  assert.match(data, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.ok(data.endsWith('\r\n\r\nShutting down'), JSON.stringify(data));
  assert.match(data, /\r\nContent-Length: 13\r\n/);
});

test('reload: one listener per address; the new configuration\'s plugins are asked; a failed reload restores the old', async () => {
  const made: Switch[] = [];
  const addr = `127.0.0.1:${await freePort()}`;
  const plugins = [ready, switchPlugin('erratic', made), switchPlugin('other', made), whoami];
  const s = await serveCorefile(`.:0 {\n  ready ${addr}\n  erratic\n}\n`, { plugins });
  let inst: Instance = s.instance;
  const logs = captureLogs();
  try {
    assert.equal((await get(addr, '/ready')).body, 'erratic');
    const l1 = readyListener(addr)!;
    inst = await inst.restart(reloadInput(`.:0 {\n  ready ${addr}\n  other\n}\n`, plugins));
    const l2 = readyListener(addr)!;
    assert.ok(l2 && l2 !== l1 && !l1.server.listening);
    assert.equal((await get(addr, '/ready')).body, 'other', 'the old erratic is not asked any more');

    await assert.rejects(inst.restart(reloadInput(`.:0 {\n  ready ${addr} {\n    monitor sometimes\n  }\n  erratic\n}\n`, plugins)), /monitor type 'sometimes' not supported/);
    assert.ok(readyListener(addr)!.server.listening);
    assert.equal((await get(addr, '/ready')).body, 'other');
    made.find((m) => m.name === 'other')!.on = true;
    assert.equal((await get(addr, '/ready')).status, 200);
  } finally {
    logs.restore();
    await stop(inst);
  }
  assert.ok(await refused(addr));
});
