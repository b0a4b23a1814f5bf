/**
 * The quick-start configuration (examples/quickstart/Corefile, which imports
 * examples/gathersrv/Corefile) served by the real tsdns: the gathersrv
 * scenario's merged SRV answer and whoami for every other name. The files are
 * copied with free ports in place of 1053/1054, so the test never depends on
 * those ports being free.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RR } from '@tsdns/core';
import { freePort, makeQuery, queryUdp, REPO_ROOT, spawnTsdns, type TsdnsProcess } from '@tsdns/testing';
import { DEMO_SRV, assertDemoSrvAnswer } from './helpers.js';

let proc: TsdnsProcess | undefined;
after(() => {
  proc?.kill('SIGKILL');
});

test('the quick start serves the gathersrv scenario and whoami', async () => {
  const [p1053, p1054] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-quickstart-'));
  mkdirSync(join(dir, 'quickstart'));
  mkdirSync(join(dir, 'gathersrv'));
  const ports = (s: string): string => s.replaceAll(':1053', `:${p1053}`).replaceAll(':1054', `:${p1054}`);
  writeFileSync(join(dir, 'quickstart', 'Corefile'), ports(readFileSync(join(REPO_ROOT, 'examples', 'quickstart', 'Corefile'), 'utf8')));
  writeFileSync(join(dir, 'gathersrv', 'Corefile'), ports(readFileSync(join(REPO_ROOT, 'examples', 'gathersrv', 'Corefile'), 'utf8')));
  proc = await spawnTsdns(null, {
    conf: 'none',
    cwd: REPO_ROOT, // the zone files are relative to the repository root
    args: ['-conf', join(dir, 'quickstart', 'Corefile')],
    port: p1053,
  });

  const srv = await queryUdp('127.0.0.1', p1053, makeQuery(DEMO_SRV, 'SRV'));
  assertDemoSrvAnswer(srv.msg);

  const who = await queryUdp('127.0.0.1', p1053, makeQuery('whoami.example.', 'A'));
  assert.equal((who.msg.additionals[0] as RR).data, '127.0.0.1');
  await proc.waitForLine(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN whoami\.example\. udp \d+ false 512" NOERROR qr,aa,rd \d+ [\d.]+s$/);
});
