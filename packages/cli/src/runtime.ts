/** Pieces of the executable shared by the single process and `-workers N`. */
import { unlinkSync } from 'node:fs';
import { log, VERSION, type Instance } from '@tsdns/core';
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

export function removePidfile(pidfile: string | undefined): void {
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
