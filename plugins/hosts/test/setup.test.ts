import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Controller, PluginDefinition } from '@tsdns/core';
import { buildCorefile, captureLog, setupError } from '@tsdns/testing';
import hosts, { Hosts } from '../src/index.js';

const plugins = [hosts];

test('setup errors carry Corefile:LINE and CoreDNS text', async () => {
  const cases: [string, string][] = [
    ['. {\n  hosts {\n    ttl\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: ttl needs a time in second'],
    ['. {\n  hosts {\n    ttl abc\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: ttl needs a number of second'],
    ['. {\n  hosts {\n    ttl 0\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: ttl provided is invalid'],
    ['. {\n  hosts {\n    ttl -1\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: ttl provided is invalid'],
    ['. {\n  hosts {\n    ttl 65536\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: ttl provided is invalid'],
    ['. {\n  hosts {\n    ttl 99999999999999999999\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: ttl needs a number of second'],
    ['. {\n  hosts {\n    reload\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: reload needs a duration (zero seconds to disable)'],
    ['. {\n  hosts {\n    reload 1s 2s\n  }\n}', 'plugin/hosts: Corefile:3 - Error during parsing: reload needs a duration (zero seconds to disable)'],
    ['. {\n  hosts {\n    reload 5\n  }\n}', "plugin/hosts: Corefile:3 - Error during parsing: invalid duration for reload '5'"],
    ['. {\n  hosts {\n    reload -1s\n  }\n}', "plugin/hosts: Corefile:3 - Error during parsing: invalid negative duration for reload '-1s'"],
    ['. {\n  hosts {\n    fallthrough\n    fallthrough_unsupported x\n  }\n}', "plugin/hosts: Corefile:4 - Error during parsing: Wrong argument count or unexpected line ending after 'x'"],
    ['. {\n  hosts {\n    fallthrough_unsupported\n  }\n}', 'plugin/hosts: Corefile:4 - Error during parsing: fallthrough_unsupported requires fallthrough'],
    ['. {\n  hosts {\n    fallthrough\n    10.0.0.1 a.example.org\n  }\n}', "plugin/hosts: Corefile:4 - Error during parsing: unknown property '10.0.0.1'"],
    ['. {\n  hosts {\n    fallthrough example.org\n    bogus\n  }\n}', "plugin/hosts: Corefile:4 - Error during parsing: unknown property 'bogus'"],
    ['. {\n  hosts\n  hosts\n}', 'Corefile:3 - plugin/hosts: this plugin can only be used once per Server Block'],
  ];
  for (const [corefile, want] of cases) {
    assert.equal(await setupError(corefile, { plugins }), want, corefile);
  }
  // a path through a regular file: ENOTDIR is not "does not exist"
  const dir = mkdtempSync(join(tmpdir(), 'hosts-setup-'));
  try {
    const f = join(dir, 'file');
    writeFileSync(f, '');
    assert.equal(
      await setupError(`. {\n  hosts ${f}/nope\n}`, { plugins }),
      `plugin/hosts: Corefile:2 - Error during parsing: unable to access hosts file '${f}/nope': stat ${f}/nope: not a directory`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inline lines are accepted until fallthrough; fallthrough whose zones are all invalid keeps accepting them', async () => {
  const inst = await buildCorefile('example.org {\n  hosts {\n    10.0.0.1 a.example.org\n    fallthrough\n  }\n}', { plugins });
  const h = inst.configs[0]!.handler('hosts') as Hosts;
  assert.deepEqual(h.hostsfile.inline.name4.get('a.example.org.'), ['10.0.0.1']);
  assert.deepEqual(h.fallthrough, ['.']);
  const inst3 = await buildCorefile('example.org {\n  hosts {\n    fallthrough bad:\n    10.0.0.3 c.example.org\n  }\n}', { plugins });
  const h3 = inst3.configs[0]!.handler('hosts') as Hosts;
  assert.deepEqual(h3.fallthrough, []);
  assert.deepEqual(h3.hostsfile.inline.name4.get('c.example.org.'), ['10.0.0.3']);
  // `no_reverse` takes no arguments: what follows on the line is read as the next option, as CoreDNS does
  const inst2 = await buildCorefile('example.org {\n  hosts {\n    no_reverse 10.0.0.2 b.example.org\n  }\n}', { plugins });
  const h2 = inst2.configs[0]!.handler('hosts') as Hosts;
  assert.equal(h2.hostsfile.autoReverse, false);
  assert.deepEqual(h2.hostsfile.inline.name4.get('b.example.org.'), ['10.0.0.2']);
});

test('defaults and options', async () => {
  const inst = await buildCorefile('example.org:53 example.net {\n  hosts\n}', { plugins });
  const h = inst.configs[0]!.handler('hosts') as Hosts;
  assert.equal(h.hostsfile.path, '/etc/hosts');
  assert.deepEqual(h.hostsfile.origins, ['example.org.', 'example.net.']);
  assert.equal(h.ttl, 3600);
  assert.equal(h.hostsfile.autoReverse, true);
  assert.deepEqual(h.fallthrough, []);

  const { result: inst2 } = await captureLog(() => buildCorefile(
    '. {\n  hosts /nonexistent/hosts example.org 10.0.0.0/24 {\n    ttl 60\n    no_reverse\n    reload 0\n    fallthrough example.org\n    fallthrough_unsupported\n  }\n}',
    { plugins },
  ));
  const h2 = inst2.configs[0]!.handler('hosts') as Hosts;
  assert.equal(h2.hostsfile.path, '/nonexistent/hosts');
  assert.deepEqual(h2.hostsfile.origins, ['example.org.', '0.0.10.in-addr.arpa.']);
  assert.equal(h2.ttl, 60);
  assert.equal(h2.hostsfile.autoReverse, false);
  assert.deepEqual(h2.fallthrough, ['example.org.']);
  assert.equal(h2.fallthroughUnsupported, true);
});

test('a missing file only warns; a directory warns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hosts-setup-'));
  try {
    const missing = join(dir, 'missing');
    const { lines } = await captureLog(() => buildCorefile(`. {\n  hosts ${missing}\n}`, { plugins }));
    assert.deepEqual(lines, [`[WARNING] plugin/hosts: File does not exist: ${missing}`]);
    const { lines: l2 } = await captureLog(() => buildCorefile(`. {\n  hosts ${dir}\n}`, { plugins }));
    assert.deepEqual(l2, [`[WARNING] plugin/hosts: Hosts file "${dir}" is a directory`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a relative FILE is joined with the root directory (root plugin)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hosts-root-'));
  try {
    writeFileSync(join(dir, 'my.hosts'), '10.1.1.1 r.example.org\n');
    const root: PluginDefinition = {
      name: 'root',
      setup(c: Controller): void {
        c.next();
        c.config.root = c.remainingArgs()[0] ?? '';
      },
    };
    const inst = await buildCorefile(`. {\n  root ${dir}\n  hosts my.hosts\n}`, { plugins: [root, hosts] });
    const h = inst.configs[0]!.handler('hosts') as Hosts;
    assert.equal(h.hostsfile.path, join(dir, 'my.hosts'));
    // without root the path stays relative (read from the working directory)
    const { result: inst2 } = await captureLog(() => buildCorefile('. {\n  hosts my.hosts\n}', { plugins: [root, hosts] }));
    assert.equal((inst2.configs[0]!.handler('hosts') as Hosts).hostsfile.path, 'my.hosts');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
