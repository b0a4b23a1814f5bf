/**
 * A plugin that throws (a Go panic in CoreDNS, runtime.md §7): the server
 * answers SERVFAIL, counts coredns_panics_total, logs the recovery and keeps
 * serving. Runs in-process with serveCorefile so the metrics registry and
 * the log can be read directly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RCODE, nextOrFailure, registry, type Controller, type PluginDefinition } from '@tsdns/core';
import whoami from '@tsdns/plugin-whoami';
import { captureLogs, makeQuery, serveCorefile, type CapturedLogs, type TestServer } from '@tsdns/testing';
import { assertWhoami } from './helpers.js';

/** `boom`: throws for names starting with `boom`, rejects for `async-boom`, else passes on. */
const boom: PluginDefinition = {
  name: 'boom',
  setup(c: Controller): void {
    c.next();
    c.addPlugin((next) => ({
      name: 'boom',
      ServeDNS(ctx, w, r) {
        const name = r.questions[0]!.name.toLowerCase();
        if (name.startsWith('boom')) throw new Error('kaboom');
        if (name.startsWith('async-boom')) return Promise.reject(new TypeError('async kaboom'));
        if (name.startsWith('late-boom')) {
          return new Promise<number>((_, rej) => setTimeout(() => rej(new Error('late kaboom')), 5));
        }
        return nextOrFailure('boom', next, ctx, w, r);
      },
    }));
  },
};

async function panics(): Promise<number> {
  const m = registry.getSingleMetric('coredns_panics_total');
  assert.ok(m, 'coredns_panics_total registered');
  const v = await m.get();
  return v.values.reduce((s, x) => s + x.value, 0);
}

describe('a throwing plugin', () => {
  let srv: TestServer;
  let logs: CapturedLogs;

  before(async () => {
    logs = captureLogs();
    srv = await serveCorefile('.:0 {\n    boom\n    whoami\n}\n', { plugins: [boom, whoami], loopback: false });
  });
  after(async () => {
    await srv?.close();
    logs?.restore();
  });

  it('answers SERVFAIL, increments coredns_panics_total, logs, and keeps serving', async () => {
    const before = await panics();
    for (const [i, name] of ['boom.example.', 'async-boom.example.', 'late-boom.example.'].entries()) {
      for (const tcp of [false, true]) {
        const r = await srv.send(makeQuery(name, 'A', { id: 100 + i, edns: { udpPayloadSize: 2000 } }), { tcp });
        const m = r.msg;
        assert.equal(m.id, 100 + i);
        assert.equal(m.flags & 0xf, RCODE.SERVFAIL, `${name} tcp=${tcp}`);
        assert.deepEqual(m.questions, [{ name, type: 'A', class: 'IN' }]);
        assert.equal(m.answers.length, 0);
        const opt = m.additionals.find((x) => x.type === 'OPT');
        assert.ok(opt, 'the OPT is echoed on the SERVFAIL');
        // and the server still answers normally
        const ok = await srv.query('fine.example.', 'A', { tcp });
        assertWhoami(ok.msg, { qname: 'fine.example.', proto: tcp ? 'tcp' : 'udp', port: ok.localPort });
      }
    }
    assert.equal(await panics(), before + 6);
    const recovered = logs.lines.filter((l) => l.startsWith('[ERROR] Recovered from panic in server: '));
    assert.equal(recovered.length, 6, logs.lines.join('\n'));
    assert.equal(recovered[0], '[ERROR] Recovered from panic in server: "dns://:0" kaboom');
    assert.ok(recovered.includes('[ERROR] Recovered from panic in server: "dns://:0" async kaboom'));
  });
});
