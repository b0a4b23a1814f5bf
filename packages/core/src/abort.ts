/**
 * Watching a query's AbortSignal cheaply. Many queries share one signal (the
 * server's, when no `cancel` plugin narrows it); one `abort` listener per
 * query would make every add/remove walk all the others (EventTarget lists
 * are linear, so the cost grows with the queries in flight) and trip Node's
 * MaxListeners warning. Instead each signal gets one listener while anything
 * watches it, and the watchers sit in a Set.
 */

/** Something to stop when its signal aborts. */
export interface Abortable {
  onAbort(signal: AbortSignal): void;
}

interface Watch {
  readonly set: Set<Abortable>;
  readonly listener: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/** Calls `w.onAbort(signal)` when `signal` aborts, until `unwatchAbort`. */
export function watchAbort(signal: AbortSignal, w: Abortable): void {
  let wt = watches.get(signal);
  if (wt === undefined) {
    const set = new Set<Abortable>();
    const listener = (): void => {
      watches.delete(signal);
      const all = [...set];
      set.clear();
      for (const x of all) x.onAbort(signal);
    };
    wt = { set, listener };
    watches.set(signal, wt);
    signal.addEventListener('abort', listener, { once: true });
  }
  wt.set.add(w);
}

/** Stops watching; the signal loses its listener when nobody watches it any more. */
export function unwatchAbort(signal: AbortSignal, w: Abortable): void {
  const wt = watches.get(signal);
  if (wt === undefined) return;
  wt.set.delete(w);
  if (wt.set.size === 0) {
    watches.delete(signal);
    signal.removeEventListener('abort', wt.listener);
  }
}
