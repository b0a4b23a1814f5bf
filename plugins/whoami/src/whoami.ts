import { AUTHORITATIVE_ANSWER, newReply, type Context, type Handler, type Msg, type ResponseWriter, type RR } from '@tsdns/core';

/**
 * Answers every query with the client's address (A or AAAA) and an SRV
 * record carrying the client's port and transport, in the additional section.
 */
export class Whoami implements Handler {
  readonly name = 'whoami';

  ServeDNS(_ctx: Context, w: ResponseWriter, r: Msg): number {
    const q = r.questions[0]!;
    const a = newReply(r);
    a.flags |= AUTHORITATIVE_ANSWER;
    const remote = w.remote;
    const addr: RR =
      remote.family === 4
        ? { name: q.name, type: 'A', class: q.class, ttl: 0, data: remote.address }
        : { name: q.name, type: 'AAAA', class: q.class, ttl: 0, data: remote.address };
    const srv: RR = {
      name: q.name === '.' ? `_${w.proto}.` : `_${w.proto}.${q.name}`,
      type: 'SRV',
      class: q.class,
      ttl: 0,
      data: { priority: 0, weight: 0, port: remote.port, target: '.' },
    };
    a.additionals.push(addr, srv);
    w.writeMsg(a);
    return 0;
  }
}
