/**
 * The cancel handler: gives the rest of the chain a context whose signal is
 * aborted after a deadline, and aborted anyway once the chain returned
 * (CoreDNS's `context.WithTimeout` + `cancel()`).
 *
 * The signal is made lazily: a chain that never looks at `ctx.signal` (most
 * synchronous chains) costs one small object and no timer, no
 * AbortController and no microtask.
 */
import { Context, isPromise, nextOrFailure, unwatchAbort, watchAbort, type Abortable, type Handler, type Msg, type ResponseWriter } from '@tsdns/core';

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

/** The deadline of one query; creates its AbortController on first use. */
export class Deadline implements Abortable {
  private readonly parent: Context;
  private readonly ms: number;
  private ac: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The parent's signal while this deadline watches it. */
  private parentSignal: AbortSignal | undefined;
  private finished = false;

  constructor(parent: Context, ms: number) {
    this.parent = parent;
    this.ms = ms;
  }

  /** The narrowed signal: aborted by the parent, by the deadline, or when the chain returned. */
  signal(): AbortSignal {
    if (this.ac !== undefined) return this.ac.signal;
    const ac = (this.ac = new AbortController());
    if (this.finished) {
      ac.abort(canceled());
      return ac.signal;
    }
    const parent = this.parent.signal;
    if (parent.aborted) {
      ac.abort(parent.reason);
      return ac.signal;
    }
    // the parent is often the server's signal, shared by every query in flight
    this.parentSignal = parent;
    watchAbort(parent, this);
    this.timer = setTimeout(() => this.abort(deadlineExceeded()), this.ms);
    this.timer.unref();
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

  /** The parent signal aborted. */
  onAbort(signal: AbortSignal): void {
    this.parentSignal = undefined; // no longer watched
    this.abort(signal.reason);
  }

  private abort(reason: unknown): void {
    this.cleanup();
    if (this.ac !== undefined && !this.ac.signal.aborted) this.ac.abort(reason);
  }

  private cleanup(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.parentSignal !== undefined) unwatchAbort(this.parentSignal, this);
    this.parentSignal = undefined;
  }

  /** The chain returned: abort (if anyone listens) and release the timer. */
  finish(): void {
    this.finished = true;
    if (this.ac === undefined) return; // nobody asked for the signal: nothing to do
    this.cleanup();
    if (!this.ac.signal.aborted) this.ac.abort(canceled());
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
