#!/usr/bin/env node
// Runs every compiled test file with Node's test runner.
//   node scripts/test.mjs            all tests (unit + end-to-end)
//   node scripts/test.mjs core log   only files whose path contains one of the words
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function walk(dir, out) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
}

const files = [];
for (const group of ['packages', 'plugins', 'examples']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) walk(join(dir, name, 'dist', 'test'), files);
}
walk(join(root, 'test', 'dist'), files);

const selected = files
  .map((f) => relative(root, f))
  .filter((f) => !f.includes(`${join('test', 'dist', 'bench')}`))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
if (selected.length === 0) {
  console.error('no test files found: run the build first (pnpm install runs it)');
  process.exit(1);
}
// The end-to-end tests query tsdns with dig as well as with Node's resolver.
// A machine without it gets dnsutils from apt when it can (and says so);
// otherwise the dig tests fail with how to install it.
const hasDig = () => spawnSync('sh', ['-c', 'command -v dig'], { stdio: 'ignore' }).status === 0;
if (!hasDig() && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0) {
  console.error('dig not found: installing dnsutils with apt-get for the end-to-end tests');
  spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsutils >/dev/null'], { stdio: 'inherit' });
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...selected], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
