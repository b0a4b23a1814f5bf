import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Msg } from '@tsdns/core';
import { buildCorefile, captureLog, captureLogs, serveCorefile, setupError } from '@tsdns/testing';
import loadbalance, { ipString, parseWeights, WeightedRR } from '../src/index.js';
import { a, fixedPlugin, rr, sample, show } from './helpers.js';

const answers = (q: Msg): { answers: ReturnType<typeof a>[]; additionals: ReturnType<typeof a>[] } => {
  const n = q.questions[0]!.name;
  return {
    answers: [rr(n, 'CNAME', 'www.example.com.'), a('www.example.com.', '100.64.1.1'), a('www.example.com.', '100.64.1.2'), a('www.example.com.', '100.64.1.3')],
    additionals: [],
  };
};
const fixed = fixedPlugin(answers);
const plugins = [loadbalance, fixed];

function tally(samples: string[][]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const s of samples) {
    assert.equal(s[0], 'CNAME www.example.com.');
    t[s[1]!] = (t[s[1]!] ?? 0) + 1;
  }
  return t;
}

test('parseWeights: format and CoreDNS error texts', () => {
  const d = parseWeights(
    '\n# domain 1\nw1.example.org\n192.168.1.15   10\n192.168.1.14   20\n# domain 2\nw2.example.org\n # domain 3\n w3.example.org.\n 192.168.2.16 11\n ::ffff:192.168.2.15 12\n',
    'wf',
  );
  assert.deepEqual([...d.keys()], ['w1.example.org.', 'w2.example.org.', 'w3.example.org.']);
  assert.deepEqual(d.get('w1.example.org.')!.map((w) => `${ipString(w.address)} ${w.value}`), ['192.168.1.15 10', '192.168.1.14 20']);
  assert.deepEqual(d.get('w2.example.org.'), []);
  assert.deepEqual(d.get('w3.example.org.')!.map((w) => `${ipString(w.address)} ${w.value}`), ['192.168.2.16 11', '192.168.2.15 12']);
  assert.equal(parseWeights('', 'wf').size, 0);
  const errs: [string, string][] = [
    ['w1.example.org\n192.168.1.14\n', 'wrong domain name:"192.168.1.14" in weight file wf. (Maybe a missing weight value?)'],
    ['192.168.1.14 10\nw2\n', 'missing domain name in weight file wf'],
    ['w1\n192.168.1.300 10\n', 'wrong IP address:"192.168.1.300" in weight file wf'],
    ['w1\n192.168.1.14 300\n', 'wrong weight value:"300" in weight file wf'],
    ['w1\n192.168.1.14 0\n', 'wrong weight value:"0" in weight file wf'],
    ['w1\n192.168.1.14 +1\n', 'wrong weight value:"+1" in weight file wf'],
    ['w1\n192.168.1.14  1   2\n', 'could not parse weight line:"192.168.1.14  1   2" in weight file wf'],
  ];
  for (const [text, msg] of errs) assert.throws(() => parseWeights(text, 'wf'), { message: msg }, text);
});

test('weighted: the top address follows the weights; others keep their places; the file is re-read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-weighted-'));
  const wfile = join(dir, 'weights');
  writeFileSync(wfile, 'www.example.com\n100.64.1.1 3\n100.64.1.2 1\n100.64.1.3 2\n');
  const cap = captureLogs();
  const srv = await serveCorefile(`. {\n  loadbalance weighted ${wfile} {\n    reload 50ms\n  }\n  fixed\n}`, { plugins });
  try {
    assert.deepEqual(cap.lines, [`[INFO] plugin/loadbalance: Successfully reloaded weight file ${wfile}`]);
    const s = await sample(srv, 'alias.test', 'A', 1800);
    const t = tally(s);
    // expected 900 : 300 : 600
    assert.ok(Math.abs(t['A 100.64.1.1']! - 900) < 120, JSON.stringify(t));
    assert.ok(Math.abs(t['A 100.64.1.2']! - 300) < 90, JSON.stringify(t));
    assert.ok(Math.abs(t['A 100.64.1.3']! - 600) < 110, JSON.stringify(t));
    // only the top one moves (swapped with the first)
    for (const x of s) {
      if (x[1] === 'A 100.64.1.2') assert.deepEqual(x.slice(2), ['A 100.64.1.1', 'A 100.64.1.3']);
      if (x[1] === 'A 100.64.1.3') assert.deepEqual(x.slice(2), ['A 100.64.1.2', 'A 100.64.1.1']);
    }
    // non-address questions are left alone
    for (const x of await sample(srv, 'alias.test', 'TXT', 20)) assert.equal(x[1], 'A 100.64.1.1');

    // new weights: 100.64.1.2 nearly always first
    writeFileSync(wfile, 'www.example.com\n100.64.1.2 255\n');
    const end = Date.now() + 3000;
    while (!cap.lines.some((l, i) => i > 0 && l.includes('Successfully reloaded')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const t2 = tally(await sample(srv, 'alias.test', 'A', 500));
    assert.ok(t2['A 100.64.1.2']! > 470, JSON.stringify(t2));

    // a broken file is reported and the old weights stay
    writeFileSync(wfile, 'www.example.com\n100.64.1.2 256\n');
    const end2 = Date.now() + 3000;
    while (!cap.lines.some((l) => l.startsWith('[ERROR]')) && Date.now() < end2) await new Promise((r) => setTimeout(r, 20));
    assert.ok(cap.lines.includes(`[ERROR] plugin/loadbalance: wrong weight value:"256" in weight file ${wfile}`), cap.lines.join('\n'));
    const t3 = tally(await sample(srv, 'alias.test', 'A', 200));
    assert.ok(t3['A 100.64.1.2']! > 180, JSON.stringify(t3));
  } finally {
    cap.restore();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('weighted: a missing file warns when it will be retried, fails the start otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-weighted-'));
  try {
    const wfile = join(dir, 'nope');
    const { lines, result: srv } = await captureLog(() => serveCorefile(`. {\n  loadbalance weighted ${wfile}\n  fixed\n}`, { plugins }));
    try {
      assert.deepEqual(lines, ['[WARNING] plugin/loadbalance: Failed to open weight file:weight file open error. Will try again in 30s']);
      // without weights every address weighs 1
      const t = tally(await sample(srv, 'alias.test', 'A', 300));
      assert.equal(Object.keys(t).length, 3);
    } finally {
      await srv.close();
    }
    await assert.rejects(
      serveCorefile(`. {\n  loadbalance weighted ${wfile} {\n    reload 0s\n  }\n  fixed\n}`, { plugins }),
      { message: 'plugin/loadbalance: weight file open error' },
    );
    writeFileSync(join(dir, 'bad'), 'x\n1.2.3.4 0\n');
    await assert.rejects(
      serveCorefile(`. {\n  loadbalance weighted ${join(dir, 'bad')}\n  fixed\n}`, { plugins }),
      { message: `plugin/loadbalance: wrong weight value:"0" in weight file ${join(dir, 'bad')}` },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('weights are looked up by owner name as written and by address equality', () => {
  const w = new WeightedRR('x', 0);
  w.domains = parseWeights('www.example.com\n::ffff:100.64.1.3 200\n', 'x');
  w.rand = (limit) => limit - 1; // the lightest address (last in descending weight order) is drawn
  const recs = [a('www.example.com.', '100.64.1.1'), a('www.example.com.', '100.64.1.3'), rr('www.example.com.', 'MX', { preference: 1, exchange: 'mx.' })];
  assert.deepEqual(w.weightedRoundRobin(recs).map(show), ['A 100.64.1.1', 'A 100.64.1.3', 'MX 1 mx.']);
  w.rand = () => 0;
  assert.deepEqual(w.weightedRoundRobin(recs).map(show), ['A 100.64.1.3', 'A 100.64.1.1', 'MX 1 mx.']);
  // another case of the owner name is another name: default weights (sorted stably: first drawn with 0)
  const upper = [a('WWW.example.com.', '100.64.1.1'), a('WWW.example.com.', '100.64.1.3')];
  assert.deepEqual(w.weightedRoundRobin(upper).map(show), ['A 100.64.1.1', 'A 100.64.1.3']);
  // no address: unchanged (same array)
  const txt = [rr('x.', 'TXT', ['a'])];
  assert.equal(w.weightedRoundRobin(txt), txt);
});

test('setup errors carry Corefile:LINE and CoreDNS text', async () => {
  const cases: [string, string][] = [
    ['. {\n  loadbalance fleeb\n}', 'Corefile:2 - plugin/loadbalance: unknown policy: fleeb'],
    ['. {\n  loadbalance round_robin a\n}', 'plugin/loadbalance: Corefile:2 - Error during parsing: unknown property for round_robin'],
    ['. {\n  loadbalance weighted\n}', 'plugin/loadbalance: Corefile:2 - Error during parsing: missing weight file argument'],
    ['. {\n  loadbalance weighted a b\n}', 'plugin/loadbalance: Corefile:2 - Error during parsing: unexpected argument(s)'],
    ['. {\n  loadbalance weighted wfile {\n    susu\n  }\n}', "plugin/loadbalance: Corefile:3 - Error during parsing: unknown property 'susu'"],
    ['. {\n  loadbalance weighted wfile {\n    prefer 10.0.0.0/8\n  }\n}', "plugin/loadbalance: Corefile:3 - Error during parsing: unknown property 'prefer'"],
    ['. {\n  loadbalance weighted wfile {\n    reload\n  }\n}', 'plugin/loadbalance: Corefile:3 - Error during parsing: reload duration value is missing'],
    ['. {\n  loadbalance weighted wfile {\n    reload a\n  }\n}', "plugin/loadbalance: Corefile:3 - Error during parsing: invalid reload duration 'a'"],
    ['. {\n  loadbalance weighted wfile {\n    reload -1s\n  }\n}', "plugin/loadbalance: Corefile:3 - Error during parsing: invalid reload duration '-1s'"],
    ['. {\n  loadbalance weighted wfile {\n    reload 30s a\n  }\n}', 'plugin/loadbalance: Corefile:3 - Error during parsing: unexpected argument'],
    ['. {\n  loadbalance {\n    reload 30s\n  }\n}', "plugin/loadbalance: Corefile:3 - Error during parsing: unknown property 'reload'"],
    [
      '. {\n  loadbalance {\n    prefer 10.0.0.0/8 10.0.0.0/33\n  }\n}',
      'plugin/loadbalance: Corefile:3 - Error during parsing: invalid CIDR "10.0.0.0/33": invalid CIDR address: 10.0.0.0/33',
    ],
  ];
  for (const [corefile, want] of cases) assert.equal(await setupError(corefile, { plugins }), want, corefile);
  // valid forms build
  for (const ok of [
    '. {\n  loadbalance\n}',
    '. {\n  loadbalance round_robin\n}',
    '. {\n  loadbalance weighted wfile\n}',
    '. {\n  loadbalance weighted wf {\n    reload 10s\n  }\n}',
    '. {\n  loadbalance round_robin {\n    prefer 10.0.0.0/8 2001:db8::/32\n    prefer 192.168.0.0/16\n  }\n}',
  ]) {
    await buildCorefile(ok, { plugins });
  }
});
