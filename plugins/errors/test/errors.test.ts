import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context, pluginLogger, PluginError, setDebug, type Handler, type PluginDefinition } from '@tsdns/core';
import errorsPlugin, { compileGoRegexp, ErrorHandler, type ConsolidatePattern, type TimerApi } from '../src/index.js';
import { build, captureLog, FakeWriter, query } from './helpers.js';

const TIMEOUT = 'read udp 127.0.0.1:41372->127.0.0.1:53: i/o timeout';

function failing(err: unknown): Handler {
  return {
    name: 'fail',
    ServeDNS(): number {
      throw err;
    },
  };
}

function pattern(periodNs: bigint, expr: string, level: ConsolidatePattern['level'] = 'error', showFirst = false): ConsolidatePattern {
  return { periodNs, pattern: compileGoRegexp(expr), level, showFirst };
}

/** Timers fired by hand. */
class ManualTimers implements TimerApi {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private id = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    this.pending.set(++this.id, { fn, ms });
    return this.id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const all = [...this.pending.entries()];
    this.pending.clear();
    for (const [, t] of all) t.fn();
  }
}

function handler(patterns: ConsolidatePattern[], next: Handler, timers?: TimerApi): ErrorHandler {
  const h = new ErrorHandler(patterns, { logger: pluginLogger('errors'), ...(timers ? { timers } : {}) });
  h.next = next;
  return h;
}

function serve(h: Handler, name = 'example.org.', type = 'A'): unknown {
  try {
    return h.ServeDNS(Context.background(), new FakeWriter(), query(name, type));
  } catch (e) {
    return e;
  }
}

test('no error: nothing is logged and the rcode passes through', async () => {
  const h = handler([], { name: 'ok', ServeDNS: () => 3 });
  const { lines, result } = await captureLog(() => h.ServeDNS(Context.background(), new FakeWriter(), query('example.org.')));
  assert.equal(result, 3);
  assert.deepEqual(lines, []);
});

test('a returned error is logged as <rcode> <qname> <qtype>: <error> and rethrown', async () => {
  const e = new PluginError(2, TIMEOUT);
  const h = handler([], failing(e));
  const { lines, result } = await captureLog(() => serve(h, 'Example.ORG.', 'AAAA'));
  assert.equal(result, e);
  assert.deepEqual(lines, [`[ERROR] plugin/errors: 2 example.org. AAAA: ${TIMEOUT}`]);
  const { lines: l2 } = await captureLog(() => serve(handler([], failing(new PluginError(5, 'plugin/acl: nope'))), 'x.', 'TYPE65280'));
  assert.deepEqual(l2, ['[ERROR] plugin/errors: 5 x. TYPE65280: plugin/acl: nope']);
});

test('no next plugin: the no-next error is logged', async () => {
  const h = new ErrorHandler([], { logger: pluginLogger('errors') });
  const { lines, result } = await captureLog(() => serve(h));
  assert.ok(result instanceof PluginError);
  assert.deepEqual(lines, ['[ERROR] plugin/errors: 2 example.org. A: plugin/errors: no next plugin found']);
});

test('asynchronous errors are logged too; synchronous results stay synchronous', async () => {
  const h = handler([], { name: 'async', ServeDNS: () => Promise.reject(new PluginError(2, 'late')) });
  const { lines } = await captureLog(async () => {
    const p = h.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
    assert.ok(p instanceof Promise);
    await assert.rejects(p, /late/);
  });
  assert.deepEqual(lines, ['[ERROR] plugin/errors: 2 example.org. A: late']);
  const sync = handler([], { name: 'ok', ServeDNS: () => 0 });
  assert.equal(sync.ServeDNS(Context.background(), new FakeWriter(), query('example.org.')), 0);
});

test('a panic is not logged and not recovered', async () => {
  const boom = new RangeError('boom');
  const { lines, result } = await captureLog(() => serve(handler([], failing(boom))));
  assert.equal(result, boom);
  assert.deepEqual(lines, []);
});

test('consolidation: errors are counted and summarised when the period ends', async () => {
  const timers = new ManualTimers();
  const h = handler([pattern(300_000_000_000n, 'i/o timeout$', 'warning')], failing(new PluginError(2, TIMEOUT)), timers);
  const { lines } = await captureLog(() => {
    for (let i = 0; i < 3; i++) serve(h);
    assert.equal(timers.pending.size, 1);
    assert.equal([...timers.pending.values()][0]!.ms, 300_000);
    timers.fireAll();
    // a new period starts with the next error
    serve(h);
    timers.fireAll();
  });
  assert.deepEqual(lines, [
    "[WARNING] plugin/errors: 3 errors like 'i/o timeout$' occurred in last 5m0s",
    "[WARNING] plugin/errors: 1 errors like 'i/o timeout$' occurred in last 5m0s",
  ]);
});

test('consolidation with real timers', async () => {
  const h = handler([pattern(60_000_000n, '^read udp .* i/o timeout$')], failing(new PluginError(2, TIMEOUT)));
  const { lines } = await captureLog(async () => {
    serve(h);
    serve(h);
    await new Promise((r) => setTimeout(r, 150));
  });
  assert.deepEqual(lines, ["[ERROR] plugin/errors: 2 errors like '^read udp .* i/o timeout$' occurred in last 60ms"]);
});

test('show_first: the first error is logged at the level, the summary only for more than one', async () => {
  const timers = new ManualTimers();
  const h = handler([pattern(30_000_000_000n, 'timeout', 'warning', true)], failing(new PluginError(2, TIMEOUT)), timers);
  const { lines } = await captureLog(() => {
    serve(h);
    serve(h);
    serve(h);
    timers.fireAll();
    serve(h); // alone in its period: no summary
    timers.fireAll();
  });
  assert.deepEqual(lines, [
    `[WARNING] plugin/errors: 2 example.org. A: ${TIMEOUT}`,
    "[WARNING] plugin/errors: 3 errors like 'timeout' occurred in last 30s",
    `[WARNING] plugin/errors: 2 example.org. A: ${TIMEOUT}`,
  ]);
});

test('the first matching pattern takes the error; others are logged as usual', async () => {
  const timers = new ManualTimers();
  let text = TIMEOUT;
  const next: Handler = {
    name: 'fail',
    ServeDNS(): number {
      throw new PluginError(2, text);
    },
  };
  const h = handler([pattern(1_000_000_000n, 'timeout', 'info'), pattern(2_000_000_000n, '.*', 'warning')], next, timers);
  const { lines } = await captureLog(() => {
    serve(h);
    text = 'connection refused';
    serve(h);
    serve(h);
    timers.fireAll();
  });
  assert.deepEqual(lines, [
    "[INFO] plugin/errors: 1 errors like 'timeout' occurred in last 1s",
    "[WARNING] plugin/errors: 2 errors like '.*' occurred in last 2s",
  ]);
  const noMatch = handler([pattern(1_000_000_000n, '^Failed to .+')], failing(new PluginError(3, TIMEOUT)), timers);
  const { lines: l2 } = await captureLog(() => serve(noMatch));
  assert.deepEqual(l2, [`[ERROR] plugin/errors: 3 example.org. A: ${TIMEOUT}`]);
});

test('debug level is printed only when debug is on', async () => {
  const timers = new ManualTimers();
  const h = handler([pattern(1_000_000_000n, 'x', 'debug')], failing(new PluginError(2, 'x')), timers);
  const { lines } = await captureLog(() => {
    serve(h);
    timers.fireAll();
    setDebug(true);
    try {
      serve(h);
      timers.fireAll();
    } finally {
      setDebug(false);
    }
  });
  assert.deepEqual(lines, ["[DEBUG] plugin/errors: 1 errors like 'x' occurred in last 1s"]);
});

test('stop flushes pending summaries; later errors are printed directly at the level', async () => {
  const timers = new ManualTimers();
  const h = handler(
    [pattern(60_000_000_000n, 'timeout', 'warning'), pattern(60_000_000_000n, 'refused', 'info', true)],
    failing(new PluginError(2, TIMEOUT)),
    timers,
  );
  const { lines } = await captureLog(() => {
    serve(h);
    serve(h);
    h.stop();
    assert.equal(timers.pending.size, 0);
    serve(h);
    h.stop(); // nothing pending any more
  });
  assert.deepEqual(lines, [
    "[WARNING] plugin/errors: 2 errors like 'timeout' occurred in last 1m0s",
    `[WARNING] plugin/errors: 2 example.org. A: ${TIMEOUT}`,
  ]);
});

test('the shutdown hook flushes the summaries', async () => {
  const fail: PluginDefinition = {
    name: 'fail',
    setup(c): void {
      c.next();
      c.addPlugin(() => failing(new PluginError(2, TIMEOUT)));
    },
  };
  const inst = await build('. {\n errors {\n  consolidate 1h timeout$\n }\n fail\n}\n', [errorsPlugin, fail]);
  const chain = inst.configs[0]!.chain!;
  const { lines } = await captureLog(async () => {
    for (let i = 0; i < 4; i++) serve(chain);
    await inst.lifecycle.run('shutdown');
  });
  assert.deepEqual(lines, ["[ERROR] plugin/errors: 4 errors like 'timeout$' occurred in last 1h0m0s"]);
});

test('consolidation matches with Go regexp semantics', async () => {
  const timers = new ManualTimers();
  let text = '';
  const next: Handler = {
    name: 'fail',
    ServeDNS(): number {
      throw new PluginError(2, text);
    },
  };
  // (?i) and \z are Go syntax; . does not match \n but does match \r
  const h = handler([pattern(1_000_000_000n, '(?i)^read.\\z')], next, timers);
  const { lines } = await captureLog(() => {
    for (text of ['READ\r', 'Read\n', 'read!']) serve(h);
    timers.fireAll();
  });
  assert.deepEqual(lines, [
    `[ERROR] plugin/errors: 2 example.org. A: Read`,
    "[ERROR] plugin/errors: 2 errors like '(?i)^read.\\z' occurred in last 1s",
  ]);
});
