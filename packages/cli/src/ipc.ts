/**
 * Messages between the primary and the workers of `-workers N`: requests
 * with replies (both ways) and one-way notes, over the cluster IPC channel.
 */

export interface Envelope {
  tsdns: 1;
  t: 'req' | 'reply' | 'note';
  op?: string;
  id?: number;
  re?: number;
  ok?: boolean;
  body?: unknown;
  data?: unknown;
  error?: string;
}

/** The other side went away before it answered. */
export class ChannelClosedError extends Error {}

export interface ChannelHandlers {
  /** Answers a request (the value is sent back; a throw is sent back as an error). */
  request?(op: string, body: unknown): unknown;
  note?(op: string, body: unknown): void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class Channel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private readonly post: (m: Envelope) => void;
  private readonly handlers: ChannelHandlers;

  constructor(post: (m: Envelope) => void, handlers: ChannelHandlers) {
    this.post = post;
    this.handlers = handlers;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private send(m: Envelope): boolean {
    if (this.closed) return false;
    try {
      this.post(m);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends a request; resolves with the reply's data, rejects with its error (or on timeout/close). */
  request(op: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new ChannelClosedError('channel closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${op}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        // kept referenced: a request with a deadline always settles, even when nothing else keeps the process alive
      }
      this.pending.set(id, p);
      if (!this.send({ tsdns: 1, t: 'req', op, id, body })) {
        this.pending.delete(id);
        if (p.timer) clearTimeout(p.timer);
        reject(new ChannelClosedError('channel closed'));
      }
    });
  }

  note(op: string, body?: unknown): boolean {
    return this.send({ tsdns: 1, t: 'note', op, body });
  }

  /** Handles a message from the other side; false when it is not one of ours. */
  receive(raw: unknown): boolean {
    if (typeof raw !== 'object' || raw === null || (raw as Envelope).tsdns !== 1) return false;
    const m = raw as Envelope;
    if (m.t === 'reply') {
      const p = this.pending.get(m.re ?? -1);
      if (!p) return true;
      this.pending.delete(m.re!);
      if (p.timer) clearTimeout(p.timer);
      if (m.ok) p.resolve(m.data);
      else p.reject(new Error(m.error ?? 'failed'));
      return true;
    }
    if (m.t === 'note') {
      this.handlers.note?.(m.op ?? '', m.body);
      return true;
    }
    if (m.t === 'req') {
      const id = m.id;
      const answer = async (): Promise<unknown> => {
        if (!this.handlers.request) throw new Error(`no handler for ${m.op ?? ''}`);
        return this.handlers.request(m.op ?? '', m.body);
      };
      answer().then(
        (data) => this.send({ tsdns: 1, t: 'reply', re: id, ok: true, data }),
        (e: unknown) => this.send({ tsdns: 1, t: 'reply', re: id, ok: false, error: e instanceof Error ? e.message : String(e) }),
      );
      return true;
    }
    return true;
  }

  /** The other side is gone: every pending request is rejected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ChannelClosedError('channel closed'));
    }
    this.pending.clear();
  }
}
