import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginDefinition } from '@tsdns/core';
import errorsPlugin, { ErrorHandler } from '../src/index.js';
import { build, errorOf } from './helpers.js';

/** A stand-in for the rest of a chain. */
const answer: PluginDefinition = {
  name: 'answer',
  setup(c): void {
    c.next();
    c.addPlugin(() => ({ name: 'answer', ServeDNS: () => 0 }));
  },
};
const plugins = [errorsPlugin, answer];

async function parse(body: string): Promise<{ handler: ErrorHandler; stacktrace: boolean }> {
  const inst = await build(`. {\n${body}\n answer\n}\n`, plugins);
  const cfg = inst.configs[0]!;
  const h = cfg.handler('errors');
  assert.ok(h instanceof ErrorHandler);
  return { handler: h, stacktrace: cfg.stacktrace };
}

function err(body: string): Promise<string> {
  return errorOf(() => build(`. {\n${body}\n}\n`, plugins));
}

test('valid configurations', async () => {
  const cases: [string, number, boolean][] = [
    ['errors', 0, false],
    ['errors stdout', 0, false],
    ['errors {\n stacktrace\n}', 0, true],
    ['errors {\n stacktrace\n consolidate 1m ^exact$\n}', 1, true],
    ['errors {\n consolidate 1m ^exact$\n}', 1, false],
    ['errors {\n consolidate 1m error\n}', 1, false],
    ['errors {\n consolidate 1m "format error"\n}', 1, false],
    ['errors {\n consolidate 1m error1\n consolidate 5s error2\n}', 2, false],
    ['errors {\n consolidate 1m error show_first\n}', 1, false],
    ['errors {\n consolidate 1m error warning show_first\n}', 1, false],
    ['errors stdout {\n consolidate 0 x info\n}', 1, false],
    ['errors {\n}', 0, false],
  ];
  for (const [body, count, stacktrace] of cases) {
    const r = await parse(body);
    assert.equal(r.handler.patterns.length, count, body);
    assert.equal(r.stacktrace, stacktrace, body);
  }
});

test('consolidate options: period, pattern, level, show_first', async () => {
  const { handler } = await parse(
    'errors {\n consolidate 5m ".* i/o timeout$" warning\n consolidate 30s "^Failed to .+"\n consolidate 1.5s x debug show_first\n consolidate 100ms y show_first\n}',
  );
  assert.deepEqual(
    handler.patterns.map((p) => [p.periodNs, p.pattern.expr, p.level, p.showFirst]),
    [
      [300_000_000_000n, '.* i/o timeout$', 'warning', false],
      [30_000_000_000n, '^Failed to .+', 'error', false],
      [1_500_000_000n, 'x', 'debug', true],
      [100_000_000n, 'y', 'error', true],
    ],
  );
  for (const level of ['warning', 'error', 'info', 'debug']) {
    const r = await parse(`errors {\n consolidate 1m .* ${level}\n}`);
    assert.equal(r.handler.patterns[0]!.level, level);
  }
});

test('setup errors carry CoreDNS texts and locations', async () => {
  assert.equal(await err('errors errors.txt'), 'plugin/errors: Corefile:2 - Error during parsing: invalid log file: errors.txt');
  assert.equal(await err('errors visible'), 'plugin/errors: Corefile:2 - Error during parsing: invalid log file: visible');
  assert.equal(
    await err('errors a b'),
    "plugin/errors: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'b'",
  );
  assert.equal(
    await err('errors {\n log visible\n}'),
    "plugin/errors: Corefile:3 - Syntax error: Unexpected token 'log', expecting 'Unknown field log'",
  );
  // a second line in the block: CoreDNS's plugin.ErrOnce has no location; tsdns puts one in front
  assert.equal(await err('errors\nerrors'), 'Corefile:3 - plugin/errors: this plugin can only be used once per Server Block');
  assert.equal(
    await err('errors {\n consolidate\n}'),
    "plugin/errors: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'consolidate'",
  );
  assert.equal(
    await err('errors {\n consolidate 1m\n}'),
    "plugin/errors: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after '1m'",
  );
  assert.equal(
    await err('errors {\n consolidate 1m .* warning show_first extra\n}'),
    "plugin/errors: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
  );
  assert.equal(
    await err('errors {\n consolidate 1m .* extra\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: unknown option in consolidate: extra',
  );
  assert.equal(
    await err('errors {\n consolidate abc .*\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: time: invalid duration "abc"',
  );
  assert.equal(
    await err('errors {\n consolidate 1 .*\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: time: missing unit in duration "1"',
  );
  assert.equal(
    await err('errors {\n consolidate 1d .*\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: time: unknown unit "d" in duration "1d"',
  );
  assert.equal(
    await err('errors {\n consolidate 1m ())\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: error parsing regexp: unexpected ): `())`',
  );
  assert.equal(
    await err('errors {\n consolidate 1m "(?=x)"\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
  );
  assert.equal(
    await err('errors {\n consolidate 1m error warning error\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: multiple log levels specified in consolidate',
  );
  assert.equal(
    await err('errors {\n consolidate 1m error info debug\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: multiple log levels specified in consolidate',
  );
  assert.equal(
    await err('errors {\n consolidate 1m error show_first warning\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: log level must come before show_first in consolidate',
  );
  assert.equal(
    await err('errors {\n consolidate 1m error invalid_option\n}'),
    'plugin/errors: Corefile:3 - Error during parsing: unknown option in consolidate: invalid_option',
  );
  // `stacktrace` takes no argument: the next token is read as a property
  assert.equal(
    await err('errors {\n stacktrace yes\n}'),
    "plugin/errors: Corefile:3 - Syntax error: Unexpected token 'yes', expecting 'Unknown field yes'",
  );
});

test('REGEXP is limited to 10000 bytes of UTF-8', async () => {
  const ok = 'a'.repeat(10000);
  assert.equal((await parse(`errors {\n consolidate 1m ${ok}\n}`)).handler.patterns.length, 1);
  assert.equal(
    await err(`errors {\n consolidate 1m ${ok}b\n}`),
    'plugin/errors: Corefile:3 - Error during parsing: regex pattern too long: 10001 > 10000',
  );
  assert.equal(
    await err(`errors {\n consolidate 1m ${'\u00e9'.repeat(5001)}\n}`),
    'plugin/errors: Corefile:3 - Error during parsing: regex pattern too long: 10002 > 10000',
  );
});

test('the handler sits in the chain and is shared by all keys of a block', async () => {
  const inst = await build('example.org example.net {\n answer\n errors\n}\n', plugins);
  const cfg = inst.configs[0]!;
  assert.deepEqual(
    cfg.handlers.map((h) => h.name),
    ['errors', 'answer'],
  );
  const h = cfg.handler('errors');
  assert.ok(h instanceof ErrorHandler);
  assert.equal(h.next, cfg.handlers[1]);
});
