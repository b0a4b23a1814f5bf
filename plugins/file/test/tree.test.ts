/**
 * The tree's name keys: `search` finds a name exactly when its tree labels
 * equal those of a name in the tree (case-insensitive, \DDD escapes decoded),
 * whether the name is plain text and keyed without being split, or not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RR } from '@tsdns/core';
import { Tree } from '../src/tree.js';
import { compareTreeLabels, treeLabels } from '../src/names.js';

const PIECES = ['a', 'A', 'b', 'x', 'X', 'www', '*', '\\097', '\\065', '\\046', '\\.', 'a\\046b', 'ä', '\\228', '-', 'host-1', 'xn--bcher-kva', ''];

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomName(r: () => number): string {
  const n = 1 + Math.floor(r() * 4);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    let l = '';
    const k = 1 + Math.floor(r() * 2);
    for (let j = 0; j < k; j++) l += PIECES[Math.floor(r() * PIECES.length)];
    labels.push(l === '' ? 'z' : l);
  }
  return labels.join('.') + (r() < 0.95 ? '.' : '');
}

const rr = (name: string): RR => ({ name, type: 'TXT', class: 'IN', ttl: 0, data: ['x'] }) as RR;

test('search finds a name exactly when its tree labels equal those of a stored name (5,000 random names against 300 stored)', () => {
  const r = rand(0x7ee);
  const stored = Array.from({ length: 300 }, () => randomName(r));
  const tree = new Tree();
  for (const n of stored) tree.insert(rr(n));
  const storedLabels = stored.map((n) => treeLabels(n));
  let hits = 0;
  for (let i = 0; i < 5000; i++) {
    const q = i < stored.length ? stored[i]!.toUpperCase() : randomName(r);
    const ql = treeLabels(q);
    const want = storedLabels.some((l) => compareTreeLabels(l, ql) === 0);
    const got = tree.search(q);
    assert.equal(got !== undefined, want, `search(${JSON.stringify(q)}) labels ${JSON.stringify(ql)}`);
    if (got) {
      assert.equal(compareTreeLabels(got.labels, ql), 0, `search(${JSON.stringify(q)}) found ${JSON.stringify(got.name)}`);
      hits++;
    }
  }
  assert.ok(hits > 300, `${hits} hits`);
});

test('a name written with \\DDD escapes is the same tree name as its plain spelling, and an escaped dot is not a label break', () => {
  const tree = new Tree();
  tree.insert(rr('a.x.'));
  tree.insert(rr('a\\.b.x.'));
  assert.equal(tree.search('\\097.X.')?.name, 'a.x.');
  assert.equal(tree.search('A.x.')?.name, 'a.x.');
  assert.equal(tree.search('A\\.B.x.')?.name, 'a\\.b.x.');
  assert.equal(tree.search('a.b.x.'), undefined);
  // \046 decodes to a dot inside the label ("a.b."), where `a\.b` keeps its backslash, as in CoreDNS's tree
  assert.equal(tree.search('a\\046b.x.'), undefined);
});

test('hasWildcards: only a name with a * label (however written) makes the tree look for wildcards', () => {
  const tree = new Tree();
  tree.insert(rr('a.x.'));
  tree.insert(rr('a*.x.'));
  assert.equal(tree.hasWildcards, false);
  tree.insert(rr('b.\\042.x.'));
  assert.equal(tree.hasWildcards, true);
  const plain = new Tree();
  plain.insert(rr('*.y.'));
  assert.equal(plain.hasWildcards, true);
});
