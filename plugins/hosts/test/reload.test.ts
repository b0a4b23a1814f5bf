import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RR } from '@tsdns/core';
import { captureLog, serveCorefile, type TestServer } from '@tsdns/testing';
import hosts, { hostsEntries, hostsReloadTime } from '../src/index.js';

const plugins = [hosts];

async function answers(srv: TestServer, name: string, type = 'A'): Promise<string> {
  const m = (await srv.query(name, type)).msg;
  if ((m.flags & 0xf) !== 0) return `rcode ${m.flags & 0xf}`;
  return m.answers.map((r) => String((r as RR).data)).join(',');
}

/** Polls until `name` resolves to `want` (or fails after `ms`). */
async function until(srv: TestServer, name: string, want: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  let got = '';
  while (Date.now() < end) {
    got = await answers(srv, name);
    if (got === want) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${name}: wanted ${want}, still ${got} after ${ms} ms`);
}

async function entries(path: string): Promise<number | undefined> {
  const m = await hostsEntries.get();
  return m.values.find((v) => v.labels.hostsfile === path)?.value;
}

test('the file is re-read when its size or mtime changes; metrics follow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hosts-reload-'));
  const file = join(dir, 'hosts');
  writeFileSync(file, '10.0.0.1 a.example.org\n10.0.0.2 b.example.org c.example.org\n');
  const srv = await serveCorefile(`. {\n  hosts ${file} {\n    reload 30ms\n    10.0.0.3 d.example.org\n  }\n}`, { plugins });
  try {
    // read at start: 3 names + 3 reverse entries from the file, 1 + 1 inline
    assert.equal(await answers(srv, 'a.example.org'), '10.0.0.1');
    assert.equal(await entries(file), 8);
    const ts = (await hostsReloadTime.get()).values[0]!.value;
    assert.equal(ts, Number(statSync(file, { bigint: true }).mtimeNs) / 1e9);

    // a new size
    writeFileSync(file, '10.0.0.11 a.example.org\n');
    await until(srv, 'a.example.org', '10.0.0.11');
    assert.equal(await answers(srv, 'b.example.org'), 'rcode 2');
    assert.equal(await answers(srv, 'd.example.org'), '10.0.0.3');
    assert.equal(await entries(file), 4);

    // same size, new mtime
    writeFileSync(file, '10.0.0.12 a.example.org\n');
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    await until(srv, 'a.example.org', '10.0.0.12');
    assert.equal((await hostsReloadTime.get()).values[0]!.value, Number(statSync(file, { bigint: true }).mtimeNs) / 1e9);

    // a deleted file keeps its last content (and the inline entries)
    unlinkSync(file);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await answers(srv, 'a.example.org'), '10.0.0.12');
    assert.equal(await answers(srv, 'd.example.org'), '10.0.0.3');
    // ... until it comes back
    writeFileSync(file, '10.0.0.13 a.example.org\n10.0.0.14 e.example.org\n');
    await until(srv, 'e.example.org', '10.0.0.14');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file missing at start is used once it appears; reload 0 never re-reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hosts-reload-'));
  const file = join(dir, 'hosts');
  const fixed = join(dir, 'fixed');
  writeFileSync(fixed, '10.0.0.1 f.example.org\n');
  const { lines, result: srv } = await captureLog(() =>
    serveCorefile(`. {\n  hosts ${file} {\n    reload 30ms\n  }\n}\nexample.org:0 {\n  hosts ${fixed} {\n    reload 0\n  }\n}`, {
      plugins,
    }),
  );
  try {
    assert.deepEqual(lines, [`[WARNING] plugin/hosts: File does not exist: ${file}`]);
    // no entries and no fallthrough: SERVFAIL; no metric until the file was read
    assert.equal(await answers(srv, 'x.example.net'), 'rcode 2');
    assert.equal(await entries(file), undefined);
    writeFileSync(file, '10.9.9.9 x.example.net\n');
    await until(srv, 'x.example.net', '10.9.9.9');
    assert.equal(await entries(file), 2);

    // example.org shares the listener; its block has reload 0
    const q = async (): Promise<string> => ((await srv.query('f.example.org', 'A')).msg.answers[0] as RR).data as string;
    assert.equal(await q(), '10.0.0.1');
    writeFileSync(fixed, '10.0.0.2 f.example.org\n# grown\n');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await q(), '10.0.0.1');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
