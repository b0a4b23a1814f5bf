/**
 * The errors plugin's handler: logs the error a plugin further down the
 * chain returned (a thrown PluginError), optionally consolidating errors that
 * match a pattern into one summary line per period.
 */
import {
  formatGoDurationNs,
  isPromise,
  nextOrFailure,
  pluginLogger,
  PluginError,
  Request,
  type Context,
  type Handler,
  type Logger,
  type Msg,
  type ResponseWriter,
} from '@tsdns/core';
import type { GoRegexp } from './re2.js';

/** Levels a consolidated pattern can log at. */
export type ConsolidateLevel = 'warning' | 'error' | 'info' | 'debug';

/** One `consolidate DURATION REGEXP [LEVEL] [show_first]` line. */
export interface ConsolidatePattern {
  /** The period in nanoseconds (as Go's time.Duration). */
  readonly periodNs: bigint;
  readonly pattern: GoRegexp;
  readonly level: ConsolidateLevel;
  readonly showFirst: boolean;
}

/** Timers: injectable for tests; the handler unrefs what it gets when it can. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const MAX_TIMEOUT = 0x7fffffff; // setTimeout's largest delay

/** Node's timers, split into steps for periods beyond setTimeout's 24.8-day limit; handles are unref'd. */
const nodeTimers: TimerApi = {
  setTimeout(fn: () => void, ms: number): unknown {
    const handle: { t: NodeJS.Timeout | undefined } = { t: undefined };
    const arm = (left: number): void => {
      const step = Math.min(Math.max(left, 0), MAX_TIMEOUT);
      handle.t = setTimeout(() => (left - step > 0 ? arm(left - step) : fn()), step);
      handle.t.unref();
    };
    arm(ms);
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout((handle as { t: NodeJS.Timeout | undefined }).t);
  },
};

interface PatternState {
  readonly p: ConsolidatePattern;
  readonly periodMs: number;
  readonly periodText: string;
  readonly logf: (msg: string) => void;
  count: number;
  timer: unknown;
  pending: boolean;
}

export interface ErrorHandlerOptions {
  /** Logger for `plugin/errors: ...` lines (default: the plugin logger). */
  logger?: Logger;
  timers?: TimerApi;
}

/** The errors plugin's handler (CoreDNS's `errorHandler`). */
export class ErrorHandler implements Handler {
  readonly name = 'errors';
  /** Set when the chain is built (CoreDNS assigns `Next` the same way). */
  next: Handler | undefined = undefined;
  readonly patterns: readonly ConsolidatePattern[];
  private readonly states: PatternState[];
  private readonly logger: Logger;
  private readonly timers: TimerApi;
  private stopped = false;

  constructor(patterns: readonly ConsolidatePattern[], options: ErrorHandlerOptions = {}) {
    this.patterns = patterns;
    this.logger = options.logger ?? pluginLogger('errors');
    this.timers = options.timers ?? nodeTimers;
    const levelFn = (level: ConsolidateLevel): ((msg: string) => void) => {
      const l = this.logger;
      switch (level) {
        case 'warning':
          return (m) => l.warning(m);
        case 'info':
          return (m) => l.info(m);
        case 'debug':
          return (m) => l.debug(m);
        default:
          return (m) => l.error(m);
      }
    };
    this.states = patterns.map((p) => {
      const whole = p.periodNs / 1_000_000n;
      return {
        p,
        periodMs: Number(whole) + Number(p.periodNs - whole * 1_000_000n) / 1e6,
        periodText: formatGoDurationNs(p.periodNs),
        logf: levelFn(p.level),
        count: 0,
        timer: undefined,
        pending: false,
      };
    });
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    // no closures on the way through: a synchronous chain costs one call
    let res: number | Promise<number>;
    try {
      res = nextOrFailure(this.name, this.next, ctx, w, r);
    } catch (e) {
      this.failed(e, r, w);
    }
    if (isPromise(res)) {
      return res.then(undefined, (e: unknown) => {
        this.failed(e, r, w);
      });
    }
    return res;
  }

  /** An error came back from the chain: log a returned one (a PluginError), then pass it on. */
  private failed(e: unknown, r: Msg, w: ResponseWriter): never {
    // only returned errors are logged; anything else is a panic and unwinds untouched
    if (e instanceof PluginError) this.report(e.rcode, e.message, r, w);
    throw e;
  }

  /** Logs (or counts) one error as CoreDNS: `<rcode> <qname> <qtype>: <error>`. */
  private report(rcode: number, text: string, r: Msg, w: ResponseWriter): void {
    let logf = (m: string): void => this.logger.error(m);
    for (let i = 0; i < this.states.length; i++) {
      const st = this.states[i]!;
      if (!st.p.pattern.matchString(text)) continue;
      if (this.consolidate(st)) return;
      logf = st.logf;
      break;
    }
    const state = new Request(r, w);
    const hasQuestion = r.questions.length > 0;
    const name = hasQuestion ? state.name() : '.';
    const type = hasQuestion ? state.type() : '';
    logf(`${rcode} ${name} ${type}: ${text}`);
  }

  /** Counts an error; false when it must be printed (the first one with show_first, or after stop). */
  private consolidate(st: PatternState): boolean {
    if (this.stopped) return false;
    st.count++;
    if (st.count === 1) {
      st.pending = true;
      st.timer = this.timers.setTimeout(() => {
        st.pending = false;
        this.summary(st);
      }, st.periodMs);
      return !st.p.showFirst;
    }
    return true;
  }

  private summary(st: PatternState): void {
    const cnt = st.count;
    st.count = 0;
    if (cnt === 0) return;
    if (cnt > 1 || !st.p.showFirst) st.logf(`${cnt} errors like '${st.p.pattern.expr}' occurred in last ${st.periodText}`);
  }

  /** Flushes pending summaries and stops consolidating (the shutdown hook). */
  stop(): void {
    this.stopped = true;
    for (const st of this.states) {
      if (!st.pending) continue;
      this.timers.clearTimeout(st.timer);
      st.pending = false;
      this.summary(st);
    }
  }
}
