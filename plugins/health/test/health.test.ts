import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { Instance, Logger } from '@tsdns/core';
import { captureLogs, freePort, httpGet as get, httpRefused as refused, parseEach, reloadInput, serveCorefile, serveError, stopInstance as stop } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import health, { DEFAULT_ADDR, Prober, healthDuration, healthFailures, healthListener, parseHealth } from '../src/index.js';

const plugins = [health, whoami];

const setupError = (corefile: string): Promise<string> => serveError(corefile, { plugins });

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`[INFO] plugin/health: ${m}`),
    notice: (m) => lines.push(`[INFO] plugin/health: ${m}`),
    warning: (m) => lines.push(`[WARNING] plugin/health: ${m}`),
    error: (m) => lines.push(`[ERROR] plugin/health: ${m}`),
    debug: () => undefined,
    fatal: (m): never => {
      throw new Error(m);
    },
  };
}

test('setup errors as CoreDNS', async () => {
  assert.match(await setupError('. {\n  health bla\n}'), /^(Corefile:2 - )?plugin\/health: address bla: missing port in address$/);
  assert.equal(await setupError('. {\n  health bla bla\n}'), "plugin/health: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'bla'");
  assert.match(
    await setupError('. {\n  health localhost:1234 {\n    lameduck a\n  }\n}'),
    /^(Corefile:3 - )?plugin\/health: unable to parse lameduck duration value: 'a' : time: invalid duration "a"$/,
  );
  assert.match(
    await setupError('. {\n  health localhost:1234 {\n    lameduck 4\n  }\n}'),
    /^(Corefile:3 - )?plugin\/health: unable to parse lameduck duration value: '4' : time: missing unit in duration "4"$/,
  );
  assert.equal(await setupError('. {\n  health localhost:1234 {\n    lamedudk 4\n  }\n}'), "plugin/health: Corefile:3 - Error during parsing: unknown property 'lamedudk'");
  assert.equal(
    await setupError('. {\n  health localhost:1234 {\n    lameduck\n  }\n}'),
    "plugin/health: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'lameduck'",
  );
});

test('parse: default :8080, not "once": each line overrides what it sets', async () => {
  const got = await parseEach(
    'health',
    parseHealth,
    'a.example:0 {\n  health\n}\nb.example:0 {\n  health localhost:1234 {\n    lameduck 4s\n  }\n}\nc.example:0 {\n  health :1 {\n    lameduck 1.5s\n  }\n  health :2\n}\nd.example:0 {\n  health bla:a\n}\n',
  );
  assert.equal(DEFAULT_ADDR, ':8080');
  assert.deepEqual(got, [
    { addr: ':8080', lameduckMs: 0 },
    { addr: 'localhost:1234', lameduckMs: 4000 },
    { addr: ':2', lameduckMs: 1500 },
    { addr: 'bla:a', lameduckMs: 0 },
  ]);
});

test('/health answers 200 OK to any method; other paths 404; the last health line wins', async () => {
  const p1 = await freePort();
  const p2 = await freePort();
  const s = await serveCorefile(`.:0 {\n  health 127.0.0.1:${p1}\n  health 127.0.0.1:${p2}\n  whoami\n}\n`, { plugins });
  try {
    const h = `127.0.0.1:${p2}`;
    for (const method of ['GET', 'POST', 'PUT']) {
      const r = await get(h, '/health', method);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'OK');
    }
    const head = await get(h, '/health', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await get(h, '/health?verbose=1')).status, 200);
    const nf = await get(h, '/healthz');
    assert.equal(nf.status, 404);
    assert.equal(nf.body, '404 page not found\n');
    assert.equal((await get(h, '/')).status, 404);
    assert.ok(await refused(`127.0.0.1:${p1}`), 'the first line was overridden');
  } finally {
    await s.close();
  }
  assert.ok(await refused(`127.0.0.1:${p2}`));
});

test('self probe every second: coredns_health_request_duration_seconds is observed', async () => {
  const port = await freePort();
  const before = (await healthDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))!.value;
  const failures = (await healthFailures.get()).values[0]!.value;
  const s = await serveCorefile(`.:0 {\n  health 127.0.0.1:${port}\n  whoami\n}\n`, { plugins });
  try {
    assert.equal(healthListener(`127.0.0.1:${port}`)!.prober.url, `http://127.0.0.1:${port}/health`);
    // probes at ~1 s and ~2 s (polled, for slow machines)
    const t0 = performance.now();
    let snap = await healthDuration.get();
    let count = 0;
    for (;;) {
      snap = await healthDuration.get();
      count = snap.values.find((v) => v.metricName?.endsWith('_count'))!.value - before;
      if (count >= 2 || performance.now() - t0 > 8000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(count >= 2, `probes: ${count}`);
    assert.ok(performance.now() - t0 >= 1500, 'one probe per second, not faster');
    assert.equal(snap.name, 'coredns_health_request_duration_seconds');
    assert.equal(snap.help, 'Histogram of the time (in seconds) each request took.');
    assert.deepEqual(
      snap.values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => v.labels['le']),
      ['0.00025', '0.0025', '0.025', '0.25', '2.5', '+Inf'],
    );
    assert.equal((await healthFailures.get()).values[0]!.value, failures);
  } finally {
    await s.close();
  }
});

test('probe failures: counted, with CoreDNS\'s warning texts', async () => {
  const port = await freePort(); // nothing listens there
  const logger = recorder();
  const url = `http://127.0.0.1:${port}/health`;
  const failures = (await healthFailures.get()).values[0]!.value;
  const p = new Prober(url, '127.0.0.1', port, { logger });
  await p.probe();
  p.stop();
  assert.equal((await healthFailures.get()).values[0]!.value, failures + 1);
  assert.deepEqual(logger.lines, [
    `[WARNING] plugin/health: Local health request to "${url}" failed: Get "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  ]);

  // a server that accepts but never answers: the client timeout
  const accepted: net.Socket[] = [];
  const mute = net.createServer((sock) => accepted.push(sock));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  const mport = (mute.address() as net.AddressInfo).port;
  const murl = `http://127.0.0.1:${mport}/health`;
  const logger2 = recorder();
  const p2 = new Prober(murl, '127.0.0.1', mport, { logger: logger2, timeoutMs: 150 });
  await p2.probe();
  p2.stop();
  await new Promise<void>((r) => {
    mute.close(() => r());
    for (const c of accepted) c.destroy();
  });
  assert.equal((await healthFailures.get()).values[0]!.value, failures + 2);
  assert.deepEqual(logger2.lines, [
    `[WARNING] plugin/health: Local health request to "${murl}" failed: Get "${murl}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  ]);
});

test('a slow answer (> 1s) is a warning, not a failure', async () => {
  const slow = http.createServer((_req, res) => {
    setTimeout(() => res.end('OK'), 1100);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const port = (slow.address() as net.AddressInfo).port;
  const url = `http://127.0.0.1:${port}/health`;
  const logger = recorder();
  const failures = (await healthFailures.get()).values[0]!.value;
  const p = new Prober(url, '127.0.0.1', port, { logger });
  try {
    await p.probe();
  } finally {
    p.stop();
    slow.closeAllConnections();
    await new Promise<void>((r) => slow.close(() => r()));
  }
  assert.equal((await healthFailures.get()).values[0]!.value, failures);
  assert.equal(logger.lines.length, 1);
  assert.match(logger.lines[0]!, new RegExp(`^\\[WARNING\\] plugin/health: Local health request to "${url.replace(/[./]/g, '\\$&')}" took more than 1s: 1\\.\\d+s$`));
});

test('lameduck: on final shutdown health keeps answering and DNS keeps serving for DURATION', async () => {
  const port = await freePort();
  const h = `127.0.0.1:${port}`;
  const s = await serveCorefile(`.:0 {\n  health ${h} {\n    lameduck 400ms\n  }\n  whoami\n}\n`, { plugins });
  const logs = captureLogs();
  try {
    const t0 = performance.now();
    const done = s.instance.lifecycle.runAll('finalShutdown');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await get(h, '/health')).status, 200);
    assert.equal((await s.query('example.org.', 'A')).rcode, 0);
    assert.deepEqual(await done, []);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 390, `lameduck lasted ${elapsed} ms`);
    assert.ok(await refused(h), 'closed after the lameduck');
  } finally {
    logs.restore();
    await s.instance.stopListeners(0);
  }
  assert.ok(logs.lines.includes('[INFO] plugin/health: Going into lameduck mode for 400ms'), logs.lines.join('\n'));
});

test('reload: closed by the old instance, reopened by the new one; reopened by the old one when the reload fails', async () => {
  const port = await freePort();
  const h = `127.0.0.1:${port}`;
  const s = await serveCorefile(`.:0 {\n  health ${h}\n  whoami\n}\n`, { plugins });
  let inst: Instance = s.instance;
  try {
    const l1 = healthListener(h)!;
    inst = await inst.restart(reloadInput(`.:0 {\n  health ${h}\n  whoami\n}\n`, plugins));
    const l2 = healthListener(h)!;
    assert.ok(l2 && l2 !== l1);
    assert.equal(l1.server.listening, false);
    assert.equal((await get(h, '/health')).body, 'OK');

    await assert.rejects(inst.restart(reloadInput(`.:0 {\n  health ${h} {\n    bogus\n  }\n  whoami\n}\n`, plugins)), /unknown property 'bogus'/);
    const l3 = healthListener(h)!;
    assert.ok(l3 && l3 !== l2 && l3.server.listening);
    assert.equal((await get(h, '/health')).status, 200);

    // a reload that drops health closes the endpoint
    inst = await inst.restart(reloadInput(`.:0 {\n  whoami\n}\n`, plugins));
    assert.equal(healthListener(h), undefined);
    assert.ok(await refused(h));
  } finally {
    await stop(inst);
  }
});

test('a listen failure stops the start with Go\'s error', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    assert.match(await setupError(`.:0 {\n  health 127.0.0.1:${port}\n  whoami\n}\n`), new RegExp(`listen tcp 127\\.0\\.0\\.1:${port}: bind: address already in use$`));
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});
