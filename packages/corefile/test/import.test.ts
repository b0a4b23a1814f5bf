import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectServerBlocks } from '../src/index.js';
import { cleanupTemp, counts, parse, parseError, summary, tempTree } from './helpers.js';

after(cleanupTemp);

test('import: relative to the importing file; tokens carry absolute paths', () => {
  const dir = tempTree({
    'conf/Corefile': '',
    'conf/sub/a.conf': 'example.org {\n  import b.conf\n}\n',
    'conf/sub/b.conf': 'log\nwhoami\n',
  });
  const blocks = parse('import sub/a.conf\n. {\n  errors\n}', { cwd: dir, filename: 'conf/Corefile' });
  assert.deepEqual(summary(blocks), [
    { keys: ['example.org'], tokens: { log: ['log'], whoami: ['whoami'] } },
    { keys: ['.'], tokens: { errors: ['errors'] } },
  ]);
  assert.deepEqual(blocks[0]!.keyTokens, [{ text: 'example.org', file: join(dir, 'conf/sub/a.conf'), line: 1 }]);
  assert.deepEqual(blocks[0]!.tokens.get('whoami'), [{ text: 'whoami', file: join(dir, 'conf/sub/b.conf'), line: 2 }]);
  assert.deepEqual(blocks[1]!.tokens.get('errors'), [{ text: 'errors', file: 'conf/Corefile', line: 3 }]);
});

test('import: absolute main file name', () => {
  const dir = tempTree({ 'etc/z.conf': 'whoami\n' });
  const blocks = parse('. {\n  import z.conf\n}', { cwd: '/', filename: join(dir, 'etc/Corefile') });
  assert.deepEqual(blocks[0]!.tokens.get('whoami'), [{ text: 'whoami', file: join(dir, 'etc/z.conf'), line: 1 }]);
});

test('import: errors in imported content use the absolute path', () => {
  const dir = tempTree({ 'sub/a.conf': '. {\n  foo\n}\n' });
  parseError('import sub/a.conf', `${dir}/sub/a.conf:2 - Error during parsing: Unknown directive 'foo'`, { cwd: dir });
  const dir2 = tempTree({ 'x.conf': '. {\n  whoami\n' });
  parseError('import x.conf', `${dir2}/x.conf:2 - Syntax error: Unexpected token 'whoami', expecting '}'`, { cwd: dir2 });
});

test('import: key errors of imported keys point at the imported file', () => {
  const dir = tempTree({ 'k.conf': '\n\nexample.org:\n' });
  const blocks = parse('import k.conf', { cwd: dir });
  assert.throws(() => inspectServerBlocks(blocks, { defaultPort: '53' }), {
    message: `${dir}/k.conf:3 - error inspecting server blocks: expecting data after last colon: "example.org:"`,
  });
});

test('import: missing file is an error, unmatched glob only warns', () => {
  const dir = tempTree({ 'a.conf': '' });
  parseError('. {\n  import nope.conf\n}', 'Corefile:2 - Error during parsing: File to import not found: nope.conf', { cwd: dir });
  const warnings: string[] = [];
  assert.deepEqual(summary(parse('. {\n  import nope/*.conf\n  whoami\n}', { cwd: dir, warnings })), [
    { keys: ['.'], tokens: { whoami: ['whoami'] } },
  ]);
  assert.deepEqual(warnings, ['No files matching import glob pattern: nope/*.conf']);
});

test('import: a ] in an unmatched pattern makes it a glob (warning, not error)', () => {
  const dir = tempTree({});
  const warnings: string[] = [];
  assert.deepEqual(parse('import foo]', { cwd: dir, warnings }), []);
  assert.deepEqual(warnings, ['No files matching import glob pattern: foo]']);
});

test('import: malformed glob pattern', () => {
  const dir = tempTree({});
  parseError('import foo[', 'Corefile:1 - Error during parsing: Failed to use import pattern foo[: syntax error in pattern', { cwd: dir });
  parseError('import foo\\', 'Corefile:1 - Error during parsing: Failed to use import pattern foo\\: syntax error in pattern', { cwd: dir });
});

test('import: escaped glob characters match literally', () => {
  const dir = tempTree({ 'a*b.conf': 'whoami\n' });
  assert.deepEqual(counts(parse('. {\n  import a\\*b.conf\n}', { cwd: dir })[0]!), { whoami: 1 });
});

test('import: a directory is an error', () => {
  const dir = tempTree({ 'sub/x.conf': '' });
  parseError('import sub', `Corefile:1 - Error during parsing: Could not import ${dir}/sub: is a directory`, { cwd: dir });
  parseError('import s*', `Corefile:1 - Error during parsing: Could not import ${dir}/sub: is a directory`, { cwd: dir });
});

test('import: absolute pattern is used as written in messages', () => {
  const dir = tempTree({ 'sub/x.conf': '' });
  parseError(`import ${dir}//sub/`, `Corefile:1 - Error during parsing: Could not import ${dir}//sub/: is a directory`);
});

test('import: glob matches are sorted, * does not cross /, dotfiles match', () => {
  const dir = tempTree({
    'd/b.conf': 'b {\n}\n',
    'd/a.conf': 'a {\n}\n',
    'd/.h.conf': 'h {\n}\n',
    'd/C.conf': 'c {\n}\n',
    'd/x/y.conf': 'y {\n}\n',
    'd/z.txt': 'z {\n}\n',
  });
  assert.deepEqual(
    parse('import d/*.conf', { cwd: dir }).map((b) => b.keys[0]),
    ['h', 'c', 'a', 'b'], // byte order: .h.conf C.conf a.conf b.conf
  );
  assert.deepEqual(parse('import d/?.conf', { cwd: dir }).map((b) => b.keys[0]), ['c', 'a', 'b']);
  assert.deepEqual(parse('import d/*/y.conf', { cwd: dir }).map((b) => b.keys[0]), ['y']);
});

test('import: glob over many files counts as one file expansion', () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++) files[`many/f${String(i).padStart(2, '0')}`] = i % 10 === 0 ? `k${i} {\n}\n` : '';
  const dir = tempTree(files);
  const blocks = parse('import many/*', { cwd: dir, limits: { maxFileExpansions: 10 } });
  assert.deepEqual(blocks.map((b) => b.keys), [['k0'], ['k10'], ['k20'], ['k30'], ['k40']]);
});

test('import: file import cycle hits the cap with caddy\'s (sic) message', () => {
  const dir = tempTree({ 'a.conf': 'import b.conf\n', 'b.conf': '\nimport a.conf\n' });
  parseError('import a.conf', `${dir}/b.conf:2 - Error during parsing: maximum file import depth (10000) exceeded`, { cwd: dir });
  parseError('import a.conf', `${dir}/a.conf:1 - Error during parsing: maximum file import depth (10) exceeded`, {
    cwd: dir,
    limits: { maxFileExpansions: 5, maxSnippetExpansions: 10 },
  });
});

test('import: a file importing itself', () => {
  const dir = tempTree({ 'self.conf': 'import self.conf\n' });
  parseError('. {\n  import self.conf\n}', `${dir}/self.conf:1 - Error during parsing: maximum file import depth (10000) exceeded`, { cwd: dir });
});

test('caddy TestRecursiveImport: relative and absolute nested imports', () => {
  const dir = tempTree({
    'testdata/recursive_import_test1': 'localhost\n\t\tdir1\n\t\timport recursive_import_test2',
    'testdata/recursive_import_test2': 'dir2 1',
  });
  const expected = [{ keys: ['localhost'], tokens: { dir1: ['dir1'], dir2: ['dir2', '1'] } }];
  assert.deepEqual(summary(parse(`import ${dir}/testdata/recursive_import_test1`)), expected);
  assert.deepEqual(summary(parse('import testdata/recursive_import_test1', { cwd: dir })), expected);
  writeFileSync(join(dir, 'testdata/recursive_import_test1'), `localhost\n\t\tdir1\n\t\timport ${dir}/testdata/recursive_import_test2`);
  assert.deepEqual(summary(parse(`import ${dir}/testdata/recursive_import_test1`)), expected);
  assert.deepEqual(summary(parse('import testdata/recursive_import_test1', { cwd: dir })), expected);
});

test('caddy TestDirectiveImport: import inside a nested directive block', () => {
  const dir = tempTree({ 'testdata/directive_import_test': 'prop1 1\n\tprop2 2' });
  const input = 'localhost\n\tdir1\n\tproxy {\n\t\timport testdata/directive_import_test\n\t\ttransparent\n\t}';
  const b = parse(input, { cwd: dir })[0]!;
  assert.deepEqual(counts(b), { dir1: 1, proxy: 8 });
  assert.deepEqual(
    b.tokens.get('proxy')!.map((t) => t.text),
    ['proxy', '{', 'prop1', '1', 'prop2', '2', 'transparent', '}'],
  );
  parseError(
    'localhost\n\tdir1\n\tproxy {\n\t\timport testdata/nonexistent_file\n\t\ttransparent\n\t}',
    'Corefile:4 - Error during parsing: File to import not found: testdata/nonexistent_file',
    { cwd: dir },
  );
});

test('caddy TestImportedFilesIgnoreNonDirectiveImportTokens', () => {
  const dir = tempTree({
    'f.conf': '\n\t\thttp://example.com {\n\t\t\t# This isn\'t an import directive\n\t\t\tbasicauth / import password\n\t\t}\n',
  });
  const b = parse('import f.conf', { cwd: dir })[0]!;
  assert.deepEqual(b.tokens.get('basicauth')!.map((t) => t.text), ['basicauth', '/', 'import', 'password']);
});

test('caddy TestSnippetAcrossMultipleFiles: snippets defined earlier are visible in imported files', () => {
  const dir = tempTree({ 'f.conf': '\n\t\thttp://example.com {\n\t\t\timport common\n\t\t}\n' });
  const blocks = parse('\n\t\t(common) {\n\t\t\tgzip foo\n\t\t}\n\t\timport f.conf\n\t', { cwd: dir });
  assert.deepEqual(summary(blocks), [{ keys: ['http://example.com'], tokens: { gzip: ['gzip', 'foo'] } }]);
});

test('import: snippets defined in an imported file can be used afterwards', () => {
  const dir = tempTree({ 'snips.conf': '(common) {\n  log\n  errors\n}\n' });
  const blocks = parse('import snips.conf\n. {\n  import common\n}', { cwd: dir });
  assert.deepEqual(summary(blocks), [{ keys: ['.'], tokens: { log: ['log'], errors: ['errors'] } }]);
  assert.equal(blocks[0]!.tokens.get('log')![0]!.file, join(dir, 'snips.conf'));
});

test('import: snippet name wins over a file of the same name', () => {
  const dir = tempTree({ common: 'whoami\n' });
  const blocks = parse('(common) {\n  log\n}\n. {\n  import common\n}', { cwd: dir });
  assert.deepEqual(summary(blocks), [{ keys: ['.'], tokens: { log: ['log'] } }]);
});

test('import: path from an environment variable', () => {
  const dir = tempTree({ 'x/y.conf': 'whoami\n' });
  const b = parse('. {\n  import {$INC}/y.conf\n}', { cwd: dir, env: { INC: 'x' } })[0]!;
  assert.deepEqual(counts(b), { whoami: 1 });
  parseError('. {\n  import {$EMPTY}\n}', 'Corefile:2 - Error during parsing: Import requires a non-empty filepath', { cwd: dir });
});

test('import: imported files are lexed with BOM, CRLF and comments', () => {
  const dir = tempTree({ 'w.conf': '\uFEFF# header\r\nexample.org {\r\n  whoami # x\r\n}\r\n' });
  const blocks = parse('import w.conf', { cwd: dir });
  assert.deepEqual(summary(blocks), [{ keys: ['example.org'], tokens: { whoami: ['whoami'] } }]);
  assert.equal(blocks[0]!.tokens.get('whoami')![0]!.line, 3);
});

test('import: same file twice gives fresh tokens each time', () => {
  const dir = tempTree({ 'l.conf': 'log {$X}\n' });
  const blocks = parse('a {\n  import l.conf\n}\nb {\n  import l.conf\n}', { cwd: dir, env: { X: 'v' } });
  assert.deepEqual(summary(blocks), [
    { keys: ['a'], tokens: { log: ['log', 'v'] } },
    { keys: ['b'], tokens: { log: ['log', 'v'] } },
  ]);
});

test('import: a dangling symlink is found but cannot be opened', () => {
  const dir = tempTree({});
  symlinkSync(join(dir, 'missing-target'), join(dir, 'dangling.conf'));
  parseError(
    'import dangling.conf',
    `Corefile:1 - Error during parsing: Could not import ${dir}/dangling.conf: open ${dir}/dangling.conf: no such file or directory`,
    { cwd: dir },
  );
});

test('import: in key position only at the start of a line', () => {
  const dir = tempTree({ 'k.conf': 'x.org\n' });
  assert.deepEqual(parse('import k.conf\n{\n}', { cwd: dir }).map((b) => b.keys), [['x.org']]);
  // a { on the import line is a second argument
  parseError('import k.conf {\n}', 'Corefile:1 - Error during parsing: Import takes only one argument (glob pattern or file)', { cwd: dir });
  // `import` after a key on the same line is just another key
  assert.deepEqual(parse('a import {\n}', { cwd: dir }).map((b) => b.keys), [['a', 'import']]);
});

test('import: empty import at the start of the file', () => {
  const dir = tempTree({ 'empty.conf': '# nothing\n' });
  assert.deepEqual(parse('import empty.conf', { cwd: dir }), []);
  assert.deepEqual(summary(parse('import empty.conf\n. {\n  whoami\n}', { cwd: dir })), [
    { keys: ['.'], tokens: { whoami: ['whoami'] } },
  ]);
});
