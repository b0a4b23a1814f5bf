/**
 * The loadbalance handler: wraps the writer so that the reply written by the
 * rest of the chain is reordered on its way out (CoreDNS's
 * LoadBalanceResponseWriter).
 */
import {
  WrappedWriter,
  decodeMessage,
  nextOrFailure,
  rcodeOf,
  type Context,
  type Handler,
  type Msg,
  type ResponseWriter,
} from '@tsdns/core';

/** Reorders a reply (it may replace the section arrays of the message it gets, never their contents). */
export type ShuffleFunc = (m: Msg) => Msg;

/** Only successful answers are reordered, and never zone transfers. */
function eligible(m: Msg): boolean {
  if (rcodeOf(m) !== 0) return false;
  const q = m.questions[0];
  return q !== undefined && q.type !== 'AXFR' && q.type !== 'IXFR';
}

/** A copy of the message sharing the records: the plugin that wrote it may keep the original. */
function detach(m: Msg): Msg {
  return { id: m.id, type: m.type, flags: m.flags, questions: m.questions, answers: m.answers, authorities: m.authorities, additionals: m.additionals };
}

export class LoadBalanceWriter extends WrappedWriter {
  private readonly shuffle: ShuffleFunc;

  constructor(inner: ResponseWriter, shuffle: ShuffleFunc) {
    super(inner);
    this.shuffle = shuffle;
  }

  override writeMsg(m: Msg): void {
    if (!eligible(m)) {
      this.inner.writeMsg(m);
      return;
    }
    this.inner.writeMsg(this.shuffle(detach(m)));
  }

  /**
   * Raw replies (a cache hit, a relayed upstream answer) are what CoreDNS's
   * plugins would have written with WriteMsg, and CoreDNS reorders those: they
   * are decoded, reordered and written as a message. Bytes that are not an
   * eligible, decodable reply pass through unchanged.
   */
  override write(wire: Uint8Array, len?: number): void {
    // header rcode nibble not NOERROR: nothing to do, and no decoding needed
    if (wire.length < 12 || (wire[3]! & 0xf) !== 0) {
      this.inner.write(wire, len);
      return;
    }
    let m: Msg;
    try {
      m = decodeMessage(wire);
    } catch {
      this.inner.write(wire, len);
      return;
    }
    if (!eligible(m)) {
      this.inner.write(wire, len);
      return;
    }
    this.inner.writeMsg(this.shuffle(m));
  }
}

export class LoadBalance implements Handler {
  readonly name = 'loadbalance';
  readonly next: Handler | undefined;
  readonly shuffle: ShuffleFunc;

  constructor(next: Handler | undefined, shuffle: ShuffleFunc) {
    this.next = next;
    this.shuffle = shuffle;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    return nextOrFailure(this.name, this.next, ctx, new LoadBalanceWriter(w, this.shuffle), r);
  }
}
