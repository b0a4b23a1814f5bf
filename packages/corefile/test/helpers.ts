import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import type { ServerBlock } from '@tsdns/core';
import { parseCorefile, type ParseOptions } from '../src/index.js';

/** CoreDNS 1.14.7's directive list (core/dnsserver/zdirectives.go). */
export const COREDNS_DIRECTIVES: ReadonlySet<string> = new Set(
  (
    'root metadata geoip cancel proxyproto quic grpc_server https https3 timeouts multisocket reload nsid ' +
    'bufsize bind debug trace ready health pprof shed prometheus errors log dnstap local dns64 any chaos ' +
    'loadbalance tsig rewrite autopath acl cache header dnssec tls minimal template transfer hosts route53 ' +
    'azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on ' +
    'sign view nomad'
  ).split(' '),
);

/** CoreDNS directives plus the generic names used by caddy's own tests. */
export const TEST_DIRECTIVES: ReadonlySet<string> = new Set([
  ...COREDNS_DIRECTIVES,
  'dir1',
  'dir2',
  'dir3',
  'directive',
  'gzip',
  'basicauth',
  'proxy',
  'answer',
]);

export interface Opts extends Partial<ParseOptions> {
  warnings?: string[];
}

/** Parses with filename `Corefile`, TEST_DIRECTIVES and an empty environment. */
export function parse(input: string, opts: Opts = {}): ServerBlock[] {
  const warnings = opts.warnings ?? [];
  return parseCorefile(input, {
    filename: 'Corefile',
    validDirectives: TEST_DIRECTIVES,
    env: {},
    warn: (m) => warnings.push(m),
    ...opts,
  });
}

/** Asserts that parsing throws a ConfigError with exactly `message`. */
export function parseError(input: string, message: string, opts: Opts = {}): void {
  assert.throws(() => parse(input, opts), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'ConfigError');
    assert.equal(e.message, message);
    return true;
  });
}

/** Block summary: keys and, per directive, the token texts. */
export function summary(blocks: ServerBlock[]): { keys: string[]; tokens: Record<string, string[]> }[] {
  return blocks.map((b) => ({
    keys: b.keys,
    tokens: Object.fromEntries([...b.tokens].map(([k, v]) => [k, v.map((t) => t.text)])),
  }));
}

/** Number of tokens per directive. */
export function counts(block: ServerBlock): Record<string, number> {
  return Object.fromEntries([...block.tokens].map(([k, v]) => [k, v.length]));
}

/** A fresh temporary directory (symlinks resolved) with the given files. */
export function tempTree(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsdns-corefile-')));
  created.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    if (name.endsWith('/')) mkdirSync(p, { recursive: true });
    else writeFileSync(p, content);
  }
  return dir;
}

const created: string[] = [];

/** Removes every directory made by tempTree (use in an `after` hook). */
export function cleanupTemp(): void {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
}
