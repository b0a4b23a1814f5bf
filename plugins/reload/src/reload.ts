/**
 * The Corefile poller of the reload plugin (CoreDNS's plugin/reload): one
 * per process. Each period it reads the Corefile the way the process loaded
 * it, fingerprints it (hash.ts) and, when the fingerprint changed, reloads
 * through the process reloader — the same serialized path as SIGUSR1, which
 * keeps the listening sockets and keeps the old configuration serving when
 * the new one fails.
 */
import { pluginLogger, processReloader, type CorefileSource, type ProcessReloader, type ServerBlock } from '@tsdns/core';
import { hashBlocks, parseSyntaxOnly } from './hash.js';
import { reloadFailed, reloadInfo } from './metrics.js';

const log = pluginLogger('reload');

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What one `reload` directive contributes to the instance being started. */
export interface ReloadArm {
  /** Poll period in ms (INTERVAL with the jitter drawn at setup). */
  readonly intervalMs: number;
  /** Index and content of the server block that holds the directive (to recognise the running Corefile). */
  readonly index: number;
  readonly block: ServerBlock;
  /** Set when the instance's poller starts: every arm of one instance gets the same group. */
  group: object | undefined;
}

export class Poller {
  /** Hash of the running configuration ('' when unknown: the first successful read triggers a reload). */
  sha = '';
  readonly intervalMs: number;
  readonly group: object;
  private readonly reloader: ProcessReloader;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private _stopped = false;
  /** Resolves when the check in progress (if any) is done; for tests. */
  current: Promise<void> = Promise.resolve();

  constructor(reloader: ProcessReloader, intervalMs: number, group: object) {
    this.reloader = reloader;
    this.intervalMs = intervalMs;
    this.group = group;
  }

  get stopped(): boolean {
    return this._stopped;
  }

  start(): void {
    if (this._stopped || this.timer) return;
    this.timer = setInterval(() => {
      if (this.busy || this._stopped) return; // a tick while busy is dropped, as Go's ticker does
      this.current = this.check();
    }, Math.max(1, this.intervalMs));
    this.timer.unref();
  }

  stop(): void {
    this._stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One period: read, hash, reload if changed. */
  async check(): Promise<void> {
    this.busy = true;
    try {
      let src: CorefileSource;
      try {
        src = this.reloader.read();
      } catch {
        return; // unreadable now; try again next period
      }
      let sha: string;
      try {
        sha = hashBlocks(parseSyntaxOnly(src.text, src.filename), src.filename);
      } catch (e) {
        log.warning(`Corefile parse failed: ${message(e)}`);
        return;
      }
      if (sha === this.sha) return;
      if (this.sha !== '') reloadInfo.remove('sha512', this.sha);
      // do not try the same Corefile again, even if it is wrong
      this.sha = sha;
      if (this._stopped) return;
      let err: unknown;
      let failed = false;
      try {
        await this.reloader.reload(src);
      } catch (e) {
        failed = true;
        err = e;
      }
      reloadInfo.labels('sha512', sha).set(1);
      if (failed) {
        log.error(`Corefile changed but reload failed: ${message(err)}`);
        reloadFailed.inc();
        return;
      }
      // the new instance runs its own poller (if it still has `reload`)
      this.stop();
    } finally {
      this.busy = false;
    }
  }
}

let running: Poller | undefined;
/** The instance (group) whose poller is about to start, once the process's reloader is known. */
let pending: object | undefined;

/** The process's poller, if one runs. */
export function currentPoller(): Poller | undefined {
  return running;
}

/** Arms of the instance being started (filled by startup hooks, taken by the first startup-complete hook). */
let starting: ReloadArm[] = [];

/** Startup hook of one `reload` directive. */
export function armStarting(arm: ReloadArm): void {
  starting.push(arm);
}

/** Restart-failed hook: the instance that was being started is gone. */
export function dropStarting(): void {
  starting = [];
}

/** Shutdown hook of one `reload` directive: stops the poller if it belongs to that instance. */
export function stopFor(arm: ReloadArm): void {
  if (arm.group !== undefined && pending === arm.group) pending = undefined;
  if (running && arm.group !== undefined && running.group === arm.group) {
    running.stop();
    running = undefined;
  }
}

/** Stops whatever poller runs (process exit). */
export function stopAll(): void {
  pending = undefined;
  running?.stop();
  running = undefined;
}

/** True when the running Corefile's blocks holding `reload` are what `blocks` has at the same places. */
/**
 * Startup-complete hook of one `reload` directive. The first one of an
 * instance replaces the process's poller with one for that instance (the
 * last setup's interval wins) and, once the process's reloader is in place,
 * logs the running configuration's hash and starts polling.
 */
export function instanceStarted(): void {
  if (starting.length === 0) return; // another directive of this instance already did it
  const arms = starting;
  starting = [];
  const group = {};
  for (const a of arms) a.group = group;
  const intervalMs = arms[arms.length - 1]!.intervalMs;
  running?.stop();
  running = undefined;
  pending = group;
  const begin = (): void => {
    if (pending !== group) return; // another instance started, or this one stopped, meanwhile
    pending = undefined;
    const reloader = processReloader();
    if (!reloader) return; // embedded (no executable): nothing to poll
    const poller = new Poller(reloader, intervalMs, group);
    running = poller;
    // the running configuration's hash, from the Corefile it was built from
    try {
      const src = reloader.current();
      poller.sha = hashBlocks(parseSyntaxOnly(src.text, src.filename), src.filename);
      log.info(`Running configuration SHA512 = ${poller.sha}`);
    } catch {
      // not parsable (cannot happen for a running configuration): polling reports it
    }
    poller.start();
  };
  begin();
}
