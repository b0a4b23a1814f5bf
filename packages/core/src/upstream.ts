/**
 * Resolving through the server itself (CoreDNS's `plugin/pkg/upstream`): a
 * plugin that needs another name resolved — a CNAME target outside its zone,
 * for instance — sends a new query down the same server's routing and chains.
 */
import type { Context } from './context.js';
import type { Request } from './request.js';
import type { ConnWriter } from './server.js';
import { isPromise } from './plugin.js';
import type { Msg } from './wire/message.js';
import type { Address, TransportName } from './writer.js';

/** Nested self-lookups allowed per query before giving up (a CNAME loop across plugins). */
export const MAX_SELF_LOOKUPS = 8;

/** A writer that keeps the reply instead of sending it (CoreDNS's nonwriter). */
export class NonWriter implements ConnWriter {
  msg: Msg | undefined = undefined;
  readonly remote: Address;
  readonly local: Address;
  readonly transport: TransportName;
  readonly proto: 'udp' | 'tcp';
  constructor(like: { remote: Address; local: Address; transport: TransportName; proto: 'udp' | 'tcp' }) {
    this.remote = like.remote;
    this.local = like.local;
    this.transport = like.transport;
    this.proto = like.proto;
  }
  send(m: Msg): void {
    this.msg = m;
  }
  writeMsg(m: Msg): void {
    this.msg = m;
  }
  write(): void {
    // raw replies are not captured; self-lookups go through writeMsg
  }
}

/**
 * Looks up `name`/`type` through the server that is serving `ctx`, with the
 * original request's flags and EDNS0 record. Resolves with the reply, or
 * undefined when there is no server (embedded use) or too many nested lookups.
 */
export async function lookupSelf(ctx: Context, state: Request, name: string, type: string): Promise<Msg | undefined> {
  const server = ctx.dnsServer;
  if (!server || ctx.selfLookups >= MAX_SELF_LOOKUPS) return undefined;
  const r = state.req;
  const q = r.questions[0];
  const req: Msg = {
    id: r.id,
    type: 'query',
    flags: r.flags,
    questions: [{ name, type, class: q?.class ?? 'IN' }],
    answers: [],
    authorities: [],
    additionals: r.additionals.slice(),
  };
  const nw = new NonWriter(state.w);
  const depth = ctx.selfLookups + 1;
  const p = server.serveMsg(req, nw, performance.now(), depth, ctx.signal);
  if (p !== undefined && isPromise(p)) await p;
  return nw.msg;
}
