// Every row of the "Tricky examples" tables of corefile.md section 8.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { zoneAddrString } from '@tsdns/core';
import { defaultCorefile, inspectServerBlocks, lexTokens } from '../src/index.js';
import { cleanupTemp, counts, parse, parseError, summary, tempTree } from './helpers.js';

after(cleanupTemp);

function tl(input: string): [string, number][] {
  return lexTokens(input).map((t) => [t.text, t.line]);
}

function zones(input: string, defaultPort = '53'): string[][] {
  return inspectServerBlocks(parse(input), { defaultPort }).map((b) => b.addrs.map(zoneAddrString));
}

// --- parser-level table ---------------------------------------------------

test('§8 row 1: host:123 is one token on line 1', () => {
  assert.deepEqual(tl('host:123'), [['host:123', 1]]);
});

test('§8 row 2: tokens on lines 1 and 3', () => {
  assert.deepEqual(tl('host:123\n\n\t\tdirective'), [
    ['host:123', 1],
    ['directive', 3],
  ]);
});

test('§8 row 3: one-line block lexes to 4 tokens but does not parse', () => {
  assert.deepEqual(tl('host:123 { directive }'), [
    ['host:123', 1],
    ['{', 1],
    ['directive', 1],
    ['}', 1],
  ]);
  parseError('host:123 { directive }', "Corefile:1 - Error during parsing: Unexpected '}' because no matching opening brace");
});

test('§8 row 4: trailing comment', () => {
  assert.deepEqual(tl('foobar # another comment'), [['foobar', 1]]);
});

test('§8 row 5: escaped quotes inside a quoted token', () => {
  assert.deepEqual(
    tl('A "quoted \\"value\\" inside" B').map((t) => t[0]),
    ['A', 'quoted "value" inside', 'B'],
  );
});

test('§8 row 6: backslashes before other characters are kept', () => {
  assert.deepEqual(tl('"don\'t\\escape"'), [["don't\\escape", 1]]);
  assert.deepEqual(tl('"don\'t\\\\escape"'), [["don't\\\\escape", 1]]);
});

test('§8 row 7: newline inside a quoted token; { on line 2', () => {
  assert.deepEqual(tl('A "quoted value with line\n\t\tbreak inside" {'), [
    ['A', 1],
    ['quoted value with line\n\t\tbreak inside', 1],
    ['{', 2],
  ]);
});

test('§8 row 8: "" is an empty token', () => {
  assert.deepEqual(tl('empty "" string'), [
    ['empty', 1],
    ['', 1],
    ['string', 1],
  ]);
});

test('§8 row 9: CRLF', () => {
  assert.deepEqual(tl('skip those\r\nCR characters'), [
    ['skip', 1],
    ['those', 1],
    ['CR', 2],
    ['characters', 2],
  ]);
});

test('§8 row 10: BOM', () => {
  assert.deepEqual(tl('\uFEFF:8080'), [[':8080', 1]]);
});

test('§8 row 11: localhost alone is one block without directives', () => {
  const blocks = parse('localhost');
  assert.deepEqual(summary(blocks), [{ keys: ['localhost'], tokens: {} }]);
});

test('§8 row 12: brace-less block', () => {
  const blocks = parse('localhost:1234\n dir1 foo bar');
  assert.deepEqual(summary(blocks), [{ keys: ['localhost:1234'], tokens: { dir1: ['dir1', 'foo', 'bar'] } }]);
});

test('§8 row 13: comma-separated keys', () => {
  const blocks = parse('http://localhost, https://localhost {\n}');
  assert.deepEqual(blocks[0]!.keys, ['http://localhost', 'https://localhost']);
});

test('§8 row 14: extra comma before {', () => {
  parseError(
    'http://localhost, {\n}',
    "Corefile:1 - Error during parsing: Expected another address but had '{' - check for extra comma",
  );
});

test('§8 row 15: trailing comma at EOF', () => {
  parseError('localhost:1234, http://host2,', 'Corefile:1 - Error during parsing: Unexpected EOF');
});

test('§8 row 16: EOF inside a nested block', () => {
  parseError('localhost\n dir1 {\n foo', 'Corefile:3 - Error during parsing: Unexpected EOF');
});

test('§8 row 17: extra } on the directive line', () => {
  parseError('localhost\n dir1 {\n } }', "Corefile:3 - Error during parsing: Unexpected '}' because no matching opening brace");
});

test('§8 row 18: nested braces are kept in the directive tokens', () => {
  const blocks = parse('localhost\n dir1 {\n nested {\n foo\n }\n }\n dir2 foo bar');
  assert.deepEqual(summary(blocks)[0]!.tokens, {
    dir1: ['dir1', '{', 'nested', '{', 'foo', '}', '}'],
    dir2: ['dir2', 'foo', 'bar'],
  });
});

test('§8 row 19: "" alone / empty input give no blocks; default Corefile', () => {
  assert.deepEqual(parse('""'), []);
  assert.deepEqual(parse(''), []);
  assert.deepEqual(parse('# only a comment\n'), []);
  assert.equal(defaultCorefile('53'), '.:53 {\nwhoami\nlog\n}\n');
  assert.deepEqual(summary(parse(defaultCorefile('1053'))), [
    { keys: ['.:1053'], tokens: { whoami: ['whoami'], log: ['log'] } },
  ]);
});

test('§8 row 20: import takes one argument', () => {
  parseError(
    'import testdata/import_test1.txt testdata/import_test2.txt',
    'Corefile:1 - Error during parsing: Import takes only one argument (glob pattern or file)',
  );
});

test('§8 row 21: unmatched glob warns, missing file is an error', () => {
  const cwd = tempTree({});
  const warnings: string[] = [];
  assert.deepEqual(parse('import notfound/*', { cwd, warnings }), []);
  assert.deepEqual(warnings, ['No files matching import glob pattern: notfound/*']);
  parseError('import notfound/file.conf', 'Corefile:1 - Error during parsing: File to import not found: notfound/file.conf', { cwd });
});

test('§8 row 22: glob wildcard limits', () => {
  parseError(
    'import /*/*.txt',
    'Corefile:1 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: /*/*.txt',
  );
  parseError(
    'import /???/?*?o',
    'Corefile:1 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: /???/?*?o',
  );
  parseError(
    'import /[a-z]',
    'Corefile:1 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: /[a-z]',
  );
});

test('§8 row 23: env vars in a key', () => {
  const blocks = parse('{$ADDRESS}:{$PORT}', { env: { ADDRESS: 'servername.com', PORT: '8080' } });
  assert.deepEqual(blocks[0]!.keys, ['servername.com:8080']);
});

test('§8 row 24: env var inside a quoted argument', () => {
  const blocks = parse(':1234\ndir1 "Test {$FOOBAR} test"', { env: { FOOBAR: 'foobar' } });
  assert.equal(blocks[0]!.tokens.get('dir1')![1]!.text, 'Test foobar test');
});

test('§8 row 25: template braces are left alone', () => {
  const blocks = parse(':1234\nanswer "{{ .Name }} {$FOOBAR}"', { env: { FOOBAR: 'foobar' } });
  assert.equal(blocks[0]!.tokens.get('answer')![1]!.text, '{{ .Name }} foobar');
});

test('§8 row 26: a lone comma is an empty key', () => {
  assert.deepEqual(parse('a , b {\n}')[0]!.keys, ['a', '', 'b']);
});

test('§8 row 27: a,b is one key and one zone', () => {
  const blocks = parse('a,b {\n}');
  assert.deepEqual(blocks[0]!.keys, ['a,b']);
  assert.deepEqual(zones('a,b {\n}'), [['dns://a,b.:53']]);
});

test('§8 row 28: . {} has keys . and {}', () => {
  assert.deepEqual(summary(parse('. {}')), [{ keys: ['.', '{}'], tokens: {} }]);
});

test('§8 row 29: example.org{ is a key; the block is brace-less', () => {
  const input = 'example.org{\nwhoami\n}';
  assert.deepEqual(summary(parse(input)), [{ keys: ['example.org{'], tokens: { whoami: ['whoami'] } }]);
  assert.deepEqual(zones(input), [['dns://example.org{.:53']]);
});

test('§8 row 30: a stray } starts a block with key }', () => {
  assert.deepEqual(summary(parse('. {\nwhoami\n}\n}')), [
    { keys: ['.'], tokens: { whoami: ['whoami'] } },
    { keys: ['}'], tokens: {} },
  ]);
});

test('§8 row 31: block whose keys vanish is dropped', () => {
  assert.deepEqual(parse('{$NOTSET} {\nwhoami\n}'), []);
  assert.deepEqual(summary(parse('{$NOTSET} {\nwhoami\n}\n. {\nlog\n}')), [{ keys: ['.'], tokens: { log: ['log'] } }]);
});

test('§8 row 32: snippet spliced at key position becomes a key', () => {
  assert.deepEqual(summary(parse('(s) {\n whoami\n}\nimport s')), [{ keys: ['whoami'], tokens: {} }]);
});

test('§8 row 33: import with two arguments inside a block', () => {
  parseError('. {\n import snip arg1\n}', 'Corefile:2 - Error during parsing: Import takes only one argument (glob pattern or file)');
});

test('§8 row 34: snippet importing itself', () => {
  parseError('(a) {\nimport a\n}', 'Corefile:3 - Error during parsing: maximum snippet import depth (10000) exceeded');
});

test('§8 row 35: snippet redeclaration', () => {
  parseError('(a) {\n  log\n}\n(a) {\n  whoami\n}', 'Corefile:4 - Error during parsing: redeclaration of previously declared snippet a');
});

test('§8 row 36: multi-line quoted argument stays in the directive', () => {
  const toks = lexTokens('log . "{common}\n  multi-line"');
  assert.equal(toks[2]!.text, '{common}\n  multi-line');
  const blocks = parse('. {\nlog . "{common}\n  multi-line"\n}');
  assert.deepEqual(summary(blocks)[0]!.tokens, { log: ['log', '.', '{common}\n  multi-line'] });
});

test('§8 row 37: quoted argument containing a space is one token', () => {
  const blocks = parse('. {\nforward . "1.1.1.1 8.8.8.8"\n}');
  assert.deepEqual(summary(blocks)[0]!.tokens, { forward: ['forward', '.', '1.1.1.1 8.8.8.8'] });
});

test('§8 row 38: } inside a comment is ignored', () => {
  const blocks = parse('. {\nhosts {\n 1.2.3.4 a # comment } not closing\n }\n}');
  assert.deepEqual(summary(blocks)[0]!.tokens, { hosts: ['hosts', '{', '1.2.3.4', 'a', '}'] });
});

test('§8 row 39: one-line nested block', () => {
  const blocks = parse('. {\nforward . 1.1.1.1 { max_fails 3 }\n}');
  assert.deepEqual(summary(blocks)[0]!.tokens, {
    forward: ['forward', '.', '1.1.1.1', '{', 'max_fails', '3', '}'],
  });
});

test('§8 row 40: the same zone twice parses (duplicates are found later)', () => {
  const input = '.:53 {\nwhoami\n}\n.:53 {\nwhoami\n}';
  assert.equal(parse(input).length, 2);
  assert.deepEqual(zones(input), [['dns://.:53'], ['dns://.:53']]);
});

test('§8 row 41: { on the line after the keys opens the block', () => {
  assert.deepEqual(summary(parse('example.org\n{\nwhoami\n}')), [{ keys: ['example.org'], tokens: { whoami: ['whoami'] } }]);
});

test('§8 row 42: a key line without { makes a brace-less block', () => {
  parseError('a\nb {\nwhoami\n}', "Corefile:2 - Error during parsing: Unknown directive 'b'");
});

test('§8 row 43: brace-less block after a normal one runs to EOF', () => {
  assert.deepEqual(summary(parse('. {\nwhoami\n}\nexample.org\nlog')), [
    { keys: ['.'], tokens: { whoami: ['whoami'] } },
    { keys: ['example.org'], tokens: { log: ['log'] } },
  ]);
});

test('§8 row 44: directives are case-sensitive', () => {
  parseError('. {\n  Whoami\n}', "Corefile:2 - Error during parsing: Unknown directive 'Whoami'");
});

test('§8 row 45: import without argument', () => {
  parseError('. {\n  import\n}', "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'import'");
});

test('§8 row 46: closing } on the directive line', () => {
  parseError('. {\n  whoami }', "Corefile:2 - Error during parsing: Unexpected '}' because no matching opening brace");
});

test('§8 row 47: directive right after { on the key line', () => {
  assert.deepEqual(summary(parse('. { whoami\n}')), [{ keys: ['.'], tokens: { whoami: ['whoami'] } }]);
});

test('§8 row 48: second } on a nested directive line', () => {
  parseError(
    '. {\n forward . 1.1.1.1 {\n  max_fails 3 } }',
    "Corefile:3 - Error during parsing: Unexpected '}' because no matching opening brace",
  );
});

// --- CoreDNS-level key normalisation table --------------------------------

test('§8 keys: example.org', () => {
  assert.deepEqual(zones('example.org'), [['dns://example.org.:53']]);
});

test('§8 keys: EXAMPLE.ORG', () => {
  assert.deepEqual(zones('EXAMPLE.ORG'), [['dns://example.org.:53']]);
});

test('§8 keys: example.org:1053', () => {
  assert.deepEqual(zones('example.org:1053'), [['dns://example.org.:1053']]);
});

test('§8 keys: example.org.', () => {
  assert.deepEqual(zones('example.org.'), [['dns://example.org.:53']]);
});

test('§8 keys: tls://example.org', () => {
  assert.deepEqual(zones('tls://example.org'), [['tls://example.org.:853']]);
});

test('§8 keys: quic://example.org', () => {
  assert.deepEqual(zones('quic://example.org'), [['quic://example.org.:853']]);
});

test('§8 keys: grpc://example.org', () => {
  assert.deepEqual(zones('grpc://example.org'), [['grpc://example.org.:443']]);
});

test('§8 keys: https://example.org.', () => {
  assert.deepEqual(zones('https://example.org.'), [['https://example.org.:443']]);
});

test('§8 keys: example.org,example.com:1053 is one weird zone', () => {
  assert.deepEqual(zones('example.org,example.com:1053'), [['dns://example.org,example.com.:1053']]);
});

test('§8 keys: example.org example.com:1053 are two zones with their own ports', () => {
  assert.deepEqual(zones('example.org example.com:1053'), [['dns://example.org.:53', 'dns://example.com.:1053']]);
});

test('§8 keys: 10.0.0.0/15:5053 expands to two reverse zones', () => {
  assert.deepEqual(zones('10.0.0.0/15:5053'), [['dns://0.10.in-addr.arpa.:5053', 'dns://1.10.in-addr.arpa.:5053']]);
});

test('§8 keys: EXAMPLE.ORG.:0', () => {
  const [b] = inspectServerBlocks(parse('EXAMPLE.ORG.:0 {\n  whoami\n}'), { defaultPort: '53' });
  assert.deepEqual(b!.addrs, [{ transport: 'dns', zone: 'example.org.', port: '0' }]);
});

test('§8 keys: .:P1 .:P2 .:P3 { debug } share one block', () => {
  const blocks = parse('.:1053 .:1054 .:1055 {\n  debug\n}');
  const [b] = inspectServerBlocks(blocks, { defaultPort: '53' });
  assert.deepEqual(b!.keys, ['dns://.:1053', 'dns://.:1054', 'dns://.:1055']);
  assert.equal(b!.block, blocks[0]);
  assert.deepEqual(counts(b!.block), { debug: 1 });
});
