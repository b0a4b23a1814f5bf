import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, BlockConfig, Lifecycle } from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';
import { buildCorefile, setupError } from '@tsdns/testing';
import reload, { drawPeriodMs, parseReload } from '../src/index.js';

const plugins = [reload];

function controller(line: string): Controller {
  const blocks = inspectServerBlocks(parseCorefile(`. {\n  ${line}\n}`, { filename: 'Corefile', validDirectives: new Set(['reload']) }), { defaultPort: '53' });
  const cfg = new BlockConfig(0, blocks[0]!.block, blocks[0]!.addrs);
  return new Controller('Corefile', 'reload', cfg.block.tokens.get('reload')!, cfg, new Lifecycle());
}

test('setup errors carry Corefile:LINE and CoreDNS text', async () => {
  const cases: [string, string][] = [
    ['reload 10s 5s foo', "plugin/reload: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'foo'"],
    ['reload foo', 'Corefile:2 - plugin/reload: time: invalid duration "foo"'],
    ['reload 10s foo', 'Corefile:2 - plugin/reload: time: invalid duration "foo"'],
    ['reload 10', 'Corefile:2 - plugin/reload: time: missing unit in duration "10"'],
    ['reload 1s', 'Corefile:2 - plugin/reload: interval value must be greater or equal to 2s'],
    ['reload 0s', 'Corefile:2 - plugin/reload: interval value must be greater or equal to 2s'],
    ['reload -5s', 'Corefile:2 - plugin/reload: interval value must be greater or equal to 2s'],
    ['reload 3s 0.5s', 'Corefile:2 - plugin/reload: jitter value must be 0 or greater or equal to 1s'],
    ['reload 3s -1s', 'Corefile:2 - plugin/reload: jitter value must be 0 or greater or equal to 1s'],
  ];
  for (const [line, want] of cases) {
    assert.equal(await setupError(`. {\n  ${line}\n}`, { plugins }), want, line);
  }
  for (const ok of ['reload', 'reload 10s', 'reload 10s 2s', 'reload 2s 0s', 'reload 2s 1s', 'reload 1m 1h']) {
    const inst = await buildCorefile(`. {\n  ${ok}\n}`, { plugins });
    // the directive adds no handler
    assert.equal(inst.configs[0]!.handlers.length, 0, ok);
  }
});

test('defaults, and JITTER clamped to INTERVAL/2', () => {
  const s = (line: string): string => {
    const r = parseReload(controller(line));
    return `${r.intervalNs / 1_000_000n}ms ${r.jitterNs / 1_000_000n}ms`;
  };
  assert.equal(s('reload'), '30000ms 15000ms');
  assert.equal(s('reload 10s'), '10000ms 5000ms');
  assert.equal(s('reload 10s 2s'), '10000ms 2000ms');
  assert.equal(s('reload 10s 7s'), '10000ms 5000ms');
  assert.equal(s('reload 2s 0s'), '2000ms 0ms');
  assert.equal(s('reload 2s 1s'), '2000ms 1000ms');
  assert.equal(s('reload 1m30s'), '90000ms 15000ms');
  // only the first `reload` of a block is read, as in CoreDNS
  const c = controller('reload 5s 0s\n  reload 1s');
  assert.equal(parseReload(c).intervalNs, 5_000_000_000n);
});

test('the period is INTERVAL plus a uniform draw in [-JITTER/2, +JITTER/2)', () => {
  const draws = Array.from({ length: 2000 }, () => drawPeriodMs({ intervalNs: 10_000_000_000n, jitterNs: 4_000_000_000n }));
  assert.ok(draws.every((d) => d >= 8000 && d < 12000));
  assert.ok(draws.some((d) => d < 8500));
  assert.ok(draws.some((d) => d > 11500));
  const below = draws.filter((d) => d < 10000).length;
  assert.ok(below > 850 && below < 1150, String(below));
  assert.equal(drawPeriodMs({ intervalNs: 2_000_000_000n, jitterNs: 0n }), 2000);
});
