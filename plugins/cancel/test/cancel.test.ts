import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context, RCODE, newReply, type Controller, type Handler, type Msg, type PluginDefinition } from '@tsdns/core';
import { makeQuery, parseEach, serveCorefile, serveError, TestWriter } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import cancel, { Cancel, DEFAULT_TIMEOUT_MS, Deadline, parseCancel, withDeadline } from '../src/index.js';

const setupError = (corefile: string): Promise<string> => serveError(corefile, { plugins: [cancel, whoami] });

test('setup: default 5001ms, Go durations, CoreDNS errors', async () => {
  const got = await parseEach('cancel', parseCancel, 'a.example:0 {\n  cancel\n}\nb.example:0 {\n  cancel 5s\n}\nc.example:0 {\n  cancel 1m30.5s\n}\nd.example:0 {\n  cancel 250ms\n  cancel\n}\n');
  assert.equal(DEFAULT_TIMEOUT_MS, 5001);
  assert.deepEqual(got, [5001, 5000, 90500, 5001]);

  assert.match(await setupError('. {\n  cancel 5\n}'), /^(Corefile:2 - )?plugin\/cancel: invalid duration: "5"$/);
  assert.match(await setupError('. {\n  cancel 1d\n}'), /^(Corefile:2 - )?plugin\/cancel: invalid duration: "1d"$/);
  assert.match(await setupError('. {\n  cancel -1s\n}'), /^(Corefile:2 - )?plugin\/cancel: invalid negative duration: "-1s"$/);
  assert.match(await setupError('. {\n  cancel 0\n}'), /^(Corefile:2 - )?plugin\/cancel: invalid negative duration: "0"$/);
  assert.equal(await setupError('. {\n  cancel 1s 2s\n}'), "plugin/cancel: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after '2s'");
});

/** A plugin that waits for ctx.signal (like forward waiting on an upstream) and records what it saw. */
function waiter(seen: { aborted?: boolean; reason?: unknown; waitedMs?: number }): PluginDefinition {
  return {
    name: 'slow',
    setup(c: Controller): void {
      c.next();
      c.addPlugin(() => ({
        name: 'slow',
        async ServeDNS(ctx: Context): Promise<number> {
          const t0 = performance.now();
          const signal = ctx.signal;
          await new Promise<void>((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
            setTimeout(resolve, 3000).unref();
          });
          seen.aborted = signal.aborted;
          seen.reason = signal.reason;
          seen.waitedMs = performance.now() - t0;
          return RCODE.SERVFAIL;
        },
      }));
    },
  };
}

test('cancel 100ms aborts a slow plugin\'s signal with "context deadline exceeded" (real UDP query)', async () => {
  const seen: { aborted?: boolean; reason?: unknown; waitedMs?: number } = {};
  const s = await serveCorefile('.:0 {\n  cancel 100ms\n  slow\n}\n', { plugins: [cancel, waiter(seen)] });
  try {
    const t0 = performance.now();
    const r = await s.query('example.org.', 'A');
    const elapsed = performance.now() - t0;
    assert.equal(r.rcode, RCODE.SERVFAIL);
    assert.equal(seen.aborted, true);
    assert.ok(seen.reason instanceof DOMException);
    assert.equal((seen.reason as DOMException).name, 'TimeoutError');
    assert.equal((seen.reason as DOMException).message, 'context deadline exceeded');
    assert.ok(seen.waitedMs! >= 95 && seen.waitedMs! < 1500, `waited ${seen.waitedMs}`);
    assert.ok(elapsed >= 95 && elapsed < 2000, `elapsed ${elapsed}`);
  } finally {
    await s.close();
  }
});

test('the deadline is the configured one: cancel 600ms lets the plugin wait 600ms', async () => {
  const seen: { aborted?: boolean; waitedMs?: number } = {};
  const s = await serveCorefile('.:0 {\n  cancel 600ms\n  slow\n}\n', { plugins: [cancel, waiter(seen)] });
  try {
    const r = await s.query('example.org.', 'A', { timeoutMs: 4000 });
    assert.equal(r.rcode, RCODE.SERVFAIL);
    assert.equal(seen.aborted, true);
    assert.ok(seen.waitedMs! >= 590 && seen.waitedMs! < 2500, `waited ${seen.waitedMs}`);
  } finally {
    await s.close();
  }
});

function q(): Msg {
  return makeQuery('example.org.', 'A');
}

test('the signal is aborted with "context canceled" once the chain returned; no timer is left', async () => {
  let signal: AbortSignal | undefined;
  const next: Handler = {
    name: 'whoami',
    ServeDNS(ctx, w, r): number {
      signal = ctx.signal;
      assert.equal(signal.aborted, false);
      w.writeMsg(newReply(r));
      return RCODE.NOERROR;
    },
  };
  const h = new Cancel(5001);
  h.next = next;
  const res = h.ServeDNS(Context.background(), new TestWriter(), q());
  assert.equal(typeof res, 'number', 'a synchronous chain stays synchronous');
  assert.equal(res, 0);
  assert.ok(signal);
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as DOMException).name, 'AbortError');
  assert.equal((signal.reason as DOMException).message, 'context canceled');

  const d = new Deadline(Context.background(), 5001);
  assert.equal(d.used, false);
  const sg = d.signal();
  assert.equal(d.used, true);
  assert.equal(d.timerPending, true);
  d.finish();
  assert.equal(d.timerPending, false);
  assert.equal(sg.aborted, true);
  // a deadline nobody looked at never armed a timer
  const lazy = new Deadline(Context.background(), 5001);
  lazy.finish();
  assert.equal(lazy.used, false);
  assert.equal(lazy.timerPending, false);
  assert.equal(lazy.signal().aborted, true, 'asked after the chain returned: already canceled');
});

test('asynchronous chains: canceled after the promise settles, also on errors', async () => {
  let signal: AbortSignal | undefined;
  const h = new Cancel(5001);
  h.next = {
    name: 'later',
    async ServeDNS(ctx): Promise<number> {
      signal = ctx.signal;
      await sleep(5);
      assert.equal(signal.aborted, false);
      throw new Error('boom');
    },
  };
  const res = h.ServeDNS(Context.background(), new TestWriter(), q());
  assert.ok(res instanceof Promise);
  await assert.rejects(res, /boom/);
  assert.equal(signal!.aborted, true);
  assert.equal((signal!.reason as DOMException).message, 'context canceled');
});

test('the parent signal still aborts the narrowed one; the context keeps its other fields', async () => {
  const parentAc = new AbortController();
  const parent = Context.background().withSignal(parentAc.signal);
  parent.view = 'v1';
  parent.set('k', 42);
  const d = new Deadline(parent, 60_000);
  const ctx = withDeadline(parent, d);
  assert.ok(ctx instanceof Context);
  assert.equal(ctx.server, 'dns://:53');
  assert.equal(ctx.zone, '.');
  assert.equal(ctx.view, 'v1');
  assert.equal(ctx.get('k'), 42);
  const sg = ctx.signal;
  assert.notEqual(sg, parentAc.signal);
  parentAc.abort(new Error('shutting down'));
  assert.equal(sg.aborted, true);
  assert.equal((sg.reason as Error).message, 'shutting down');
  assert.equal(d.timerPending, false);
  // a later plugin may narrow again
  const other = new AbortController().signal;
  ctx.signal = other;
  assert.equal(ctx.signal, other);
  const again = ctx.withSignal(AbortSignal.abort());
  assert.equal(again.signal.aborted, true);
  assert.equal(again.view, 'v1');
});

test('nested cancel: the shorter deadline wins', async () => {
  let signal: AbortSignal | undefined;
  const inner = new Cancel(30);
  const outer = new Cancel(5001);
  outer.next = inner;
  inner.next = {
    name: 'wait',
    async ServeDNS(ctx): Promise<number> {
      signal = ctx.signal;
      await new Promise((resolve) => signal!.addEventListener('abort', resolve, { once: true }));
      return RCODE.SERVFAIL;
    },
  };
  const t0 = performance.now();
  assert.equal(await outer.ServeDNS(Context.background(), new TestWriter(), q()), RCODE.SERVFAIL);
  assert.ok(performance.now() - t0 < 1000);
  assert.equal((signal!.reason as DOMException).name, 'TimeoutError');
});

test('cancel with no next plugin: SERVFAIL "no next plugin found"', async () => {
  const h = new Cancel(100);
  assert.throws(() => h.ServeDNS(Context.background(), new TestWriter(), q()), { message: 'plugin/cancel: no next plugin found' });
});

test('abortSource: waiting on the query makes no AbortController; watchers hear the deadline, the parent and the end of the chain', async () => {
  const heard = (): { reasons: unknown[]; w: { onAbort(s: { reason: unknown }): void } } => {
    const reasons: unknown[] = [];
    return { reasons, w: { onAbort: (s) => reasons.push(s.reason) } };
  };

  // the deadline passes
  const d1 = new Deadline(Context.background(), 20);
  const src1 = withDeadline(Context.background(), d1).abortSource();
  assert.equal(src1, d1);
  const a = heard();
  src1.watch(a.w);
  assert.equal(d1.used, false, 'no signal made');
  assert.equal(d1.timerPending, true);
  await sleep(60);
  assert.equal(src1.aborted, true);
  assert.equal((a.reasons[0] as DOMException).name, 'TimeoutError');
  assert.equal(d1.timerPending, false);
  assert.equal(d1.used, false);
  // a signal asked for afterwards is already aborted, for the same reason
  assert.equal((d1.signal().reason as DOMException).name, 'TimeoutError');

  // the parent aborts; a watcher that left hears nothing
  const parentAc = new AbortController();
  const d2 = new Deadline(Context.background().withSignal(parentAc.signal), 60_000);
  const src2 = withDeadline(Context.background().withSignal(parentAc.signal), d2).abortSource();
  const b = heard();
  const gone = heard();
  src2.watch(b.w);
  src2.watch(gone.w);
  src2.unwatch(gone.w);
  parentAc.abort(new Error('shutting down'));
  assert.deepEqual(
    b.reasons.map((r) => (r as Error).message),
    ['shutting down'],
  );
  assert.deepEqual(gone.reasons, []);
  assert.equal(d2.timerPending, false);

  // the chain returns while something still waits: it is told the query was canceled
  const h = new Cancel(5001);
  const c = heard();
  let deadline: Deadline | undefined;
  h.next = {
    name: 'waits',
    ServeDNS(ctx): number {
      const s = ctx.abortSource();
      deadline = s as Deadline;
      s.watch(c.w);
      return 0;
    },
  };
  assert.equal(h.ServeDNS(Context.background(), new TestWriter(), q()), 0);
  assert.deepEqual(
    c.reasons.map((r) => (r as DOMException).message),
    ['context canceled'],
  );
  assert.equal(deadline!.timerPending, false);
  assert.equal(deadline!.used, false);

  // a plugin that narrowed ctx.signal itself is waited on through its signal
  const d3 = new Deadline(Context.background(), 60_000);
  const ctx3 = withDeadline(Context.background(), d3);
  const own = new AbortController();
  ctx3.signal = own.signal;
  const e = heard();
  ctx3.abortSource().watch(e.w);
  own.abort(new Error('own'));
  assert.deepEqual(
    e.reasons.map((r) => (r as Error).message),
    ['own'],
  );
  d3.finish();
});
