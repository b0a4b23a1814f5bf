import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefile } from '../src/index.js';
import { COREDNS_DIRECTIVES, cleanupTemp, counts, parse, parseError, summary, tempTree } from './helpers.js';

after(cleanupTemp);

const CADDY_TESTDATA = {
  'testdata/import_test1.txt': 'dir2 arg1 arg2\ndir3',
  'testdata/import_test2.txt': 'host1 {\n\tdir1\n\tdir2 arg1\n}',
  'testdata/import_glob0.txt': 'glob0.host0 {\n\tdir2 arg1\n}\n\nglob0.host1 {\n}\n',
  'testdata/import_glob1.txt': 'glob1.host0 {\n\tdir1\n\tdir2 arg1\n}\n',
  'testdata/import_glob2.txt': 'glob2.host0 {\n\tdir2 arg1\n}\n',
};

// --- caddyfile/parse_test.go: TestParseOneAndImport -----------------------

const oneBlockCases: { input: string; keys: string[]; tokens: Record<string, number> }[] = [
  { input: 'localhost', keys: ['localhost'], tokens: {} },
  { input: 'localhost\n\t\t  dir1', keys: ['localhost'], tokens: { dir1: 1 } },
  { input: 'localhost:1234\n\t\t  dir1 foo bar', keys: ['localhost:1234'], tokens: { dir1: 3 } },
  { input: 'localhost {\n\t\t    dir1\n\t\t  }', keys: ['localhost'], tokens: { dir1: 1 } },
  { input: 'localhost:1234 {\n\t\t    dir1 foo bar\n\t\t    dir2\n\t\t  }', keys: ['localhost:1234'], tokens: { dir1: 3, dir2: 1 } },
  { input: 'http://localhost https://localhost\n\t\t  dir1 foo bar', keys: ['http://localhost', 'https://localhost'], tokens: { dir1: 3 } },
  { input: 'http://localhost https://localhost {\n\t\t    dir1 foo bar\n\t\t  }', keys: ['http://localhost', 'https://localhost'], tokens: { dir1: 3 } },
  { input: 'http://localhost, https://localhost {\n\t\t    dir1 foo bar\n\t\t  }', keys: ['http://localhost', 'https://localhost'], tokens: { dir1: 3 } },
  { input: 'host1:80, http://host2.com\n\t\t  dir1 foo bar\n\t\t  dir2 baz', keys: ['host1:80', 'http://host2.com'], tokens: { dir1: 3, dir2: 2 } },
  { input: 'http://host1.com,\n\t\t  http://host2.com,\n\t\t  https://host3.com', keys: ['http://host1.com', 'http://host2.com', 'https://host3.com'], tokens: {} },
  { input: 'http://host1.com:1234, https://host2.com\n\t\t  dir1 foo {\n\t\t    bar baz\n\t\t  }\n\t\t  dir2', keys: ['http://host1.com:1234', 'https://host2.com'], tokens: { dir1: 6, dir2: 1 } },
  { input: '127.0.0.1\n\t\t  dir1 {\n\t\t    bar baz\n\t\t  }\n\t\t  dir2 {\n\t\t    foo bar\n\t\t  }', keys: ['127.0.0.1'], tokens: { dir1: 5, dir2: 5 } },
  { input: 'localhost\n\t\t  dir1 {\n\t\t  }', keys: ['localhost'], tokens: { dir1: 3 } },
  { input: 'localhost\n\t\t  dir1 {\n\t\t    nested {\n\t\t      foo\n\t\t    }\n\t\t  }\n\t\t  dir2 foo bar', keys: ['localhost'], tokens: { dir1: 7, dir2: 3 } },
];

oneBlockCases.forEach((c, i) => {
  test(`caddy TestParseOneAndImport #${i}: ${JSON.stringify(c.input.split('\n')[0])}`, () => {
    const blocks = parse(c.input);
    assert.equal(blocks.length, 1);
    assert.deepEqual(blocks[0]!.keys, c.keys);
    assert.deepEqual(counts(blocks[0]!), c.tokens);
  });
});

test('caddy TestParseOneAndImport: import inside a brace-less block', () => {
  const cwd = tempTree(CADDY_TESTDATA);
  const blocks = parse('localhost\n\t\t  dir1 arg1\n\t\t  import testdata/import_test1.txt', { cwd });
  assert.deepEqual(blocks[0]!.keys, ['localhost']);
  assert.deepEqual(counts(blocks[0]!), { dir1: 2, dir2: 3, dir3: 1 });
});

test('caddy TestParseOneAndImport: import at key position', () => {
  const cwd = tempTree(CADDY_TESTDATA);
  const blocks = parse('import testdata/import_test2.txt', { cwd });
  assert.deepEqual(summary(blocks), [{ keys: ['host1'], tokens: { dir1: ['dir1'], dir2: ['dir2', 'arg1'] } }]);
});

test('caddy TestParseOneAndImport: import of a missing file', () => {
  const cwd = tempTree(CADDY_TESTDATA);
  parseError('import testdata/not_found.txt', 'Corefile:1 - Error during parsing: File to import not found: testdata/not_found.txt', { cwd });
});

test('caddy TestParseOneAndImport: fuzzed import arguments', () => {
  const cwd = tempTree({});
  parseError('import }{$"', 'Corefile:1 - Error during parsing: File to import not found: }{$"', { cwd });
  parseError('import /??', 'Corefile:1 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: /??', { cwd });
  parseError('import {$}', 'Corefile:1 - Error during parsing: File to import not found: {$}', { cwd });
  parseError('import {%}', 'Corefile:1 - Error during parsing: File to import not found: {%}', { cwd });
  parseError('import {$$}', 'Corefile:1 - Error during parsing: Import requires a non-empty filepath', { cwd });
  parseError('import {%%}', 'Corefile:1 - Error during parsing: File to import not found: {%%}', { cwd });
});

// --- caddyfile/parse_test.go: TestParseAll --------------------------------

test('caddy TestParseAll: several blocks', () => {
  assert.deepEqual(
    parse('localhost:1234 {\n\t\t  }\n\t\t  localhost:2015 {\n\t\t  }').map((b) => b.keys),
    [['localhost:1234'], ['localhost:2015']],
  );
  assert.deepEqual(parse('localhost:1234, http://host2').map((b) => b.keys), [['localhost:1234', 'http://host2']]);
  assert.deepEqual(
    parse('http://host1.com, http://host2.com {\n\t\t  }\n\t\t  https://host3.com, https://host4.com {\n\t\t  }').map((b) => b.keys),
    [
      ['http://host1.com', 'http://host2.com'],
      ['https://host3.com', 'https://host4.com'],
    ],
  );
});

test('caddy TestParseAll: glob import, sorted', () => {
  const cwd = tempTree(CADDY_TESTDATA);
  assert.deepEqual(
    parse('import testdata/import_glob*.txt', { cwd }).map((b) => b.keys),
    [['glob0.host0'], ['glob0.host1'], ['glob1.host0'], ['glob2.host0']],
  );
});

// --- caddyfile/parse_test.go: TestSnippets etc. ---------------------------

test('caddy TestSnippets: snippet imported in a block', () => {
  const blocks = parse('\n\t\t(common) {\n\t\t\tgzip foo\n\t\t\terrors stderr\n\t\t}\n\t\thttp://example.com {\n\t\t\timport common\n\t\t}\n\t');
  assert.deepEqual(summary(blocks), [
    { keys: ['http://example.com'], tokens: { gzip: ['gzip', 'foo'], errors: ['errors', 'stderr'] } },
  ]);
});

test('caddy TestSnippetImportCycle: direct and via recursion', () => {
  parseError('\n\t(loop) {\n\timport loop\n\t}\n\timport loop\n\t', 'Corefile:4 - Error during parsing: maximum snippet import depth (10000) exceeded');
  parseError('\n\t(loop) {\n\t{ }\n\timport loop\n\t}\n\timport loop\n\t', 'Corefile:5 - Error during parsing: maximum snippet import depth (10000) exceeded');
});

test('snippets importing each other hit the expansion cap', () => {
  const input = '(a) {\n  import b\n}\n(b) {\n  import a\n}\n. {\n  import a\n}';
  parseError(input, 'Corefile:5 - Error during parsing: maximum snippet import depth (10) exceeded', {
    limits: { maxSnippetExpansions: 10 },
  });
  parseError(input, 'Corefile:5 - Error during parsing: maximum snippet import depth (10000) exceeded');
});

// --- caddyfile/parse_test.go: TestEnvironmentReplacement ------------------

test('caddy TestEnvironmentReplacement', () => {
  const env = { PORT: '8080', ADDRESS: 'servername.com', FOOBAR: 'foobar', PARTIAL_DIR: 'r1' };
  const key = (input: string): string => parse(input, { env })[0]!.keys[0]!;
  const arg = (input: string, dir = 'dir1'): string => parse(input, { env })[0]!.tokens.get(dir)![1]!.text;
  assert.equal(key('{$ADDRESS}'), 'servername.com');
  assert.equal(key('di{$PARTIAL_DIR}'), 'dir1');
  assert.equal(key('{$ADDRESS}:{$PORT}'), 'servername.com:8080');
  assert.equal(key('{%ADDRESS%}:{$PORT}'), 'servername.com:8080');
  assert.equal(key('{$ADDRESS}:{%PORT%}'), 'servername.com:8080');
  assert.equal(key(':{%PORT%}\ndir1 {$FOOBAR}'), ':8080');
  assert.equal(arg(':{%PORT%}\ndir1 {$FOOBAR}'), 'foobar');
  assert.equal(arg(':{%PORT%}\ndir1 {%ADDRESS%}/{%FOOBAR%}'), 'servername.com/foobar');
  assert.equal(arg(':1234\ndir1 {%ADDRESS}'), '{%ADDRESS}');
  assert.equal(key(':{$PORT$}'), ':');
  assert.equal(arg(':1234\ndir1 "Test {$FOOBAR} test"'), 'Test foobar test');
  assert.equal(arg(':1234\nanswer "{{ .Name }} {$FOOBAR}"', 'answer'), '{{ .Name }} foobar');
});

// --- structure ------------------------------------------------------------

test('tokens carry file and line; map order is first appearance', () => {
  const blocks = parse('. {\n  log\n  errors\n  log stdout\n  whoami\n}');
  const b = blocks[0]!;
  assert.deepEqual([...b.tokens.keys()], ['log', 'errors', 'whoami']);
  assert.deepEqual(b.tokens.get('log'), [
    { text: 'log', file: 'Corefile', line: 2 },
    { text: 'log', file: 'Corefile', line: 4 },
    { text: 'stdout', file: 'Corefile', line: 4 },
  ]);
  assert.deepEqual(b.keyTokens, [{ text: '.', file: 'Corefile', line: 1 }]);
});

test('§2.3: all occurrences of a directive go into one list', () => {
  const b = parse('. {\n  errors\n  log\n  errors\n}')[0]!;
  assert.deepEqual(
    b.tokens.get('errors')!.map((t) => `${t.text}@${t.line}`),
    ['errors@2', 'errors@4'],
  );
});

test('key tokens: comma stripped, env substituted, lines kept', () => {
  const b = parse('a,\n  {$B} ,\n  c {\n}', { env: { B: 'bee' } })[0]!;
  assert.deepEqual(b.keys, ['a', 'bee', '', 'c']);
  assert.deepEqual(
    b.keyTokens.map((t) => `${t.text}@${t.line}`),
    ['a@1', 'bee@2', '@2', 'c@3'],
  );
});

test('filename as given appears in errors and tokens', () => {
  assert.throws(
    () => parseCorefile('. {\n  nope\n}', { filename: 'conf/my.corefile', validDirectives: COREDNS_DIRECTIVES, env: {} }),
    { message: "conf/my.corefile:2 - Error during parsing: Unknown directive 'nope'" },
  );
  const [b] = parseCorefile('. {\n  whoami\n}', { filename: '/etc/coredns/Corefile', validDirectives: COREDNS_DIRECTIVES });
  assert.equal(b!.tokens.get('whoami')![0]!.file, '/etc/coredns/Corefile');
});

test('ConfigError carries file and line', () => {
  try {
    parse('. {\n\n  nope\n}');
    assert.fail('expected an error');
  } catch (e) {
    const err = e as { file?: string; line?: number };
    assert.equal(err.file, 'Corefile');
    assert.equal(err.line, 3);
  }
});

test('missing closing brace is a syntax error at the last token', () => {
  parseError('. {\nwhoami', "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'");
  parseError('. {', "Corefile:1 - Syntax error: Unexpected token '{', expecting '}'");
});

test('quirk: a nested } as the last token satisfies the missing server-block }', () => {
  // caddy only checks that the current token is '}' after the directives.
  assert.deepEqual(summary(parse('. {\n  forward . 1.1.1.1 {\n  }\n\n')), [
    { keys: ['.'], tokens: { forward: ['forward', '.', '1.1.1.1', '{', '}'] } },
  ]);
});

test('empty blocks are kept', () => {
  assert.deepEqual(summary(parse('example.org:0 {\n}')), [{ keys: ['example.org:0'], tokens: {} }]);
  assert.deepEqual(summary(parse('. { }')), [{ keys: ['.'], tokens: {} }]);
});

test('{ on the next line of a directive is attached to it', () => {
  const b = parse('. {\n  forward . 1.1.1.1\n  {\n    max_fails 3\n  }\n}')[0]!;
  assert.deepEqual(
    b.tokens.get('forward')!.map((t) => t.text),
    ['forward', '.', '1.1.1.1', '{', 'max_fails', '3', '}'],
  );
});

test('import in argument position is an ordinary argument', () => {
  const b = parse('http://example.com {\n  basicauth / import password\n}')[0]!;
  assert.deepEqual(
    b.tokens.get('basicauth')!.map((t) => t.text),
    ['basicauth', '/', 'import', 'password'],
  );
});

test('snippet tokens are substituted when used, not when defined', () => {
  const input = '(s) {\n  log {$X}\n}\na {\n  import s\n}';
  const b = parse(input, { env: { X: 'one' } })[0]!;
  assert.deepEqual(b.tokens.get('log')!.map((t) => t.text), ['log', 'one']);
});

test('a snippet can be used several times', () => {
  const input = '(s) {\n  log {$X}\n}\na {\n  import s\n}\nb {\n  import s\n}';
  const blocks = parse(input, { env: { X: 'x' } });
  assert.deepEqual(summary(blocks), [
    { keys: ['a'], tokens: { log: ['log', 'x'] } },
    { keys: ['b'], tokens: { log: ['log', 'x'] } },
  ]);
});

test('snippet imported inside a nested directive block', () => {
  const input = '(opts) {\n  max_fails 3\n}\n. {\n  forward . 1.1.1.1 {\n    import opts\n  }\n}';
  const b = parse(input)[0]!;
  assert.deepEqual(
    b.tokens.get('forward')!.map((t) => `${t.text}@${t.line}`),
    ['forward@5', '.@5', '1.1.1.1@5', '{@5', 'max_fails@2', '3@2', '}@7'],
  );
});

test('snippet must be defined before use', () => {
  const cwd = tempTree({});
  parseError('. {\n  import s\n}\n(s) {\n  log\n}', 'Corefile:2 - Error during parsing: File to import not found: s', { cwd });
});

test('snippet definitions need braces', () => {
  parseError('(s)\nlog', "Corefile:2 - Syntax error: Unexpected token 'log', expecting '{'");
  parseError('(s) {\n  log {\n}', "Corefile:3 - Syntax error: Unexpected token '}', expecting '}'");
});

test('a lone snippet-looking key at EOF is a server block', () => {
  assert.deepEqual(summary(parse('(s)')), [{ keys: ['(s)'], tokens: {} }]);
});

test('snippet names: () defines the empty name, which import cannot reach', () => {
  const cwd = tempTree({});
  assert.deepEqual(parse('() {\n  log\n}', { cwd }), []);
  parseError('() {\n  log\n}\n. {\n  import ()\n}', 'Corefile:5 - Error during parsing: File to import not found: ()', { cwd });
  parseError('() {\n  log\n}\n. {\n  import ""\n}', 'Corefile:5 - Error during parsing: Import requires a non-empty filepath', { cwd });
  assert.deepEqual(summary(parse('((x)) {\n  log\n}\n. {\n  import (x)\n}')), [{ keys: ['.'], tokens: { log: ['log'] } }]);
});

test('only snippets: no server blocks', () => {
  assert.deepEqual(parse('(a) {\n  log\n}\n(b) {\n}'), []);
});

test('an empty snippet can be imported', () => {
  assert.deepEqual(summary(parse('(e) {\n}\n. {\n  import e\n  whoami\n}')), [{ keys: ['.'], tokens: { whoami: ['whoami'] } }]);
});

test('unknown directive in an imported snippet reports the snippet line', () => {
  parseError('(s) {\n  bogus\n}\n. {\n  import s\n}', "Corefile:2 - Error during parsing: Unknown directive 'bogus'");
});

test('one-line block with a nested block and closing brace on its own line', () => {
  assert.deepEqual(summary(parse('. { forward . 1.1.1.1 { max_fails 3 }\n}')), [
    { keys: ['.'], tokens: { forward: ['forward', '.', '1.1.1.1', '{', 'max_fails', '3', '}'] } },
  ]);
});
