import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTHORITATIVE_ANSWER,
  Context,
  encodeMessage,
  messageLen,
  newRcodeReply,
  newReply,
  PluginError,
  setRcode,
  type Handler,
  type Msg,
  type ResponseWriter,
  type RR,
} from '@tsdns/core';
import { COMBINED_LOG_FORMAT, DEFAULT_LOG_FORMAT, Logger, ResponseClass, type LogRule, type LoggerOptions } from '../src/index.js';
import { captureLog, FakeWriter, query, steppingClock } from './helpers.js';

const a: RR = { name: 'example.org.', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.1' };
const soa: RR = {
  name: 'example.org.',
  type: 'SOA',
  class: 'IN',
  ttl: 300,
  data: { mname: 'ns.example.org.', rname: 'hostmaster.example.org.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
};

function rule(nameScope: string, format = DEFAULT_LOG_FORMAT, classes: ResponseClass[] = [ResponseClass.All]): LogRule {
  return { nameScope, format, classes: new Set(classes) };
}

/** A handler that answers with rcode and records, like a plugin that writes. */
function answering(rcode: number, build: (m: Msg) => void = () => {}): Handler & { seen: ResponseWriter[] } {
  const seen: ResponseWriter[] = [];
  return {
    name: 'answer',
    seen,
    ServeDNS(_ctx, w, r): number {
      seen.push(w);
      const m = newReply(r);
      m.flags |= AUTHORITATIVE_ANSWER;
      setRcode(m, rcode);
      build(m);
      w.writeMsg(m);
      return rcode;
    },
  };
}

function returning(rcode: number): Handler {
  return { name: 'ret', ServeDNS: () => rcode };
}

function collect(): { lines: string[]; opts: LoggerOptions } {
  const lines: string[] = [];
  return { lines, opts: { output: (l) => lines.push(l), clock: steppingClock(1000, 1000.123) } };
}

test('the default line, printed through the server log as [INFO]', async () => {
  const next = answering(0, (m) => m.answers.push(a));
  const logger = new Logger(next, [rule('.')], { clock: steppingClock(5000, 5000.123) });
  const { lines, result } = await captureLog(() => logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.')));
  assert.equal(result, 0);
  assert.deepEqual(lines, ['[INFO] 10.240.0.1:40212 - 29008 "A IN example.org. udp 29 false 512" NOERROR qr,aa,rd 56 0.000123s']);
});

test('a synchronous chain stays synchronous; an asynchronous one is awaited', async () => {
  const { lines, opts } = collect();
  const sync = new Logger(answering(0), [rule('.', '{rcode}')], opts);
  const rc = sync.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
  assert.equal(rc, 0);
  const asyncNext: Handler = {
    name: 'async',
    async ServeDNS(_ctx, w, r): Promise<number> {
      await new Promise((res) => setTimeout(res, 1));
      w.writeMsg(newRcodeReply(r, 3));
      return 3;
    },
  };
  const logger = new Logger(asyncNext, [rule('.', '{rcode}')], opts);
  const p = logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
  assert.ok(p instanceof Promise);
  assert.equal(await p, 3);
  assert.deepEqual(lines, ['NOERROR', 'NXDOMAIN']);
});

test('no next plugin: SERVFAIL is logged, the error is rethrown', () => {
  const { lines, opts } = collect();
  const logger = new Logger(undefined, [rule('.')], opts);
  assert.throws(
    () => logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.')),
    (e: unknown) => e instanceof PluginError && e.rcode === 2 && e.message === 'plugin/log: no next plugin found',
  );
  // the synthesized SetRcode reply: QR and RD, no AA; 29 bytes
  assert.deepEqual(lines, ['10.240.0.1:40212 - 29008 "A IN example.org. udp 29 false 512" SERVFAIL qr,rd 29 0.000123s']);
});

test('a plugin error from next is logged with its rcode and rethrown unchanged', async () => {
  const { lines, opts } = collect();
  const err = new PluginError(2, 'plugin/forward: no healthy upstream');
  const failing: Handler = {
    name: 'fail',
    ServeDNS(): number {
      throw err;
    },
  };
  const logger = new Logger(failing, [rule('.', '{rcode} {>rflags} {rsize} {/log/type} {/log/class}')], opts);
  const ctx = Context.background();
  assert.throws(() => logger.ServeDNS(ctx, new FakeWriter(), query('example.org.')), (e: unknown) => e === err);
  assert.deepEqual(lines, ['SERVFAIL qr,rd 29 SERVERERROR error']);

  const asyncFailing: Handler = {
    name: 'fail',
    ServeDNS(): Promise<number> {
      return Promise.reject(new PluginError(5, 'plugin/acl: refused'));
    },
  };
  const l2 = new Logger(asyncFailing, [rule('.', '{rcode}')], opts);
  await assert.rejects(Promise.resolve(l2.ServeDNS(ctx, new FakeWriter(), query('example.org.'))), /plugin\/acl: refused/);
  assert.deepEqual(lines, ['SERVFAIL qr,rd 29 SERVERERROR error', 'REFUSED']);
});

test('a panic (any other exception) unwinds without a log line', async () => {
  const { lines, opts } = collect();
  const boom = new TypeError('boom');
  const panicking: Handler = {
    name: 'panic',
    ServeDNS(): number {
      throw boom;
    },
  };
  const logger = new Logger(panicking, [rule('.')], opts);
  assert.throws(() => logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.')), (e: unknown) => e === boom);
  const asyncPanic: Handler = { name: 'panic', ServeDNS: () => Promise.reject(boom) };
  const l2 = new Logger(asyncPanic, [rule('.')], opts);
  await assert.rejects(Promise.resolve(l2.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'))), (e: unknown) => e === boom);
  assert.deepEqual(lines, []);
});

test('non-write rcodes without a reply are logged as the reply the server will write', () => {
  const { lines, opts } = collect();
  for (const rc of [1, 2, 4, 5]) {
    const logger = new Logger(returning(rc), [rule('.', '{rcode} {>rflags} {rsize} {/log/type}')], opts);
    assert.equal(logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.')), rc);
  }
  assert.deepEqual(lines, [
    'FORMERR qr,rd 29 OTHERERROR',
    'SERVFAIL qr,rd 29 SERVERERROR',
    'NOTIMP qr,rd 29 SERVERERROR',
    'REFUSED qr,rd 29 OTHERERROR',
  ]);
});

test('rcode 0 without a reply: rcode and flags are -, rsize 0, class error', () => {
  const { lines, opts } = collect();
  const logger = new Logger(returning(0), [rule('.', '{rcode} {>rflags} {rsize} {/log/type} {/log/class}')], opts);
  logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
  assert.deepEqual(lines, ['- - 0 OTHERERROR error']);
  const denial = new Logger(returning(0), [rule('.', '{rcode}', [ResponseClass.Denial])], opts);
  denial.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
  assert.deepEqual(lines, ['- - 0 OTHERERROR error']);
});

test('classes select what is logged', () => {
  const cases: [string, Handler, ResponseClass[], boolean][] = [
    ['success logs NOERROR', answering(0, (m) => m.answers.push(a)), [ResponseClass.Success], true],
    ['denial skips NOERROR', answering(0, (m) => m.answers.push(a)), [ResponseClass.Denial], false],
    ['denial logs NXDOMAIN', answering(3), [ResponseClass.Denial], true],
    ['error skips NXDOMAIN without SOA', answering(3), [ResponseClass.Error], false],
    ['denial logs NODATA', answering(0, (m) => m.authorities.push(soa)), [ResponseClass.Denial], true],
    ['success skips NODATA', answering(0, (m) => m.authorities.push(soa)), [ResponseClass.Success], false],
    ['error logs SERVFAIL', returning(2), [ResponseClass.Error], true],
    ['error logs REFUSED', returning(5), [ResponseClass.Error], true],
    ['success skips SERVFAIL', returning(2), [ResponseClass.Success], false],
    ['denial,error OR-ed logs NXDOMAIN', answering(3), [ResponseClass.Error, ResponseClass.Denial], true],
    ['denial,error OR-ed logs SERVFAIL', returning(2), [ResponseClass.Error, ResponseClass.Denial], true],
    ['denial,error OR-ed skips NOERROR', answering(0, (m) => m.answers.push(a)), [ResponseClass.Error, ResponseClass.Denial], false],
    ['all mixed with others logs everything', answering(0, (m) => m.answers.push(a)), [ResponseClass.Error, ResponseClass.All], true],
  ];
  for (const [what, next, classes, logged] of cases) {
    const { lines, opts } = collect();
    const logger = new Logger(next, [rule('.', '{rcode}', classes)], opts);
    try {
      logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
    } catch {
      // SERVFAIL/REFUSED handlers do not throw here
    }
    assert.equal(lines.length, logged ? 1 : 0, what);
  }
});

test('rules are checked in order; the first whose scope contains the name logs', () => {
  const { lines, opts } = collect();
  const next = answering(0);
  const logger = new Logger(
    next,
    [rule('example.org.', 'org {name}'), rule('example.net.', 'net {name}'), rule('.', 'root {name}'), rule('example.com.', 'never')],
    opts,
  );
  const ctx = Context.background();
  for (const n of ['example.org.', 'WWW.Example.ORG.', 'example.net.', 'a.b.example.net.', 'example.com.', 'org.']) {
    logger.ServeDNS(ctx, new FakeWriter(), query(n));
  }
  assert.deepEqual(lines, [
    'org example.org.',
    'org www.example.org.',
    'net example.net.',
    'net a.b.example.net.',
    'root example.com.',
    'root org.',
  ]);
});

test('a name outside every scope passes through unlogged and unwrapped', () => {
  const { lines, opts } = collect();
  const next = answering(0);
  const logger = new Logger(next, [rule('example.org.'), rule('Example.NET.')], opts);
  const w = new FakeWriter();
  assert.equal(logger.ServeDNS(Context.background(), w, query('example.com.')), 0);
  assert.equal(next.seen[0], w);
  assert.equal(w.msgs.length, 1);
  // scopes compare case-insensitively and by label
  logger.ServeDNS(Context.background(), new FakeWriter(), query('www.EXAMPLE.net.'));
  logger.ServeDNS(Context.background(), new FakeWriter(), query('notexample.org.'));
  assert.equal(lines.length, 1);
  assert.notEqual(next.seen[1], w);
  assert.ok(lines[0]!.includes('"A IN www.example.net. udp'));
});

test('metadata log/type and log/class are published', () => {
  const { lines, opts } = collect();
  const cases: [Handler, string][] = [
    [answering(0, (m) => m.answers.push(a)), 'NOERROR success'],
    [answering(3, (m) => m.authorities.push(soa)), 'NXDOMAIN denial'],
    [answering(0, (m) => m.authorities.push(soa)), 'NODATA denial'],
    [answering(0, (m) => m.authorities.push({ name: 'example.org.', type: 'NS', data: 'ns.example.org.' })), 'DELEGATION success'],
    [returning(2), 'SERVERERROR error'],
  ];
  for (const [next, want] of cases) {
    const ctx = Context.background();
    const logger = new Logger(next, [rule('.', '{/log/type} {/log/class}')], opts);
    logger.ServeDNS(ctx, new FakeWriter(), query('example.org.'));
    assert.equal(lines.pop(), want);
    const [t, c] = want.split(' ');
    assert.equal(ctx.metadata('log/type'), t);
    assert.equal(ctx.metadata('log/class'), c);
  }
  // also set when the class filter drops the line
  const ctx = Context.background();
  new Logger(answering(3), [rule('.', 'x', [ResponseClass.Success])], opts).ServeDNS(ctx, new FakeWriter(), query('example.org.'));
  assert.equal(ctx.metadata('log/type'), 'NXDOMAIN');
  assert.equal(ctx.metadata('log/class'), 'denial');
  assert.deepEqual(lines, []);
});

test('a reply written as wire bytes: rcode, flags, size and class come from the bytes', () => {
  const { lines, opts } = collect();
  const wireNext: Handler = {
    name: 'wire',
    ServeDNS(_ctx, w, r): number {
      const m = newReply(r);
      m.flags |= 0x0080; // RA
      setRcode(m, 3);
      m.authorities.push(soa);
      w.write(encodeMessage(m, true));
      return 3;
    },
  };
  const logger = new Logger(wireNext, [rule('.', '{rcode} {>rflags} {rsize} {/log/type}', [ResponseClass.Denial])], opts);
  const w = new FakeWriter();
  logger.ServeDNS(Context.background(), w, query('example.org.'));
  assert.equal(w.wires.length, 1);
  assert.deepEqual(lines, [`NXDOMAIN qr,rd,ra ${w.wires[0]!.length} NXDOMAIN`]);
});

test('several writes add up in {rsize}; the last reply gives rcode and flags', () => {
  const { lines, opts } = collect();
  const first = newRcodeReply(query('example.org.', 'AXFR'), 0);
  first.answers.push(soa, a);
  const second = newRcodeReply(query('example.org.', 'AXFR'), 0);
  second.answers.push(soa);
  second.flags |= AUTHORITATIVE_ANSWER;
  const xfr: Handler = {
    name: 'xfr',
    ServeDNS(_ctx, w): number {
      w.writeMsg(first);
      w.writeMsg(second);
      return 0;
    },
  };
  const logger = new Logger(xfr, [rule('.', '{rcode} {>rflags} {rsize} {/log/type}')], opts);
  logger.ServeDNS(Context.background(), new FakeWriter({ transport: 'tcp' }), query('example.org.', 'AXFR'));
  assert.deepEqual(lines, [`NOERROR qr,aa,rd ${messageLen(first, false) + messageLen(second, false)} META`]);
});

test('the combined format adds the opcode', () => {
  const { lines, opts } = collect();
  const logger = new Logger(answering(0, (m) => m.answers.push(a)), [rule('.', COMBINED_LOG_FORMAT)], opts);
  const w = new FakeWriter({ remote: { address: '::1', port: 50759, family: 6 } });
  logger.ServeDNS(Context.background(), w, query('example.org.'));
  assert.deepEqual(lines, ['[::1]:50759 - 29008 "A IN example.org. udp 29 false 512" NOERROR qr,aa,rd 56 0.000123s "0"']);
});

test('{duration} counts from when the log plugin received the query', () => {
  const lines: string[] = [];
  const logger = new Logger(answering(0), [rule('.', '{duration}')], {
    output: (l) => lines.push(l),
    clock: steppingClock(10, 10.000001, 20, 1520, 30, 30),
  });
  for (let i = 0; i < 3; i++) logger.ServeDNS(Context.background(), new FakeWriter(), query('example.org.'));
  assert.deepEqual(lines, ['0.000000001s', '1.5s', '0s']);
});
