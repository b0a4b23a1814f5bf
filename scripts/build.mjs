#!/usr/bin/env node
// Builds the workspace: generates the Corefile lexer from the peggy grammar,
// then compiles every TypeScript project (packages, plugins, examples, tests).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

// 1. peggy: corefile-grammar/corefile.peggy -> packages/corefile/src/generated/lexer.js (+ .d.ts)
const grammar = join(root, 'corefile-grammar', 'corefile.peggy');
const genDir = join(root, 'packages', 'corefile', 'src', 'generated');
if (existsSync(grammar)) {
  mkdirSync(genDir, { recursive: true });
  const peggyBin = join(dirname(require.resolve('peggy/package.json')), 'bin', 'peggy.js');
  execFileSync(process.execPath, [peggyBin, '--format', 'es', '--dts', '-o', join(genDir, 'lexer.js'), grammar], { stdio: 'inherit' });
}

// 2. tsc -b over every project that has a tsconfig.json
const projects = [];
for (const group of ['packages', 'plugins', 'examples']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    if (existsSync(join(dir, name, 'tsconfig.json'))) projects.push(join(group, name));
  }
}
if (existsSync(join(root, 'test', 'tsconfig.json'))) projects.push('test');
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'inherit' });
} catch (e) {
  console.error('build failed: TypeScript reported errors (above)');
  process.exit(typeof e.status === 'number' ? e.status : 1);
}

// 3. generated JavaScript is not emitted by tsc: copy it next to the compiled sources.
if (existsSync(join(genDir, 'lexer.js'))) {
  const out = join(root, 'packages', 'corefile', 'dist', 'src', 'generated');
  mkdirSync(out, { recursive: true });
  copyFileSync(join(genDir, 'lexer.js'), join(out, 'lexer.js'));
  copyFileSync(join(genDir, 'lexer.d.ts'), join(out, 'lexer.d.ts'));
}
