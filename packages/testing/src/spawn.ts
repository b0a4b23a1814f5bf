/**
 * spawnTsdns: runs the real `tsdns` executable on a Corefile written to a
 * temporary directory, waits until it answers, and collects its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryTcp, queryUdp, type DnsReply } from './client.js';
import { makeQuery, type QueryOptions } from './query.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root (this file is packages/testing/dist/src/spawn.js). */
export const REPO_ROOT = resolve(here, '..', '..', '..', '..');

/** The `tsdns` executable run by spawnTsdns (env TSDNS_BIN overrides). */
export function tsdnsBin(): string {
  return process.env.TSDNS_BIN ?? join(REPO_ROOT, 'packages', 'cli', 'bin', 'tsdns.js');
}

export interface SpawnOptions {
  /** Extra command-line arguments, after `-quiet` and `-conf FILE`. */
  args?: string[];
  /** Environment additions/overrides (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /**
   * How the Corefile is handed over: `flag` (default) writes it to a temp file
   * and passes `-conf FILE`; `cwd` writes it as `./Corefile` in the working
   * directory and passes nothing; `none` writes nothing and passes nothing.
   */
  conf?: 'flag' | 'cwd' | 'none';
  /** Pass `-quiet` (default true). */
  quiet?: boolean;
  /** Working directory (default: the temp directory holding the Corefile). */
  cwd?: string;
  /** Text piped to the process's standard input (then closed). Default: no stdin. */
  stdin?: string;
  /** The DNS port to probe. Default: discovered from the process's sockets (Linux). */
  port?: number;
  /** Address to probe (default 127.0.0.1). */
  host?: string;
  /**
   * Wait for a reply to a probe query (default true); any reply counts, even
   * REFUSED. With false, waiting ends when a TCP socket is listening.
   */
  probe?: boolean;
  /** Give up starting after this long (default 15000 ms): the process is killed and the promise rejects. */
  timeoutMs?: number;
  /** The executable (default `tsdnsBin()`). */
  bin?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WaitLineOptions {
  /** `stdout` (default), `stderr` or `any`. */
  stream?: 'stdout' | 'stderr' | 'any';
  /** Only consider lines after this many lines (see `mark()`). Default 0. */
  after?: number;
  timeoutMs?: number;
}

export interface TsdnsProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The DNS port probed (the one given, or the first UDP port found). */
  readonly port: number | undefined;
  /** Probe host (127.0.0.1). */
  readonly host: string;
  /** Temp directory of this process (removed at exit of the test process). */
  readonly dir: string;
  /** Where the Corefile was written ('' with conf: 'none'). */
  readonly corefilePath: string;
  /** Standard output lines so far (a last line without newline included). */
  stdout(): string[];
  stderr(): string[];
  stdoutText(): string;
  stderrText(): string;
  /** Number of stdout lines so far, for `waitForLine({after})`. */
  mark(stream?: 'stdout' | 'stderr'): number;
  /** Resolves with the first line matching; rejects on timeout or exit. */
  waitForLine(match: string | RegExp, opts?: WaitLineOptions): Promise<string>;
  /** True once the process exited. */
  readonly exited: boolean;
  readonly exitStatus: ExitStatus | undefined;
  /** Resolves when the process exits; rejects after `timeoutMs` (default 10000). */
  waitForExit(timeoutMs?: number): Promise<ExitStatus>;
  /** Sends a signal (default SIGTERM). False if the process is gone. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Overwrites the Corefile (before a SIGUSR1). */
  writeCorefile(text: string): void;
  /** VmRSS in kB (Linux), or undefined. */
  rssKb(): number | undefined;
  /** Listening UDP/TCP ports of the process (Linux). */
  listeningPorts(): { udp: number[]; tcp: number[] };
  /** Queries the server (UDP, or TCP with `tcp: true`) at host:port. */
  query(name: string, type?: string, opts?: QueryOptions & { tcp?: boolean; timeoutMs?: number; port?: number }): Promise<DnsReply>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    for (const d of dirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

/** Kills (SIGKILL) every process started by spawnTsdns that is still running, and waits for them. */
export async function killAllTsdns(): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const p of live) {
    waits.push(new Promise((r) => p.once('exit', () => r())));
    try {
      p.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  await Promise.all(waits);
}

/** Socket inodes of a process. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(l);
      if (m) out.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  return out;
}

function portsFromProc(file: string, inodes: Set<string>, listenOnly: boolean): number[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (!inodes.has(f[9]!)) continue;
    if (listenOnly && f[3] !== '0A') continue;
    const port = parseInt(f[1]!.split(':')[1]!, 16);
    if (!out.includes(port)) out.push(port);
  }
  return out;
}

/** Listening TCP ports and bound UDP ports of a process, from /proc (Linux only; empty elsewhere). */
export function listeningPorts(pid: number): { udp: number[]; tcp: number[] } {
  const inodes = socketInodes(pid);
  if (inodes.size === 0) return { udp: [], tcp: [] };
  const udp = [...portsFromProc('/proc/net/udp', inodes, false), ...portsFromProc('/proc/net/udp6', inodes, false)];
  const tcp = [...portsFromProc('/proc/net/tcp', inodes, true), ...portsFromProc('/proc/net/tcp6', inodes, true)];
  return { udp: [...new Set(udp)].sort((a, b) => a - b), tcp: [...new Set(tcp)].sort((a, b) => a - b) };
}

/** VmRSS of a process in kB (Linux), or undefined. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

class Output {
  text = '';
  private readonly listeners = new Set<() => void>();
  push(s: string): void {
    this.text += s;
    for (const l of this.listeners) l();
  }
  lines(): string[] {
    if (this.text === '') return [];
    const ls = this.text.split('\n');
    if (ls[ls.length - 1] === '') ls.pop();
    return ls;
  }
  /** Complete lines only (for matching while the process runs). */
  completeLines(): string[] {
    const ls = this.text.split('\n');
    ls.pop();
    return ls;
  }
  on(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

function matches(line: string, m: string | RegExp): boolean {
  return typeof m === 'string' ? line.includes(m) : m.test(line);
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the real `tsdns` (`node packages/cli/bin/tsdns.js -quiet -conf FILE
 * ...args`) on `corefile` (null: no Corefile at all) and resolves once it
 * answers a probe query — or as soon as it exits (check `exited`), so that
 * start-up failures can be asserted on.
 */
export async function spawnTsdns(corefile: string | null, opts: SpawnOptions = {}): Promise<TsdnsProcess> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'tsdns-test-'));
  dirs.add(dir);
  const conf = opts.conf ?? 'flag';
  const cwd = opts.cwd ?? dir;
  let corefilePath = '';
  if (conf === 'flag' && corefile !== null) corefilePath = join(dir, 'Corefile.test');
  else if (conf === 'cwd' && corefile !== null) corefilePath = join(cwd, 'Corefile');
  if (corefilePath !== '') writeFileSync(corefilePath, corefile!);

  const args = [opts.bin ?? tsdnsBin()];
  if (opts.quiet ?? true) args.push('-quiet');
  if (conf === 'flag' && corefilePath !== '') args.push('-conf', corefilePath);
  args.push(...(opts.args ?? []));

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc = spawn(process.execPath, args, { cwd, env, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  live.add(proc);
  const out = new Output();
  const err = new Output();
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => out.push(d));
  proc.stderr!.on('data', (d: string) => err.push(d));
  let exitStatus: ExitStatus | undefined;
  const exitWaiters = new Set<() => void>();
  // 'close' fires after the output streams are drained, so output is complete at exit
  const exited = new Promise<ExitStatus>((res) => {
    proc.on('close', (code, signal) => {
      exitStatus = { code, signal };
      live.delete(proc);
      for (const w of exitWaiters) w();
      res(exitStatus);
    });
  });
  proc.on('error', (e) => err.push(`spawn error: ${e.message}\n`));
  if (opts.stdin !== undefined) {
    proc.stdin!.on('error', () => undefined);
    proc.stdin!.end(opts.stdin);
  }

  const host = opts.host ?? '127.0.0.1';
  let port = opts.port;
  const timeoutMs = opts.timeoutMs ?? 15000;
  const deadline = Date.now() + timeoutMs;
  const pid = proc.pid ?? -1;

  const handle: TsdnsProcess = {
    proc,
    pid,
    get port() {
      return port;
    },
    host,
    dir,
    corefilePath,
    stdout: () => out.lines(),
    stderr: () => err.lines(),
    stdoutText: () => out.text,
    stderrText: () => err.text,
    mark: (stream = 'stdout') => (stream === 'stdout' ? out : err).completeLines().length,
    waitForLine(match, o = {}) {
      const stream = o.stream ?? 'stdout';
      const after = o.after ?? 0;
      const tmo = o.timeoutMs ?? 10000;
      const srcs = stream === 'any' ? [out, err] : stream === 'stdout' ? [out] : [err];
      const find = (final: boolean): string | undefined => {
        for (const s of srcs) {
          const ls = final ? s.lines() : s.completeLines();
          for (let i = after; i < ls.length; i++) if (matches(ls[i]!, match)) return ls[i];
        }
        return undefined;
      };
      return new Promise((res, rej) => {
        const offs: (() => void)[] = [];
        const done = (): void => {
          clearTimeout(t);
          for (const f of offs) f();
          exitWaiters.delete(onExit);
        };
        const check = (): void => {
          const l = find(false);
          if (l !== undefined) {
            done();
            res(l);
          }
        };
        const onExit = (): void => {
          const l = find(true);
          done();
          if (l !== undefined) res(l);
          else rej(new Error(`tsdns exited (${JSON.stringify(exitStatus)}) before printing ${String(match)}\nstdout:\n${out.text}\nstderr:\n${err.text}`));
        };
        const t = setTimeout(() => {
          done();
          rej(new Error(`timeout waiting for ${String(match)}\nstdout:\n${out.text}\nstderr:\n${err.text}`));
        }, tmo);
        for (const s of srcs) offs.push(s.on(check));
        exitWaiters.add(onExit);
        if (exitStatus) onExit();
        else check();
      });
    },
    get exited() {
      return exitStatus !== undefined;
    },
    get exitStatus() {
      return exitStatus;
    },
    async waitForExit(tmo = 10000) {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`tsdns (pid ${pid}) did not exit within ${tmo} ms\nstdout:\n${out.text}\nstderr:\n${err.text}`)), tmo);
      });
      try {
        return await Promise.race([exited, t]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill(signal = 'SIGTERM') {
      if (exitStatus) return false;
      try {
        return proc.kill(signal);
      } catch {
        return false;
      }
    },
    writeCorefile(text) {
      if (corefilePath === '') throw new Error('this process has no Corefile file (conf: none)');
      writeFileSync(corefilePath, text);
    },
    rssKb: () => rssKb(pid),
    listeningPorts: () => listeningPorts(pid),
    query(name, type = 'A', o = {}) {
      const p = o.port ?? port;
      if (p === undefined) return Promise.reject(new Error('no port known for this tsdns process'));
      const m = makeQuery(name, type, o);
      const co = o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs };
      return o.tcp ? queryTcp(host, p, m, co) : queryUdp(host, p, m, co);
    },
  };

  // wait until it answers (or exits)
  const probe = opts.probe ?? true;
  while (!exitStatus) {
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`tsdns did not become ready within ${timeoutMs} ms\nstdout:\n${out.text}\nstderr:\n${err.text}`);
    }
    if (port === undefined) {
      const lp = listeningPorts(pid);
      if (probe) port = lp.udp[0];
      else if (lp.tcp.length > 0) port = lp.tcp[0];
    }
    if (port !== undefined) {
      if (!probe) {
        const lp = listeningPorts(pid);
        if (lp.tcp.includes(port) || process.platform !== 'linux') break;
      } else {
        try {
          await queryUdp(host, port, makeQuery('tsdns-probe.test.', 'A'), { timeoutMs: 150 });
          break;
        } catch {
          // not ready yet
        }
        continue;
      }
    }
    await Promise.race([delay(25), exited]);
  }
  return handle;
}
