/**
 * The log plugin's handler: records the reply written downstream, classifies
 * it and prints one `[INFO] ` line per query through the first rule whose
 * name scope contains the query name.
 */
import {
  clientWrite,
  isPromise,
  isSubDomain,
  log,
  messageLen,
  newRcodeReply,
  nextOrFailure,
  PluginError,
  Recorder,
  Request,
  type Context,
  type Handler,
  type Msg,
  type ResponseWriter,
} from '@tsdns/core';
import { Replacer, type RecordedReply } from './replacer.js';
import {
  classify,
  factsOfMsg,
  ResponseClass,
  responseClassName,
  responseTypeName,
  summarizeWire,
  typifyFacts,
  type ResponseFacts,
  type ResponseType,
} from '@tsdns/core';

/** One `log` rule: a name scope, the response classes to log and a format. */
export interface LogRule {
  /** FQDN; queries for this name or below it use the rule. */
  readonly nameScope: string;
  /** Classes to log; `All` logs everything. */
  readonly classes: ReadonlySet<ResponseClass>;
  readonly format: string;
}

export interface LoggerOptions {
  /** Monotonic clock in milliseconds for `{duration}` (default `performance.now`). */
  clock?: () => number;
  /** Wall clock in milliseconds for RRSIG validity checks (default `Date.now`). */
  wallClock?: () => number;
  /** Receives each log line without the `[INFO] ` prefix (default: the server log at INFO). */
  output?: (line: string) => void;
}

interface CompiledRule {
  rule: LogRule;
  all: boolean;
  replacer: Replacer;
}

const defaultClock = (): number => performance.now();
const noFacts = (): undefined => undefined;
const defaultOutput = (line: string): void => log.info(line);

function msgFlags(m: Msg): number {
  return (m.flags & 0x7fff) | (m.type === 'response' ? 0x8000 : 0);
}

/** The log plugin's handler (CoreDNS's `log.Logger`). */
export class Logger implements Handler {
  readonly name = 'log';
  readonly next: Handler | undefined;
  readonly rules: readonly LogRule[];
  private readonly compiled: readonly CompiledRule[];
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly output: (line: string) => void;

  constructor(next: Handler | undefined, rules: readonly LogRule[], options: LoggerOptions = {}) {
    this.next = next;
    this.rules = rules;
    // one Replacer per distinct format (CoreDNS caches parsed formats the same way)
    const cache = new Map<string, Replacer>();
    this.compiled = rules.map((rule) => {
      let replacer = cache.get(rule.format);
      if (!replacer) cache.set(rule.format, (replacer = new Replacer(rule.format)));
      return { rule, all: rule.classes.has(ResponseClass.All), replacer };
    });
    this.clock = options.clock ?? defaultClock;
    this.wallClock = options.wallClock ?? Date.now;
    this.output = options.output ?? defaultOutput;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const state = new Request(r, w);
    const name = r.questions.length > 0 ? state.name() : '.';
    for (const cr of this.compiled) {
      if (!isSubDomain(cr.rule.nameScope, name)) continue;
      const rec = new Recorder(w);
      const start = this.clock();
      // no closures on the way through a synchronous chain
      let res: number | Promise<number>;
      try {
        res = nextOrFailure(this.name, this.next, ctx, rec, r);
      } catch (e) {
        this.failed(e, cr, ctx, state, r, rec, start);
      }
      if (isPromise(res)) {
        return res.then(
          (rc) => {
            this.logQuery(cr, ctx, state, r, rec, rc, start);
            return rc;
          },
          (e: unknown) => this.failed(e, cr, ctx, state, r, rec, start),
        );
      }
      this.logQuery(cr, ctx, state, r, rec, res, start);
      return res;
    }
    return nextOrFailure(this.name, this.next, ctx, w, r);
  }

  /** The chain threw: a returned error (PluginError) is logged with its rcode; a panic unwinds without a line, as in CoreDNS. */
  private failed(e: unknown, cr: CompiledRule, ctx: Context, state: Request, r: Msg, rec: Recorder, start: number): never {
    if (e instanceof PluginError) this.logQuery(cr, ctx, state, r, rec, e.rcode, start);
    throw e;
  }

  private logQuery(cr: CompiledRule, ctx: Context, state: Request, r: Msg, rec: Recorder, rc: number, start: number): void {
    let reply: RecordedReply | undefined;
    // what Typify needs is only read when a class filter or a metadata reader asks for it
    let facts: () => ResponseFacts | undefined = noFacts;
    let rsize = rec.len;
    if (rec.msg !== undefined) {
      const m = rec.msg;
      const rcode = rec.rcode;
      reply = { flags: msgFlags(m), rcode };
      facts = () => factsOfMsg(m, rcode);
    } else if (rec.wire !== undefined) {
      const sum = summarizeWire(rec.wire);
      if (sum !== undefined) {
        reply = { flags: sum.flags, rcode: sum.rcode };
        facts = () => sum.facts;
      }
    } else if (!clientWrite(rc)) {
      // nothing written and the server will write the error: log that reply
      const m = newRcodeReply(r, rc);
      reply = { flags: msgFlags(m), rcode: rc };
      facts = () => factsOfMsg(m, rc);
      rsize = messageLen(m, false);
    }

    let type: ResponseType | undefined;
    const typeOf = (): ResponseType => (type ??= typifyFacts(facts(), Math.floor(this.wallClock() / 1000)));
    ctx.setMetadata('log/type', () => responseTypeName(typeOf()));
    ctx.setMetadata('log/class', () => responseClassName(classify(typeOf())));

    if (!cr.all && !cr.rule.classes.has(classify(typeOf()))) return;
    const durationNs = Math.max(0, Math.round((this.clock() - start) * 1e6));
    this.output(cr.replacer.replace({ ctx, state, reply, rsize, durationNs }));
  }
}
