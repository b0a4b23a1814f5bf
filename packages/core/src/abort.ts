/**
 * Waiting on a query's cancellation cheaply. Many queries share one signal
 * (the server's, when no `cancel` plugin narrows it); one `abort` listener per
 * query would make every add/remove walk all the others (EventTarget lists are
 * linear, so the cost grows with the queries in flight) and trip Node's
 * MaxListeners warning. Instead each signal gets one listener while anything
 * watches it, and the watchers sit in a Set.
 */

/** Why something was aborted: an AbortSignal, or an AbortSource. */
export interface AbortState {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/** Something to stop when what it watches aborts. */
export interface Abortable {
  onAbort(source: AbortState): void;
}

/**
 * A query's cancellation as a plugin waits on it: whether it was aborted and
 * why, and watchers told when it is. `Context.abortSource()` gives it; for
 * plugins that only wait on the query, it is cheaper than `ctx.signal`, which
 * the cancel plugin has to make as a new AbortSignal for each query.
 */
export interface AbortSource extends AbortState {
  /** Calls `w.onAbort(this)` when this aborts (never, when it already has: check `aborted` first). */
  watch(w: Abortable): void;
  unwatch(w: Abortable): void;
}

/** An AbortSignal as an AbortSource: one `abort` listener while anything watches. */
class SignalSource implements AbortSource {
  private readonly watchers = new Set<Abortable>();
  private readonly listener = (): void => {
    const all = [...this.watchers];
    this.watchers.clear();
    for (const w of all) w.onAbort(this);
  };
  constructor(private readonly signal: AbortSignal) {}
  get aborted(): boolean {
    return this.signal.aborted;
  }
  get reason(): unknown {
    return this.signal.reason;
  }
  watch(w: Abortable): void {
    if (this.signal.aborted) return;
    if (this.watchers.size === 0) this.signal.addEventListener('abort', this.listener, { once: true });
    this.watchers.add(w);
  }
  unwatch(w: Abortable): void {
    if (!this.watchers.delete(w)) return;
    if (this.watchers.size === 0) this.signal.removeEventListener('abort', this.listener);
  }
}

const sources = new WeakMap<AbortSignal, AbortSource>();

/** The AbortSource of an AbortSignal (one per signal). */
export function signalSource(signal: AbortSignal): AbortSource {
  let s = sources.get(signal);
  if (s === undefined) sources.set(signal, (s = new SignalSource(signal)));
  return s;
}
