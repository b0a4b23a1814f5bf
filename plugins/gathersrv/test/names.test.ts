import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divideDomain, joinName, prefixedHost, relativeTo } from '../src/index.js';

test('relativeTo: label-aware, case-insensitive, case kept', () => {
  assert.equal(relativeTo('Foo.Distro.LOCAL.', 'distro.local.'), 'Foo.');
  assert.equal(relativeTo('distro.local.', 'distro.local.'), '');
  assert.equal(relativeTo('foo.xdistro.local.', 'distro.local.'), undefined);
  assert.equal(relativeTo('foo\\.distro.local.', 'distro.local.'), undefined);
  assert.equal(relativeTo('foo\\\\.distro.local.', 'distro.local.'), 'foo\\\\.');
  assert.equal(relativeTo('local.', 'distro.local.'), undefined);
  assert.equal(relativeTo('a.b.', '.'), 'a.b.');
  assert.equal(joinName('a.b.', '.'), 'a.b.');
  assert.equal(joinName('', '.'), '.');
});

test("divideDomain and prefixedHost: gathersrv's placement of the prefix", () => {
  assert.deepEqual(divideDomain('_http._tcp.demo.svc.distro.local.'), ['_http._tcp.', 'demo.svc.distro.local.']);
  assert.deepEqual(divideDomain('demo.svc.distro.local.'), ['', 'demo.svc.distro.local.']);
  assert.equal(prefixedHost('demo-0.svc.', 'distro.local.', 'a-'), 'a-demo-0.svc.distro.local.');
  assert.equal(prefixedHost('_x._tcp.demo.', 'distro.local.', 'b-'), '_x._tcp.b-demo.distro.local.');
});
