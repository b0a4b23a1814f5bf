import {
  AUTHORITATIVE_ANSWER,
  newReply,
  nextOrFailure,
  zonesMatch,
  type Context,
  type Handler,
  type Msg,
  type ResponseWriter,
} from '@tsdns/core';

/**
 * Answers TXT queries for names in its zones with `GREETING, <client IP>`;
 * everything else goes to the next plugin.
 */
export class Hello implements Handler {
  readonly name = 'hello';
  readonly next: Handler | undefined;
  private readonly greeting: string;
  private readonly zones: readonly string[];

  constructor(next: Handler | undefined, greeting: string, zones: readonly string[]) {
    this.next = next;
    this.greeting = greeting;
    this.zones = zones;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const q = r.questions[0]!;
    if (q.type !== 'TXT' || zonesMatch(this.zones, q.name) === '') {
      return nextOrFailure(this.name, this.next, ctx, w, r);
    }
    const m = newReply(r);
    m.flags |= AUTHORITATIVE_ANSWER;
    m.answers.push({ name: q.name, type: 'TXT', class: 'IN', ttl: 0, data: [`${this.greeting}, ${w.remote.address}`] });
    w.writeMsg(m);
    return 0;
  }
}
