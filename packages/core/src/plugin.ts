/**
 * The plugin contract: Handler, Plugin, the rcode convention (ClientWrite),
 * PluginError for "(rcode, error)" returns, and next-delegation.
 */
import type { Context } from './context.js';
import type { ResponseWriter } from './writer.js';
import type { Msg } from './wire/message.js';
import { RCODE } from './wire/constants.js';

/**
 * A handler in a server block's plugin chain. `ServeDNS` keeps CoreDNS's name
 * so plugins port 1:1. It returns the rcode: if it wrote a reply it returns
 * any rcode except SERVFAIL, REFUSED, FORMERR and NOTIMP; returning one of
 * those four means "I wrote nothing, the server must write that error".
 * A handler that finishes without waiting should return the number directly,
 * not a promise: the runtime only awaits real promises.
 */
export interface Handler {
  readonly name: string;
  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number>;
}

/** A plugin wraps the next handler in the chain (undefined for the last one). */
export type Plugin = (next: Handler | undefined) => Handler;

/**
 * False for the four rcodes that mean "nothing was written": SERVFAIL,
 * REFUSED, FORMERR, NOTIMP.
 */
export function clientWrite(rcode: number): boolean {
  return !(rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED || rcode === RCODE.FORMERR || rcode === RCODE.NOTIMP);
}

/**
 * CoreDNS plugins return `(rcode, err)`; in tsdns a handler throws a
 * PluginError for that. The rcode keeps its meaning (for example SERVFAIL:
 * the server writes the error reply) and the message is what the `errors`
 * plugin logs. Any other exception is treated like a Go panic: SERVFAIL and
 * `coredns_panics_total`.
 */
export class PluginError extends Error {
  readonly rcode: number;
  constructor(rcode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginError';
    this.rcode = rcode;
  }

  /** `plugin/NAME: MSG` as CoreDNS's `plugin.Error(name, err)`. */
  static of(plugin: string, rcode: number, message: string): PluginError {
    return new PluginError(rcode, `plugin/${plugin}: ${message}`);
  }
}

/**
 * Calls `next`, or fails with SERVFAIL and `plugin/NAME: no next plugin found`
 * when there is none (CoreDNS's `NextOrFailure`).
 */
export function nextOrFailure(
  name: string,
  next: Handler | undefined,
  ctx: Context,
  w: ResponseWriter,
  r: Msg,
): number | Promise<number> {
  if (next === undefined) throw PluginError.of(name, RCODE.SERVFAIL, 'no next plugin found');
  return next.ServeDNS(ctx, w, r);
}

/** True for thenables (a handler's asynchronous result). */
export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/**
 * Runs `next` and then `done(rcode, error)` whether the chain returned
 * synchronously, asynchronously or threw; `done` returns the final rcode or
 * throws. Keeps synchronous chains synchronous.
 */
export function afterNext(
  call: () => number | Promise<number>,
  done: (rcode: number, err: unknown) => number,
): number | Promise<number> {
  let res: number | Promise<number>;
  try {
    res = call();
  } catch (e) {
    return done(rcodeOfError(e), e);
  }
  if (isPromise(res)) return res.then((rc) => done(rc, undefined), (e: unknown) => done(rcodeOfError(e), e));
  return done(res, undefined);
}

/** The rcode an exception stands for: its PluginError rcode, else SERVFAIL. */
export function rcodeOfError(e: unknown): number {
  return e instanceof PluginError ? e.rcode : RCODE.SERVFAIL;
}

/**
 * A handler that can say whether it is ready to serve (CoreDNS's
 * `ready.Readiness`); the `ready` plugin reports the ones that are not.
 */
export interface Readiness {
  ready(): boolean;
}

export function isReadiness(h: unknown): h is Readiness {
  return typeof (h as { ready?: unknown } | null)?.ready === 'function';
}
