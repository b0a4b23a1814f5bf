import { test } from 'node:test';
import assert from 'node:assert/strict';
import whoami from '@tsdns/plugin-whoami';
import logPlugin, { COMBINED_LOG_FORMAT, COMMON_LOG_FORMAT, DEFAULT_LOG_FORMAT, Logger, ResponseClass, type LogRule } from '../src/index.js';
import { build, errorOf } from './helpers.js';

const plugins = [logPlugin, whoami];

async function rulesOf(body: string): Promise<{ nameScope: string; format: string; classes: number[] }[]> {
  const inst = await build(`. {\n${body}\n}\n`, plugins);
  const h = inst.configs[0]!.handler('log');
  assert.ok(h instanceof Logger);
  return h.rules.map((r: LogRule) => ({ nameScope: r.nameScope, format: r.format, classes: [...r.classes].sort() }));
}

const ALL = [ResponseClass.All];

test('log without arguments: one rule for the root with the common format', async () => {
  assert.deepEqual(await rulesOf('log'), [{ nameScope: '.', format: COMMON_LOG_FORMAT, classes: ALL }]);
  assert.equal(DEFAULT_LOG_FORMAT, COMMON_LOG_FORMAT);
  assert.equal(
    COMMON_LOG_FORMAT,
    '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}',
  );
  assert.equal(COMBINED_LOG_FORMAT, COMMON_LOG_FORMAT + ' "{>opcode}"');
});

test('a single argument is a name, even when it looks like a format', async () => {
  assert.deepEqual(await rulesOf('log example.org'), [{ nameScope: 'example.org.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
  assert.deepEqual(await rulesOf('log {common}'), [{ nameScope: '{common}.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
  assert.deepEqual(await rulesOf('log "{type} {name}"'), [{ nameScope: '{type} {name}.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
});

test('names are made fully qualified but not lower-cased', async () => {
  assert.deepEqual(await rulesOf('log Example.ORG'), [{ nameScope: 'Example.ORG.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
  assert.deepEqual(await rulesOf('log example.org.'), [{ nameScope: 'example.org.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
});

test('two or more arguments: the last is the format when it contains {', async () => {
  assert.deepEqual(await rulesOf('log example.org. {common}'), [{ nameScope: 'example.org.', format: COMMON_LOG_FORMAT, classes: ALL }]);
  assert.deepEqual(await rulesOf('log example.org {combined}'), [{ nameScope: 'example.org.', format: COMBINED_LOG_FORMAT, classes: ALL }]);
  assert.deepEqual(await rulesOf('log example.org example.net {host}'), [
    { nameScope: 'example.org.', format: '{host}', classes: ALL },
    { nameScope: 'example.net.', format: '{host}', classes: ALL },
  ]);
  // no { in the last argument: all are names
  assert.deepEqual(await rulesOf('log example.org example.net'), [
    { nameScope: 'example.org.', format: DEFAULT_LOG_FORMAT, classes: ALL },
    { nameScope: 'example.net.', format: DEFAULT_LOG_FORMAT, classes: ALL },
  ]);
  // { anywhere in the last argument makes it the format
  assert.deepEqual(await rulesOf('log a b x{'), [
    { nameScope: 'a.', format: 'x{', classes: ALL },
    { nameScope: 'b.', format: 'x{', classes: ALL },
  ]);
});

test('{common} and {combined} are expanded inside a format', async () => {
  assert.deepEqual(await rulesOf('log example.org "{combined} {/forward/upstream}"'), [
    { nameScope: 'example.org.', format: COMBINED_LOG_FORMAT + ' {/forward/upstream}', classes: ALL },
  ]);
  assert.deepEqual(await rulesOf('log example.org "{when} {common} {/forward/upstream}"'), [
    { nameScope: 'example.org.', format: '{when} ' + COMMON_LOG_FORMAT + ' {/forward/upstream}', classes: ALL },
  ]);
  assert.deepEqual(await rulesOf('log . "{common} {common}"'), [
    { nameScope: '.', format: COMMON_LOG_FORMAT + ' ' + COMMON_LOG_FORMAT, classes: ALL },
  ]);
});

test('several log lines keep their order', async () => {
  assert.deepEqual(await rulesOf('log example.org.\nlog example.net {combined}'), [
    { nameScope: 'example.org.', format: DEFAULT_LOG_FORMAT, classes: ALL },
    { nameScope: 'example.net.', format: COMBINED_LOG_FORMAT, classes: ALL },
  ]);
  assert.deepEqual(await rulesOf('log example.org {host}\nlog example.org {when}'), [
    { nameScope: 'example.org.', format: '{host}', classes: ALL },
    { nameScope: 'example.org.', format: '{when}', classes: ALL },
  ]);
});

test('class refinements: single, several values, several lines (OR-ed), all', async () => {
  assert.deepEqual(await rulesOf('log example.org {\n class denial\n}'), [
    { nameScope: 'example.org.', format: DEFAULT_LOG_FORMAT, classes: [ResponseClass.Denial] },
  ]);
  assert.deepEqual(await rulesOf('log {\n class denial error\n}'), [
    { nameScope: '.', format: DEFAULT_LOG_FORMAT, classes: [ResponseClass.Denial, ResponseClass.Error] },
  ]);
  assert.deepEqual(await rulesOf('log {\n class denial\n class error\n}'), [
    { nameScope: '.', format: DEFAULT_LOG_FORMAT, classes: [ResponseClass.Denial, ResponseClass.Error] },
  ]);
  assert.deepEqual(await rulesOf('log {\n class all\n}'), [{ nameScope: '.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
  assert.deepEqual(await rulesOf('log {\n class success\n}'), [
    { nameScope: '.', format: DEFAULT_LOG_FORMAT, classes: [ResponseClass.Success] },
  ]);
  // the classes apply to every name of the line, and only to that line
  assert.deepEqual(await rulesOf('log example.org example.net {when} {\n class denial\n}\nlog example.com'), [
    { nameScope: 'example.org.', format: '{when}', classes: [ResponseClass.Denial] },
    { nameScope: 'example.net.', format: '{when}', classes: [ResponseClass.Denial] },
    { nameScope: 'example.com.', format: DEFAULT_LOG_FORMAT, classes: ALL },
  ]);
  // an empty block is no refinement
  assert.deepEqual(await rulesOf('log {\n}'), [{ nameScope: '.', format: DEFAULT_LOG_FORMAT, classes: ALL }]);
});

test('setup errors carry CoreDNS texts', async () => {
  const err = (body: string): Promise<string> => errorOf(() => build(`. {\n${body}\n}\n`, plugins));
  // ClassFromString's error comes without a location
  assert.equal(await err('log {\n class abracadabra\n}'), 'Corefile:3 - plugin/log: invalid Class: abracadabra');
  assert.equal(await err('log {\n class denial All\n}'), 'Corefile:3 - plugin/log: invalid Class: All');
  assert.equal(
    await err('log {\n class\n}'),
    "plugin/log: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'class'",
  );
  assert.equal(await err('log {\n unknown\n}'), "plugin/log: Corefile:3 - Error during parsing: unknown property 'unknown'");
  assert.equal(
    await err('whoami\nlog example.org {\n class denial\n format x\n}'),
    "plugin/log: Corefile:5 - Error during parsing: unknown property 'format'",
  );
});

test('one Logger per block, holding every rule of the block', async () => {
  const inst = await build('. {\n log a\n whoami\n log b\n}\nexample.net {\n log\n whoami\n}\n', plugins);
  const first = inst.configs[0]!;
  assert.deepEqual(
    first.handlers.map((h) => h.name),
    ['log', 'whoami'],
  );
  const l = first.handler('log');
  assert.ok(l instanceof Logger);
  assert.deepEqual(
    l.rules.map((r) => r.nameScope),
    ['a.', 'b.'],
  );
  const second = inst.configs[1]!.handler('log');
  assert.ok(second instanceof Logger);
  assert.deepEqual(
    second.rules.map((r) => r.nameScope),
    ['.'],
  );
});
