/**
 * The cancel handler: gives the rest of the chain a context whose signal is
 * aborted after a deadline, and aborted anyway once the chain returned
 * (CoreDNS's `context.WithTimeout` + `cancel()`).
 *
 * The signal is made lazily: a chain that never looks at `ctx.signal` (most
 * synchronous chains) costs one small object and no timer, no
 * AbortController and no microtask.
 */
import { Context, isPromise, nextOrFailure, signalSource, type Abortable, type AbortSource, type AbortState, type Handler, type Msg, type ResponseWriter } from '@tsdns/core';

// One reason object each, as Go's context.DeadlineExceeded and context.Canceled
// are single values (and a DOMException is costly to build per query).
const DEADLINE_EXCEEDED = new DOMException('context deadline exceeded', 'TimeoutError');
const CANCELED = new DOMException('context canceled', 'AbortError');

/** The abort reason when the deadline passed (Go's `context.DeadlineExceeded`): a `TimeoutError` DOMException. */
export function deadlineExceeded(): DOMException {
  return DEADLINE_EXCEEDED;
}

/** The abort reason once the chain returned (Go's `context.Canceled`): an `AbortError` DOMException. */
export function canceled(): DOMException {
  return CANCELED;
}

/**
 * The deadline of one query, as an AbortSource (what forward waits on) and,
 * on first use, an AbortSignal. Nothing is armed until someone waits: a chain
 * that never looks at the query's cancellation costs one small object, and one
 * that only waits on `ctx.abortSource()` no AbortController.
 */
export class Deadline implements Abortable, AbortSource {
  private readonly parent: Context;
  private readonly ms: number;
  private ac: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The parent's cancellation while this deadline watches it. */
  private parentSource: AbortSource | undefined;
  private watchers: Set<Abortable> | undefined;
  private done = false;
  private why: unknown = undefined;

  constructor(parent: Context, ms: number) {
    this.parent = parent;
    this.ms = ms;
  }

  get aborted(): boolean {
    return this.done;
  }

  get reason(): unknown {
    return this.why;
  }

  watch(w: Abortable): void {
    if (this.done || !this.arm()) return;
    (this.watchers ??= new Set()).add(w);
  }

  unwatch(w: Abortable): void {
    this.watchers?.delete(w);
  }

  /** The narrowed signal: aborted by the parent, by the deadline, or when the chain returned. */
  signal(): AbortSignal {
    if (this.ac !== undefined) return this.ac.signal;
    const ac = (this.ac = new AbortController());
    if (this.done || !this.arm()) ac.abort(this.why);
    return ac.signal;
  }

  /** True once the signal was created (someone in the chain looked at it). */
  get used(): boolean {
    return this.ac !== undefined;
  }

  /** True while the deadline timer is armed. */
  get timerPending(): boolean {
    return this.timer !== undefined;
  }

  /** Starts the deadline and watches the parent (once); false when that aborted this at once. */
  private arm(): boolean {
    if (this.timer !== undefined || this.parentSource !== undefined) return true;
    const parent = this.parent.abortSource();
    if (parent.aborted) {
      this.abort(parent.reason);
      return false;
    }
    this.parentSource = parent;
    parent.watch(this);
    this.timer = setTimeout(() => this.abort(deadlineExceeded()), this.ms);
    this.timer.unref();
    return true;
  }

  /** The parent aborted. */
  onAbort(parent: AbortState): void {
    this.parentSource = undefined; // no longer watched
    this.abort(parent.reason);
  }

  private abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.why = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.parentSource !== undefined) this.parentSource.unwatch(this);
    this.parentSource = undefined;
    const ws = this.watchers;
    this.watchers = undefined;
    if (ws !== undefined) for (const w of ws) w.onAbort(this);
    if (this.ac !== undefined && !this.ac.signal.aborted) this.ac.abort(reason);
  }

  /** The chain returned: abort what waits (if anything) and release the timer. */
  finish(): void {
    this.abort(canceled());
  }
}

const DEADLINE = Symbol('tsdns.cancel.deadline');
const OVERRIDE = Symbol('tsdns.cancel.signal');

interface CancelFields {
  [DEADLINE]: Deadline;
  [OVERRIDE]: AbortSignal | undefined;
}

/**
 * Prototype of the derived contexts: a Context whose `signal` is a getter
 * (the deadline's lazily made signal) that a later plugin may still replace.
 */
const CancelContextProto: object = Object.create(Context.prototype, {
  abortSource: {
    value(this: CancelFields): AbortSource {
      const o = this[OVERRIDE];
      return o !== undefined ? signalSource(o) : this[DEADLINE];
    },
    writable: true,
    configurable: true,
  },
  signal: {
    get(this: CancelFields): AbortSignal {
      return this[OVERRIDE] ?? this[DEADLINE].signal();
    },
    set(this: CancelFields, v: AbortSignal) {
      this[OVERRIDE] = v;
    },
    enumerable: true,
    configurable: true,
  },
});

/** A copy of `ctx` whose signal is `d`'s (values and metadata stay shared). */
export function withDeadline(ctx: Context, d: Deadline): Context {
  const c = Object.create(CancelContextProto) as Context & CancelFields;
  Object.assign(c, ctx); // copies the fields; `signal` goes to the setter
  c[OVERRIDE] = undefined;
  c[DEADLINE] = d;
  return c;
}

/** The `cancel` plugin's handler. */
export class Cancel implements Handler {
  readonly name = 'cancel';
  next: Handler | undefined = undefined;
  /** Deadline in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const d = new Deadline(ctx, this.timeoutMs);
    let res: number | Promise<number>;
    try {
      res = nextOrFailure(this.name, this.next, withDeadline(ctx, d), w, r);
    } catch (e) {
      d.finish();
      throw e;
    }
    if (isPromise(res)) {
      return res.then(
        (rc) => {
          d.finish();
          return rc;
        },
        (e: unknown) => {
          d.finish();
          throw e;
        },
      );
    }
    d.finish();
    return res;
  }
}
