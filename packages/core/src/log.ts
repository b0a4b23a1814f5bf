/**
 * Logging in CoreDNS's text format (`[INFO] plugin/NAME: message`, no
 * timestamps, to standard output) through winston.
 */
import { createRequire } from 'node:module';
import type winstonModule from 'winston';

const LEVELS = { fatal: 0, error: 1, warning: 2, info: 3, debug: 4 } as const;
type Level = keyof typeof LEVELS;
const TAGS: Record<Level, string> = { fatal: '[FATAL] ', error: '[ERROR] ', warning: '[WARNING] ', info: '[INFO] ', debug: '[DEBUG] ' };

/** Where log lines go; tests can replace it. */
export interface LogSink {
  write(line: string): void;
}

let sink: LogSink = { write: (line) => process.stdout.write(line) };

let baseLogger: winstonModule.Logger | undefined;

/** Like Go's log package: a message that already ends in a newline gets no second one. */
function writeLine(line: string): void {
  sink.write(line.endsWith('\n') ? line : line + '\n');
}

/**
 * The winston logger, created on first use: loading winston costs tens of
 * milliseconds that a server which has not logged anything yet need not pay
 * before answering its first query.
 */
function base(): winstonModule.Logger {
  if (baseLogger) return baseLogger;
  const winston = createRequire(import.meta.url)('winston') as typeof winstonModule;
  class StdoutTransport extends winston.transports.Console {
    override log(info: { [key: symbol]: unknown; message?: unknown }, callback: () => void): void {
      writeLine(info[Symbol.for('message')] as string);
      callback();
    }
  }
  baseLogger = winston.createLogger({
    levels: LEVELS,
    level: 'debug',
    format: winston.format.printf((info) => `${TAGS[info.level as Level] ?? ''}${String(info.message)}`),
    transports: [new StdoutTransport()],
  });
  return baseLogger;
}

let debugOn = false;

/** Turns `[DEBUG]` output on or off (the `debug` plugin sets it). */
export function setDebug(on: boolean): void {
  debugOn = on;
}
export function isDebug(): boolean {
  return debugOn;
}

let notices = true;

/** Turns `Logger.notice` lines on or off in this process (off in workers 2..N of `-workers N`). */
export function setNotices(on: boolean): void {
  notices = on;
}

/** Redirects log output (for tests); returns the previous sink. */
export function setLogSink(s: LogSink): LogSink {
  const prev = sink;
  sink = s;
  return prev;
}

export interface Logger {
  info(msg: string): void;
  /**
   * An `[INFO]` line about the whole server rather than one process (reloading,
   * going into lameduck): under `-workers N` every worker runs the same
   * lifecycle, and only worker 1 prints these, so that they appear once.
   */
  notice(msg: string): void;
  warning(msg: string): void;
  error(msg: string): void;
  /** Only printed when a `debug` server block is active. */
  debug(msg: string): void;
  /** Logs and exits the process with status 1. */
  fatal(msg: string): never;
}

/**
 * Writes one log line. Through winston once it is loaded; before that (the
 * start-up, until `warmUpLater` loads it) the same line is written directly,
 * so that a line logged while starting (the reload plugin's hash) does not
 * load winston in front of the first queries.
 */
function emit(level: Level, message: string): void {
  if (baseLogger !== undefined) {
    baseLogger.log(level, message);
    return;
  }
  writeLine(TAGS[level] + message);
  if (!loadScheduled) {
    loadScheduled = true;
    warmUpLater(preloadLogger);
  }
}
let loadScheduled = false;

class PrefixLogger implements Logger {
  private readonly prefix: string;
  constructor(prefix: string) {
    this.prefix = prefix;
  }
  info(msg: string): void {
    emit('info', this.prefix + msg);
  }
  notice(msg: string): void {
    if (notices) this.info(msg);
  }
  warning(msg: string): void {
    emit('warning', this.prefix + msg);
  }
  error(msg: string): void {
    emit('error', this.prefix + msg);
  }
  debug(msg: string): void {
    if (debugOn) emit('debug', this.prefix + msg);
  }
  fatal(msg: string): never {
    emit('fatal', this.prefix + msg);
    process.exit(1);
  }
}

/** The server's logger (`[INFO] message`). */
export const log: Logger = new PrefixLogger('');

/** A plugin's logger (`[INFO] plugin/NAME: message`). */
export function pluginLogger(name: string): Logger {
  return new PrefixLogger(`plugin/${name}: `);
}

/** Loads the logging backend now (the CLI does it with `warmUpLater` once the server answers). */
export function preloadLogger(): void {
  base();
}

/** How long after start-up `warmUpLater` work runs. */
export const WARMUP_DELAY_MS = 1000;

/**
 * Runs `fn` (loading winston, prom-client: tens of milliseconds each) a moment
 * after the server started answering, so that it does not stand in front of
 * the first queries. What needs them earlier (a log line, a scrape) loads
 * them then.
 */
export function warmUpLater(fn: () => void): void {
  setTimeout(fn, WARMUP_DELAY_MS).unref();
}
