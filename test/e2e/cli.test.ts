/**
 * The command line (runtime.md §9, corefile.md §5 and §7): flags with Go's
 * spellings, where the Corefile comes from, the default Corefile, error
 * messages and exit codes, the start-up banner.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RCODE } from '@tsdns/core';
import { REPO_ROOT, freePort, makeQuery, queryTcp, queryUdp, spawnTsdns, type SpawnOptions, type TsdnsProcess } from '@tsdns/testing';
import { HOST, assertWhoami } from './helpers.js';

const procs: TsdnsProcess[] = [];
const dirs: string[] = [];

async function run(corefile: string | null, opts: SpawnOptions): Promise<TsdnsProcess> {
  const p = await spawnTsdns(corefile, opts);
  procs.push(p);
  return p;
}

/** Runs a process that is expected to exit by itself. */
async function runToExit(corefile: string | null, opts: SpawnOptions): Promise<{ p: TsdnsProcess; code: number | null }> {
  const p = await run(corefile, { probe: false, ...opts });
  const st = await p.waitForExit(15000);
  return { p, code: st.code };
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsdns-e2e-cli-'));
  dirs.push(d);
  return d;
}

const goArch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;

async function assertServesWhoami(port: number): Promise<void> {
  const u = await queryUdp(HOST, port, makeQuery('cli.example.', 'A', { id: 11 }));
  assertWhoami(u.msg, { id: 11, qname: 'cli.example.', proto: 'udp', port: u.localPort });
  const t = await queryTcp(HOST, port, makeQuery('cli.example.', 'A', { id: 12 }));
  assertWhoami(t.msg, { id: 12, qname: 'cli.example.', proto: 'tcp', port: t.localPort });
}

describe('tsdns command line', { concurrency: true }, () => {
  after(() => {
    for (const p of procs) p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('-version prints two lines and exits 0', async () => {
    const { p, code } = await runToExit(null, { conf: 'none', quiet: false, args: ['-version'] });
    assert.equal(code, 0);
    const lines = p.stdout();
    assert.equal(lines.length, 2, p.stdoutText());
    assert.equal(lines[0], 'CoreDNS-1.14.7');
    assert.match(lines[1]!, new RegExp(`^${process.platform}/${goArch}, \\S+, \\S+$`));
    assert.equal(p.stdoutText(), `${lines[0]}\n${lines[1]}\n`);
    assert.equal(p.stderrText(), '');
  });

  it('-plugins prints the sorted plugin list, then a blank line, and exits 0', async () => {
    const { p, code } = await runToExit(null, { conf: 'none', args: ['-plugins'] });
    assert.equal(code, 0);
    const names = readFileSync(join(REPO_ROOT, 'plugin.cfg'), 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((l) => l.slice(0, l.indexOf(':')));
    const sorted = [...names].sort();
    assert.ok(sorted.includes('whoami'));
    assert.equal(p.stdoutText(), sorted.map((n) => n + '\n').join('') + '\n');
  });

  it('-conf with a missing file: stderr message, exit 1', async () => {
    const dir = tempDir();
    const { p, code } = await runToExit(null, { conf: 'none', cwd: dir, args: ['-conf', 'missing'] });
    assert.equal(code, 1);
    assert.equal(p.stderrText(), 'loading Caddyfile via flag: open missing: no such file or directory\n');
    assert.equal(p.stdoutText(), '');
  });

  it('an unknown directive: FILE:LINE - Error during parsing, exit 1', async () => {
    const port = await freePort();
    const { p, code } = await runToExit(`.:${port} {\n    whoami\n    bogus\n}\n`, {});
    assert.equal(code, 1);
    assert.equal(p.stderrText(), `${p.corefilePath}:3 - Error during parsing: Unknown directive 'bogus'\n`);
  });

  it('a syntax error: FILE:LINE - Syntax error, exit 1', async () => {
    const port = await freePort();
    const { p, code } = await runToExit(`.:${port} {\n    whoami\n`, {});
    assert.equal(code, 1);
    assert.equal(p.stderrText(), `${p.corefilePath}:2 - Syntax error: Unexpected token 'whoami', expecting '}'\n`);
  });

  it('a plugin argument error is wrapped with plugin/NAME, exit 1', async () => {
    const port = await freePort();
    const { p, code } = await runToExit(`.:${port} {\n    whoami extra\n}\n`, {});
    assert.equal(code, 1);
    assert.match(p.stderrText(), new RegExp(`^plugin/whoami: ${p.corefilePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2 - Error during parsing: Wrong argument count or unexpected line ending after '\\S+'\\n$`));
  });

  it('a zone defined twice: cannot serve dns://.:PORT - it is already defined, exit 1', async () => {
    const port = await freePort();
    const { p, code } = await runToExit(`.:${port} {\n    whoami\n}\n.:${port} {\n    whoami\n}\n`, {});
    assert.equal(code, 1);
    // CoreDNS (core/dnsserver/register.go) returns this error without a file:line prefix
    // CoreDNS's text, with the location of the second block in front (tsdns always names FILE:LINE)
    assert.match(p.stderrText(), new RegExp(`^\\S+Corefile\\.test:4 - cannot serve dns://\\.:${port} - it is already defined\\n$`));
  });

  it('a bad key: error inspecting server blocks, exit 1', async () => {
    const { p, code } = await runToExit(`example.org: {\n    whoami\n}\n`, {});
    assert.equal(code, 1);
    // caddy.go ValidateAndExecuteDirectives wraps InspectServerBlocks' error without a location
    assert.match(p.stderrText(), /^\S+Corefile\.test:1 - error inspecting server blocks: expecting data after last colon: "example\.org:"\n$/);
  });

  it('extra positional arguments: fatal, exit 1 (checked before -version)', async () => {
    const port = await freePort();
    const a = await runToExit(`.:${port} {\n    whoami\n}\n`, { args: ['x'] });
    assert.equal(a.code, 1);
    assert.equal(a.p.stderrText(), 'extra command line arguments: [x]\n');
    const b = await runToExit(null, { conf: 'none', args: ['-version', 'a', 'b'] });
    assert.equal(b.code, 1);
    assert.equal(b.p.stderrText(), 'extra command line arguments: [a b]\n');
    assert.equal(b.p.stdoutText(), '');
  });

  it('an unknown flag: Go usage on stderr, exit 2; -h: usage, exit 0', async () => {
    const a = await runToExit(null, { conf: 'none', args: ['-bogus'] });
    assert.equal(a.code, 2);
    assert.equal(a.p.stderr()[0], 'flag provided but not defined: -bogus');
    assert.match(a.p.stderrText(), /^Usage of .*:$/m);
    assert.match(a.p.stderrText(), /^ {2}-conf string$/m);
    const h = await runToExit(null, { conf: 'none', args: ['-h'] });
    assert.equal(h.code, 0);
    assert.match(h.p.stderrText(), /^Usage of .*:$/m);
    assert.match(h.p.stderrText(), /^ {2}-dns\.port string$/m);
  });

  for (const spelling of ['-conf=F', '--conf F', '--conf=F']) {
    it(`Go flag spelling ${spelling}`, async () => {
      const port = await freePort();
      const dir = tempDir();
      const f = join(dir, 'Corefile.alt');
      writeFileSync(f, `.:${port} {\n    whoami\n}\n`);
      const args = spelling.includes('=') ? [spelling.split('=')[0] + '=' + f] : [spelling.split(' ')[0]!, f];
      const p = await run(null, { conf: 'none', cwd: dir, args, port });
      assert.ok(!p.exited, p.stderrText());
      await assertServesWhoami(port);
    });
  }

  it('no Corefile in the working directory: the default `.:PORT { whoami log }` on -dns.port', async () => {
    const port = await freePort();
    const dir = tempDir();
    const p = await run(null, { conf: 'none', cwd: dir, args: ['-dns.port', String(port)], port });
    assert.ok(!p.exited, `exited: ${p.stderrText()}`);
    assert.deepEqual(p.listeningPorts(), { udp: [port], tcp: [port] });
    const mark = p.mark();
    const r = await queryUdp(HOST, port, makeQuery('default.example.', 'A', { id: 4242 }));
    assertWhoami(r.msg, { id: 4242, qname: 'default.example.', proto: 'udp', port: r.localPort });
    // the default Corefile has `log`: the query is logged in the Common Log Format
    const line = await p.waitForLine(`- 4242 "A IN default.example.`, { after: mark, timeoutMs: 3000 });
    assert.match(line, new RegExp(`^\\[INFO\\] 127\\.0\\.0\\.1:${r.localPort} - 4242 "A IN default\\.example\\. udp \\d+ false 512" NOERROR qr,aa,rd \\d+ \\S+s$`));
  });

  it('a Corefile with no server blocks (comments only) also gives the default, on -p', async () => {
    const port = await freePort();
    const p = await run('# nothing here\n', { conf: 'cwd', args: ['-p', String(port)], port });
    assert.ok(!p.exited, `exited: ${p.stderrText()}`);
    await assertServesWhoami(port);
  });

  it('./Corefile in the working directory is used when there is no -conf', async () => {
    const port = await freePort();
    const p = await run(`.:${port} {\n    whoami\n}\n`, { conf: 'cwd', port });
    assert.ok(!p.exited, p.stderrText());
    await assertServesWhoami(port);
  });

  it('-conf stdin reads the Corefile from a pipe', async () => {
    const port = await freePort();
    const p = await run(null, { conf: 'none', args: ['-conf', 'stdin'], stdin: `.:${port} {\n    whoami\n}\n`, port });
    assert.ok(!p.exited, p.stderrText());
    await assertServesWhoami(port);
  });

  it('-conf stdin: errors name the file /dev/stdin, as caddy.CaddyfileFromPipe does', async () => {
    const port = await freePort();
    const { p, code } = await runToExit(null, { conf: 'none', args: ['-conf', 'stdin'], stdin: `.:${port} {\n    whoami\n    bogus\n}\n` });
    assert.equal(code, 1);
    assert.equal(p.stderrText(), `/dev/stdin:3 - Error during parsing: Unknown directive 'bogus'\n`);
  });

  it('without -quiet: the zone banner, then CoreDNS-1.14.7, then the platform line', async () => {
    const port = await freePort();
    const corefile = `example.org:${port} {\n    whoami\n}\n.:${port} {\n    whoami\n}\n10.0.0.0/24:${port} {\n    whoami\n}\n`;
    const p = await run(corefile, { quiet: false, port });
    assert.ok(!p.exited, p.stderrText());
    await p.waitForLine(/^CoreDNS-/);
    await p.waitForLine(/^\S+\/\S+, /);
    const lines = p.stdout();
    assert.deepEqual(lines.slice(0, 4), [`.:${port}`, `0.0.10.in-addr.arpa.:${port}`, `example.org.:${port}`, 'CoreDNS-1.14.7']);
    assert.match(lines[4]!, new RegExp(`^${process.platform}/${goArch}, \\S+, \\S+$`));
    // with -quiet nothing is printed at start
    const port2 = await freePort();
    const q = await run(`.:${port2} {\n    whoami\n}\n`, { port: port2 });
    await assertServesWhoami(port2);
    assert.equal(q.stdoutText(), '');
  });

  it('a port already in use: Listen error, exit 1', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ port, exclusive: true }, () => r()));
    try {
      const { p, code } = await runToExit(`.:${port} {\n    whoami\n}\n`, {});
      assert.equal(code, 1);
      assert.equal(p.stderrText(), `Listen: listen tcp :${port}: bind: address already in use\n`);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('-pidfile writes PID and a newline (mode 0644), removed on SIGTERM', async () => {
    const port = await freePort();
    const dir = tempDir();
    const pidfile = join(dir, 'tsdns.pid');
    const p = await run(`.:${port} {\n    whoami\n}\n`, { args: ['-pidfile', pidfile], port });
    assert.ok(!p.exited, p.stderrText());
    assert.equal(readFileSync(pidfile, 'utf8'), `${p.pid}\n`);
    const { statSync, existsSync } = await import('node:fs');
    assert.equal(statSync(pidfile).mode & 0o777, 0o644 & ~process.umask());
    p.kill('SIGTERM');
    const st = await p.waitForExit();
    assert.equal(st.code, 0);
    assert.equal(existsSync(pidfile), false, 'pidfile removed');
  });

  it('the dns server refuses what no block serves when -dns.port moves the default', async () => {
    const port = await freePort();
    const p = await run(`example.org {\n    whoami\n}\n`, { args: ['-dns.port', String(port)], port });
    assert.ok(!p.exited, p.stderrText());
    const r = await queryUdp(HOST, port, makeQuery('example.net.', 'A'));
    assert.equal(r.msg.flags & 0xf, RCODE.REFUSED);
  });
});
