import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveCorefile } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import prometheus, { DEFAULT_ADDR, parsePrometheus, splitHostPort } from '../src/index.js';
import type { Controller, PluginDefinition } from '@tsdns/core';

const plugins = [prometheus, whoami];

async function setupError(corefile: string): Promise<string> {
  try {
    const s = await serveCorefile(corefile, { plugins });
    await s.close();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('setup errors: the texts CoreDNS prints, with the Corefile line', async () => {
  // located errors (c.ArgErr / c.Errf)
  assert.equal(
    await setupError('. {\n  prometheus a b c\n}'),
    "plugin/prometheus: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'c'",
  );
  assert.equal(
    await setupError('. {\n  prometheus {\n    runtime_metrics extra_arg\n  }\n}'),
    "plugin/prometheus: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'extra_arg'",
  );
  assert.equal(await setupError('. {\n  prometheus {\n    foo\n  }\n}'), 'plugin/prometheus: Corefile:3 - Error during parsing: unknown option: foo');
  assert.equal(
    await setupError('. {\n  prometheus {\n    tls a.yml\n    tls b.yml\n  }\n}'),
    'plugin/prometheus: Corefile:4 - Error during parsing: tls block already specified',
  );
  assert.equal(
    await setupError('. {\n  prometheus {\n    tls\n  }\n}'),
    "plugin/prometheus: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'tls'",
  );
  // plain errors (net.SplitHostPort, plugin.ErrOnce); the runtime adds the location
  assert.match(await setupError('. {\n  prometheus /foo\n}'), /^(Corefile:2 - )?plugin\/prometheus: address \/foo: missing port in address$/);
  assert.match(await setupError('. {\n  prometheus {}\n}'), /^(Corefile:2 - )?plugin\/prometheus: address \{\}: missing port in address$/);
  assert.match(
    await setupError('. {\n  prometheus 127.0.0.1:0\n  prometheus 127.0.0.1:0\n}'),
    /^(Corefile:3 - )?plugin\/prometheus: this plugin can only be used once per Server Block$/,
  );
});

test('Go SplitHostPort texts', () => {
  assert.deepEqual(splitHostPort('localhost:9153'), { host: 'localhost', port: '9153' });
  assert.deepEqual(splitHostPort(':9153'), { host: '', port: '9153' });
  assert.deepEqual(splitHostPort('[::1]:9153'), { host: '::1', port: '9153' });
  assert.deepEqual(splitHostPort('bla:a'), { host: 'bla', port: 'a' });
  assert.throws(() => splitHostPort('bla'), { message: 'address bla: missing port in address' });
  assert.throws(() => splitHostPort('::1:53'), { message: 'address ::1:53: too many colons in address' });
  assert.throws(() => splitHostPort('[::1]'), { message: 'address [::1]: missing port in address' });
  assert.throws(() => splitHostPort('[::1:53'), { message: "address [::1:53: missing ']' in address" });
  assert.throws(() => splitHostPort('[::1]x:53'), { message: 'address [::1]x:53: missing port in address' });
  assert.throws(() => splitHostPort('a[b:53'), { message: "address a[b:53: unexpected '[' in address" });
});

test('parse: defaults and options', async () => {
  const got: ReturnType<typeof parsePrometheus>[] = [];
  const probe: PluginDefinition = {
    name: 'prometheus',
    setup(c: Controller): void {
      got.push(parsePrometheus(c));
    },
  };
  const s = await serveCorefile(
    'a.example:0 {\n  prometheus\n}\nb.example:0 {\n  prometheus localhost:53 {\n    runtime_metrics\n    tls web.yml\n  }\n}\nc.example:0 {\n  prometheus [::1]:9253\n}\n',
    { plugins: [probe] },
  );
  await s.close();
  assert.equal(DEFAULT_ADDR, 'localhost:9153');
  assert.deepEqual(got, [
    { addr: 'localhost:9153', tlsConfigPath: '', runtimeMetrics: false },
    { addr: 'localhost:53', tlsConfigPath: 'web.yml', runtimeMetrics: true },
    { addr: '[::1]:9253', tlsConfigPath: '', runtimeMetrics: false },
  ]);
});
