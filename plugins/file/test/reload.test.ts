import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RCODE } from '@tsdns/core';
import { captureLog, captureLogs, serveCorefile } from '@tsdns/testing';
import file, { parseZone, reloadZone, type Zone } from '../src/index.js';
import { reply, rrs } from './helpers.js';

function zoneText(serial: number, ns: string[], a = '127.0.0.1'): string {
  return [
    `miek.nl.		1627	IN	SOA	linode.atoom.net. miek.miek.nl. ${serial} 14400 3600 604800 14400`,
    ...ns.map((n) => `miek.nl.		1627	IN	NS	${n}`),
    `www.miek.nl.		1627	IN	A	${a}`,
    '',
  ].join('\n');
}

const NS4 = ['ext.ns.whyscream.net.', 'omval.tednet.nl.', 'linode.atoom.net.', 'ns-ext.nlnetlabs.nl.'];
const NS2 = ['ext.ns.whyscream.net.', 'omval.tednet.nl.'];

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-reload-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(path: string, byMtime = false): Zone {
  const z = parseZone(readFileSync(path), 'miek.nl.', path);
  z.reloadByMtime = byMtime;
  z.mtimeMs = Date.now() - 60_000;
  return z;
}

test('a new SOA serial is picked up and logged; the same serial is not read again (reload_test.go)', async () => {
  const path = join(dir, 'serial.db');
  writeFileSync(path, zoneText(1460175181, NS4));
  const z = load(path);
  assert.equal(z.apexRecords()!.length, 5);

  // same serial, other content: nothing happens, nothing is logged
  writeFileSync(path, zoneText(1460175181, NS2));
  const same = await captureLog(() => reloadZone(z));
  assert.equal(same.result, false);
  assert.deepEqual(same.lines, []);
  assert.equal(z.apexRecords()!.length, 5);

  writeFileSync(path, zoneText(1460175182, NS2));
  const changed = await captureLog(() => reloadZone(z));
  assert.equal(changed.result, true);
  assert.deepEqual(changed.lines, [`[INFO] plugin/file: Successfully reloaded zone "miek.nl." in "${path}" with 1460175182 SOA serial`]);
  assert.equal(z.apexRecords()!.length, 3);
  assert.equal(z.soaSerial(), 1460175182);
});

test('a broken or missing file keeps the old zone and logs the error', async () => {
  const path = join(dir, 'broken.db');
  writeFileSync(path, zoneText(1, NS4));
  const z = load(path);

  writeFileSync(path, zoneText(2, NS2).replace('127.0.0.1', '127.0.0.300'));
  const broken = await captureLog(() => reloadZone(z));
  assert.equal(broken.result, false);
  assert.deepEqual(broken.lines, [
    `[ERROR] plugin/file: Parsing zone "miek.nl.": failed to parse file "${path}" for origin miek.nl. with error ${path}: dns: bad A A: "127.0.0.300" at line: 4:35`,
  ]);
  assert.equal(z.soaSerial(), 1);

  writeFileSync(path, 'www.miek.nl. 60 IN A 127.0.0.2\n');
  const noSoa = await captureLog(() => reloadZone(z));
  assert.deepEqual(noSoa.lines, [`[ERROR] plugin/file: Parsing zone "miek.nl.": file "${path}" has no SOA record for origin miek.nl.`]);

  unlinkSync(path);
  const gone = await captureLog(() => reloadZone(z));
  assert.deepEqual(gone.lines, [`[ERROR] plugin/file: Failed to open zone "miek.nl." in "${path}": open ${path}: no such file or directory`]);
  assert.equal(z.soaSerial(), 1);
  assert.equal(z.apexRecords()!.length, 5);
});

test('reload_by_mtime: a newer file is read whatever its serial; an untouched one is not (reload_test.go)', async () => {
  const path = join(dir, 'mtime.db');
  writeFileSync(path, zoneText(7, NS4));
  const old = new Date(Date.now() - 120_000);
  utimesSync(path, old, old);
  const z = load(path, true);
  z.mtimeMs = old.getTime();

  const none = await captureLog(() => reloadZone(z));
  assert.equal(none.result, false);
  assert.deepEqual(none.lines, []);

  writeFileSync(path, zoneText(7, NS2));
  const newer = await captureLog(() => reloadZone(z));
  assert.equal(newer.result, true);
  assert.deepEqual(newer.lines, [`[INFO] plugin/file: Successfully reloaded zone "miek.nl." in "${path}" with 7 SOA serial`]);
  assert.equal(z.apexRecords()!.length, 3);
  // the new modification time is remembered: no second reload
  assert.equal(await reloadZone(z), false);

  unlinkSync(path);
  const gone = await captureLog(() => reloadZone(z));
  assert.deepEqual(gone.lines, [`[ERROR] plugin/file: Failed to stat zone "miek.nl." in "${path}": stat ${path}: no such file or directory`]);
});

test('a running server picks up a changed zone on its reload timer (test/file_reload_test.go)', async () => {
  const path = join(dir, 'live.db');
  writeFileSync(path, zoneText(1, NS4, '127.0.0.1'));
  const logs = captureLogs();
  const s = await serveCorefile(`miek.nl {\n  file ${path} {\n    reload 20ms\n  }\n}`, { plugins: [file] });
  try {
    assert.deepEqual(reply((await s.query('www.miek.nl', 'A')).msg).answer, rrs('www.miek.nl. 1627 A 127.0.0.1'));
    writeFileSync(path, zoneText(2, NS4, '127.0.0.2'));
    let answer: string[] = [];
    for (let i = 0; i < 150; i++) {
      await new Promise((r) => setTimeout(r, 20));
      answer = reply((await s.query('www.miek.nl', 'A')).msg).answer;
      if (answer[0]?.endsWith('127.0.0.2')) break;
    }
    assert.deepEqual(answer, rrs('www.miek.nl. 1627 A 127.0.0.2'));
    assert.ok(logs.lines.includes(`[INFO] plugin/file: Successfully reloaded zone "miek.nl." in "${path}" with 2 SOA serial`), logs.lines.join('\n'));
    // a broken update is logged and the last good zone keeps answering
    writeFileSync(path, zoneText(3, NS4, 'not-an-address'));
    for (let i = 0; i < 150 && !logs.lines.some((l) => l.startsWith('[ERROR] plugin/file: Parsing zone')); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(logs.lines.some((l) => l.startsWith('[ERROR] plugin/file: Parsing zone "miek.nl.": failed to parse file')));
    const r = reply((await s.query('www.miek.nl', 'A')).msg);
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.deepEqual(r.answer, rrs('www.miek.nl. 1627 A 127.0.0.2'));
  } finally {
    await s.close();
    logs.restore();
  }
});
