/**
 * The directive: gathersrv's syntax and setup errors (with Corefile:LINE),
 * tsdns's options, several directives in one block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCorefile, setupError } from '@tsdns/testing';
import { GatherSrv } from '../src/index.js';
import { plugins } from './helpers.js';

const block = (body: string): string => `.:0 {\n${body}\n}\n`;
const err = (body: string): Promise<string> => setupError(block(body), { plugins });

test("gathersrv's setup errors, located", async () => {
  assert.equal(await err(' gathersrv'), "plugin/gathersrv: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'gathersrv'");
  assert.equal(await err(' gathersrv distro { }'), 'Corefile:2 - plugin/gathersrv: Provided incorrect domain <distro>');
  assert.equal(await err(' gathersrv distro.local. { }'), 'Corefile:2 - plugin/gathersrv: You have to provide at least one cluster definition.');
  assert.equal(await err(' gathersrv distro.local.'), 'Corefile:2 - plugin/gathersrv: You have to provide at least one cluster definition.');
  assert.equal(await err(' gathersrv distro.local. {\n  cluster-a a-\n }'), 'Corefile:3 - plugin/gathersrv: Provided incorrect domain <cluster-a>');
  assert.equal(
    await err(' gathersrv distro.local. {\n  cluster-a.local.\n }'),
    "plugin/gathersrv: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'cluster-a.local.'",
  );
  assert.equal(
    await err(' gathersrv distro.local. {\n  cluster-a.local. a- x\n }'),
    "plugin/gathersrv: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'x'",
  );
  assert.equal(
    await err(' gathersrv distro.local. extra {\n  cluster-a.local. a-\n }'),
    "plugin/gathersrv: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
  );
});

test('timeout and max_fails: values checked, errors located', async () => {
  const c = (opt: string): Promise<string> => err(` gathersrv distro.local. {\n  cluster-a.local. a-\n  ${opt}\n }`);
  assert.equal(await c('timeout'), "plugin/gathersrv: Corefile:4 - Error during parsing: Wrong argument count or unexpected line ending after 'timeout'");
  assert.equal(await c('timeout 1s 2s'), "plugin/gathersrv: Corefile:4 - Error during parsing: Wrong argument count or unexpected line ending after '2s'");
  assert.equal(await c('timeout 0s'), 'plugin/gathersrv: Corefile:4 - Error during parsing: timeout must be positive: "0s"');
  assert.equal(await c('timeout soon'), 'plugin/gathersrv: Corefile:4 - Error during parsing: invalid timeout: "soon"');
  assert.equal(await c('max_fails -1'), 'plugin/gathersrv: Corefile:4 - Error during parsing: max_fails must be a non-negative integer: "-1"');
  assert.equal(await c('max_fails'), "plugin/gathersrv: Corefile:4 - Error during parsing: Wrong argument count or unexpected line ending after 'max_fails'");
});

test('a valid block: domains normalised, prefixes verbatim, options read, order kept', async () => {
  const inst = await buildCorefile(
    block(' gathersrv Distro.Local. {\n  Cluster-B.local. B-\n  cluster-a.local. a-\n  timeout 250ms\n  max_fails 0\n }'),
    { plugins },
  );
  const h = inst.configs[0]!.handlers.find((x): x is GatherSrv => x instanceof GatherSrv)!;
  assert.equal(h.domain, 'distro.local.');
  assert.deepEqual(h.clusters, [
    { suffix: 'cluster-b.local.', prefix: 'B-' },
    { suffix: 'cluster-a.local.', prefix: 'a-' },
  ]);
  assert.equal(h.timeoutMs, 250);
  assert.equal(h.maxFails, 0);
  assert.equal(h.ready(), true);

  const d = await buildCorefile(block(' gathersrv distro.local. {\n  cluster-a.local. a-\n }'), { plugins });
  const g = d.configs[0]!.handlers.find((x): x is GatherSrv => x instanceof GatherSrv)!;
  assert.equal(g.timeoutMs, 0);
  assert.equal(g.maxFails, 2);
});

test('several gathersrv lines in one block: one handler each, chained in Corefile order', async () => {
  const inst = await buildCorefile(
    block(' gathersrv one.local. {\n  c1.local. a-\n }\n gathersrv two.local. {\n  c2.local. b-\n }'),
    { plugins },
  );
  const hs = inst.configs[0]!.handlers.filter((x): x is GatherSrv => x instanceof GatherSrv);
  assert.deepEqual(
    hs.map((h) => h.domain),
    ['one.local.', 'two.local.'],
  );
  assert.equal(hs[0]!.next, hs[1]);
});

test('sub-query names: prefix routing, fan-out, label-aware swaps', async () => {
  const h = new GatherSrv({
    domain: 'distro.local.',
    clusters: [
      { suffix: 'cluster-a.local.', prefix: 'a-' },
      { suffix: 'cluster-b.local.', prefix: 'b-' },
    ],
  });
  const names = (rel: string): string[] => h.subRequests(rel).map((s) => `${s.ci}:${s.name}`);
  assert.deepEqual(names('_http._tcp.demo.svc.'), ['0:_http._tcp.demo.svc.cluster-a.local.', '1:_http._tcp.demo.svc.cluster-b.local.']);
  assert.deepEqual(names('a-demo-0.svc.'), ['0:demo-0.svc.cluster-a.local.']);
  assert.deepEqual(names('B-demo-0.svc.'), ['1:demo-0.svc.cluster-b.local.']);
  // gathersrv: prefix routing also for SRV names
  assert.deepEqual(names('_http._tcp.a-svc.ns.svc.'), ['0:_http._tcp.svc.ns.svc.cluster-a.local.']);
  // a prefix alone is not a host name
  assert.deepEqual(names('a-.svc.'), ['0:a-.svc.cluster-a.local.', '1:a-.svc.cluster-b.local.']);
  // the domain itself, and a name that contains the domain twice: only the suffix is swapped
  assert.deepEqual(names(''), ['0:cluster-a.local.', '1:cluster-b.local.']);
  assert.deepEqual(names('distro.local.x.'), ['0:distro.local.x.cluster-a.local.', '1:distro.local.x.cluster-b.local.']);
});
