/** Pieces of the executable shared by the single process and `-workers N`. */
import { unlinkSync } from 'node:fs';
import { log, VERSION, type Instance } from '@tsdns/core';
import type { Loaded } from './load.js';
import { TSDNS_VERSION } from './version.js';

/** `linux/amd64, node20.20.2, tsdns-0.1.0` — the second version line. */
export function releaseString(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return `${process.platform}/${arch}, node${process.versions.node}, tsdns-${TSDNS_VERSION}`;
}

export function versionText(): string {
  return `CoreDNS-${VERSION}\n${releaseString()}\n`;
}

/** Go's log.Fatal at start: the message on stderr, exit status 1. */
export function fatal(msg: string): never {
  process.stderr.write(msg + '\n');
  process.exit(1);
}

function removePidfile(pidfile: string | undefined): void {
  if (!pidfile) return;
  try {
    unlinkSync(pidfile);
  } catch {
    // already gone
  }
}

/** Runs every OnShutdown and OnFinalShutdown callback; 4 if one failed (logged), else 0. */
export async function shutdownCallbacks(inst: Instance, signame: string): Promise<number> {
  const errs = [...(await inst.lifecycle.runAll('shutdown')), ...(await inst.lifecycle.runAll('finalShutdown'))];
  for (const e of errs) log.error(`${signame} shutdown: ${e instanceof Error ? e.message : String(e)}`);
  return errs.length > 0 ? 4 : 0;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What the process does on the signals CoreDNS handles; the log lines, exit codes and pidfile handling are shared. */
export interface SignalActions {
  pidfile: string | undefined;
  /** The graceful stop's shutdown callbacks; resolves to the exit code. */
  stop(signame: 'SIGINT' | 'SIGTERM'): Promise<number>;
  /** What still listens is closed after the graceful stop, before the exit. */
  close(signame: 'SIGINT' | 'SIGTERM'): Promise<void>;
  /** An exit without a stop (a second SIGINT, SIGQUIT): what must not outlive the process. */
  kill(): void;
  /** Reads the Corefile again (throws when it cannot). */
  read(): Loaded;
  reload(loaded: Loaded): Promise<void>;
}

/**
 * CoreDNS's signals: SIGINT stops gracefully (a second one quits at once,
 * status 2), SIGTERM stops the servers then exits, SIGQUIT exits at once,
 * SIGHUP is ignored and SIGUSR1 reloads the Corefile.
 */
export function installSignals(a: SignalActions): void {
  let sigints = 0;

  process.on('SIGINT', () => {
    if (sigints++ > 0) {
      log.info('SIGINT: Force quit');
      removePidfile(a.pidfile);
      a.kill();
      process.exit(2);
    }
    log.info('SIGINT: Shutting down');
    removePidfile(a.pidfile);
    void a.stop('SIGINT').then(async (code) => {
      await a.close('SIGINT');
      process.exit(code);
    });
  });

  process.on('SIGTERM', () => {
    log.info('SIGTERM: Shutting down servers then terminating');
    void (async () => {
      const code = await a.stop('SIGTERM');
      removePidfile(a.pidfile);
      await a.close('SIGTERM');
      process.exit(code);
    })();
  });

  process.on('SIGQUIT', () => {
    log.info('SIGQUIT: Quitting process immediately');
    removePidfile(a.pidfile);
    a.kill();
    process.exit(0);
  });

  process.on('SIGHUP', () => {
    // ignored, as in CoreDNS
  });

  process.on('SIGUSR1', () => {
    log.info('SIGUSR1: Reloading');
    let loaded: Loaded;
    try {
      loaded = a.read();
    } catch (e) {
      log.error(`SIGUSR1: loading updated Caddyfile: loading Caddyfile via flag: ${errorText(e)}`);
      return;
    }
    a.reload(loaded).catch((e: unknown) => log.error(`SIGUSR1: ${errorText(e)}`));
  });
}
