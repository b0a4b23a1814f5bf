import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goJsonString, hashCorefile, parseSyntaxOnly, serverBlocksJson } from '../src/index.js';

// kubeadm's default Corefile (CoreDNS 1.9 era) and today's (cache with `disable`), as mounted at
// /etc/coredns/Corefile; the hashes are the ones real CoreDNS logs for them (1.9.3; 1.12.0 and 1.14.6)
const KUBEADM_OLD = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
const KUBEADM_NEW = KUBEADM_OLD.replace('    cache 30\n', '    cache 30 {\n       disable success cluster.local\n       disable denial cluster.local\n    }\n');

test('the hash is CoreDNS’s: known answers from real CoreDNS logs', () => {
  assert.equal(
    hashCorefile(KUBEADM_OLD, '/etc/coredns/Corefile'),
    '591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908',
  );
  assert.equal(
    hashCorefile(KUBEADM_NEW, '/etc/coredns/Corefile'),
    '1b226df79860026c6a52e67daa10d7f0d57ec5b023288ec00c5e05f93523c894564e15b91770d3a07ae1cfbe861d15b37d4a0027e69c546ab112970993a3b03b',
  );
});

test('JSON of the server blocks is Go’s json.Marshal of []caddyfile.ServerBlock', () => {
  const blocks = parseSyntaxOnly('example.org:1053 example.net {\n  whoami\n  log\n  hosts {\n    10.0.0.1 a\n  }\n}\n', 'Corefile');
  // tokens of the main file have an empty File, as caddyfile leaves it
  assert.equal(
    serverBlocksJson(blocks, 'Corefile'),
    '[{"Keys":["example.org:1053","example.net"],"Tokens":{' +
      '"hosts":[{"File":"","Line":4,"Text":"hosts"},{"File":"","Line":4,"Text":"{"},{"File":"","Line":5,"Text":"10.0.0.1"},{"File":"","Line":5,"Text":"a"},{"File":"","Line":6,"Text":"}"}],' +
      '"log":[{"File":"","Line":3,"Text":"log"}],' +
      '"whoami":[{"File":"","Line":2,"Text":"whoami"}]}}]',
  );
  assert.equal(serverBlocksJson([], 'Corefile'), 'null');
  assert.equal(serverBlocksJson(parseSyntaxOnly('. {\n}\n', 'Corefile'), 'Corefile'), '[{"Keys":["."],"Tokens":{}}]');
});

test('strings are escaped as Go does (HTML characters, control characters, U+2028)', () => {
  assert.equal(goJsonString('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goJsonString('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
  assert.equal(goJsonString('\n\r\t\b\f\u0001\u001f\u007f'), '"\\n\\r\\t\\b\\f\\u0001\\u001f\u007f"');
  assert.equal(goJsonString('x\u2028y\u2029é'), '"x\\u2028y\\u2029é"');
});

test('the hash is the SHA-512 of that JSON', () => {
  const text = '. {\n  whoami\n}\n';
  const json = serverBlocksJson(parseSyntaxOnly(text, 'Corefile'), 'Corefile');
  assert.equal(hashCorefile(text, 'Corefile'), createHash('sha512').update(json).digest('hex'));
  // the main file's name is not part of it
  assert.equal(hashCorefile(text, 'Corefile'), hashCorefile(text, '/etc/coredns/Corefile'));
});

test('white space within a line does not change the hash; moving tokens to other lines does', () => {
  const base = hashCorefile('. {\n  whoami\n  hosts /etc/hosts example.org {\n    fallthrough\n  }\n}\n', 'Corefile');
  assert.equal(hashCorefile('.   {\n\twhoami   \n  hosts   /etc/hosts\texample.org   {\n      fallthrough\n}\n}', 'Corefile'), base);
  // a comment at the end of a line, or quotes around a plain word, change nothing either
  assert.equal(hashCorefile('. { # root\n  whoami # me\n  hosts "/etc/hosts" example.org {\n    fallthrough\n  }\n}\n', 'Corefile'), base);
  // a comment line above shifts every line number
  assert.notEqual(hashCorefile('# a comment\n. {\n  whoami\n  hosts /etc/hosts example.org {\n    fallthrough\n  }\n}\n', 'Corefile'), base);
  // an empty line inside too
  assert.notEqual(hashCorefile('. {\n\n  whoami\n  hosts /etc/hosts example.org {\n    fallthrough\n  }\n}\n', 'Corefile'), base);
  // directive order matters only through line numbers: swapping lines changes them
  assert.notEqual(hashCorefile('. {\n  hosts /etc/hosts example.org {\n    fallthrough\n  }\n  whoami\n}\n', 'Corefile'), base);
});

test('syntax only: unknown directives parse, syntax errors throw with Corefile:LINE', () => {
  assert.match(hashCorefile('. {\n  no_such_plugin 1 2 3\n}\n', 'Corefile'), /^[0-9a-f]{128}$/);
  assert.throws(() => hashCorefile('. {\n  whoami\n', 'Corefile'), { message: "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'" });
  assert.throws(() => hashCorefile('. {\n  whoami {\n', 'Corefile'), /Corefile:\d+ - Error during parsing: Unexpected EOF/);
});

test('imports and snippets are expanded: a change in an imported file changes the hash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reload-hash-'));
  try {
    const inc = join(dir, 'inc.conf');
    writeFileSync(inc, 'whoami\n');
    const text = `(snip) {\n  log\n}\n. {\n  import snip\n  import ${inc}\n}\n`;
    const blocks = parseSyntaxOnly(text, join(dir, 'Corefile'));
    assert.deepEqual([...blocks[0]!.tokens.keys()].sort(), ['log', 'whoami']);
    assert.equal(blocks[0]!.tokens.get('whoami')![0]!.file, inc);
    assert.ok(serverBlocksJson(blocks, join(dir, 'Corefile')).includes(`{"File":${JSON.stringify(inc)},"Line":1,"Text":"whoami"}`));
    const h1 = hashCorefile(text, join(dir, 'Corefile'));
    writeFileSync(inc, '\nwhoami\n');
    assert.notEqual(hashCorefile(text, join(dir, 'Corefile')), h1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
