/**
 * Log-line placeholders, as CoreDNS's `plugin/pkg/replacer`: a format is
 * parsed once into literal text, labels (`{type}`, `{>id}`, ...) and
 * metadata labels (`{/forward/upstream}`), and rendered per query.
 */
import { formatFloatShortest, rcodeName, type Context, type Request } from '@tsdns/core';

/** What CoreDNS prints for a value that does not exist. */
export const EMPTY_VALUE = '-';

/** The reply the log plugin recorded. */
export interface RecordedReply {
  /** The 16-bit header flags word, QR included. */
  flags: number;
  /** Full rcode. */
  rcode: number;
}

/** Everything a placeholder can show for one query. */
export interface ReplacerInput {
  ctx: Context;
  /** The query (with the writer it arrived on). */
  state: Request;
  /** The recorded reply, undefined when no reply was recorded. */
  reply: RecordedReply | undefined;
  /** Bytes written (the recorder's length). */
  rsize: number;
  /** Nanoseconds since the log plugin received the query (an integer). */
  durationNs: number;
}

type Render = (i: ReplacerInput) => string;

/** `[addr]` for IPv6 (anything with a colon), `addr` otherwise. */
function rfc3986(addr: string): string {
  return addr.includes(':') ? `[${addr}]` : addr;
}

const QR = 0x8000;
const FLAG_NAMES: readonly [number, string][] = [
  [QR, 'qr'],
  [0x0400, 'aa'],
  [0x0200, 'tc'],
  [0x0100, 'rd'],
  [0x0080, 'ra'],
  [0x0040, 'z'],
  [0x0020, 'ad'],
  [0x0010, 'cd'],
];

/** Set header flags in the order `qr,aa,tc,rd,ra,z,ad,cd`, comma-joined ('' when none is set). */
export function formatFlags(flags: number): string {
  let s = '';
  for (const [bit, name] of FLAG_NAMES) {
    if (flags & bit) s = s === '' ? name : s + ',' + name;
  }
  return s;
}

/** Seconds of an integer nanosecond count as Go's `strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"`. */
export function formatDurationSeconds(ns: number): string {
  const sec = Math.trunc(ns / 1e9);
  const nsec = ns - sec * 1e9;
  return formatFloatShortest(sec + nsec / 1e9) + 's';
}

function hasQuestion(i: ReplacerInput): boolean {
  return i.state.req.questions.length > 0;
}

/** The placeholders CoreDNS knows, and how each is rendered. */
const LABELS: ReadonlyMap<string, Render> = new Map<string, Render>([
  ['{type}', (i) => (hasQuestion(i) ? i.state.type() : '')],
  ['{name}', (i) => (hasQuestion(i) ? i.state.name() : '.')],
  ['{class}', (i) => (hasQuestion(i) ? i.state.class() : '')],
  ['{proto}', (i) => i.state.proto()],
  ['{size}', (i) => String(i.state.len())],
  ['{remote}', (i) => rfc3986(i.state.ip())],
  ['{port}', (i) => i.state.port()],
  ['{local}', (i) => rfc3986(i.state.localIp())],
  ['{>id}', (i) => String(i.state.req.id)],
  ['{>opcode}', (i) => String((i.state.req.flags >> 11) & 0xf)],
  ['{>do}', (i) => (i.state.do() ? 'true' : 'false')],
  ['{>bufsize}', (i) => String(i.state.size())],
  ['{rcode}', (i) => (i.reply === undefined ? EMPTY_VALUE : (rcodeName(i.reply.rcode) ?? String(i.reply.rcode)))],
  ['{rsize}', (i) => String(i.rsize)],
  ['{duration}', (i) => formatDurationSeconds(i.durationNs)],
  ['{>rflags}', (i) => (i.reply === undefined ? EMPTY_VALUE : formatFlags(i.reply.flags))],
]);

/** One piece of a parsed format. */
export type FormatNode =
  | { kind: 'literal'; value: string }
  | { kind: 'label'; value: string }
  | { kind: 'metadata'; value: string };

/**
 * Splits a format the way CoreDNS does: find the first `}`, pair it with the
 * last `{` before it. A known label or a `{/metadata}` label becomes a
 * placeholder; anything else (an unknown `{x}`, a lone `}`) stays text. So
 * `{{remote}}` is `{` + the address + `}`.
 */
export function parseFormat(format: string): FormatNode[] {
  const out: FormatNode[] = [];
  const literal = (v: string): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last.kind === 'literal') last.value += v;
    else out.push({ kind: 'literal', value: v });
  };
  let s = format;
  for (;;) {
    const j = s.indexOf('}');
    if (j < 0) break;
    const i = s.lastIndexOf('{', j);
    if (i < 0) {
      literal(s.slice(0, j + 1));
      s = s.slice(j + 1);
      continue;
    }
    const val = s.slice(i, j + 1);
    if (LABELS.has(val)) {
      if (i !== 0) literal(s.slice(0, i));
      out.push({ kind: 'label', value: val });
    } else if (val.startsWith('{/')) {
      if (i !== 0) literal(s.slice(0, i));
      out.push({ kind: 'metadata', value: val.slice(2, -1) });
    } else {
      literal(s.slice(0, j + 1));
    }
    s = s.slice(j + 1);
  }
  if (s.length !== 0) literal(s);
  return out;
}

/** A format compiled once at setup and rendered for every logged query. */
export class Replacer {
  readonly format: string;
  readonly nodes: readonly FormatNode[];
  private readonly parts: (string | Render)[];

  constructor(format: string) {
    this.format = format;
    this.nodes = parseFormat(format);
    this.parts = this.nodes.map((n): string | Render => {
      switch (n.kind) {
        case 'literal':
          return n.value;
        case 'label':
          return LABELS.get(n.value)!;
        case 'metadata': {
          const label = n.value;
          return (i) => i.ctx.metadata(label) ?? EMPTY_VALUE;
        }
      }
    });
  }

  /** The log line for one query. */
  replace(input: ReplacerInput): string {
    let s = '';
    for (const p of this.parts) s += typeof p === 'string' ? p : p(input);
    return s;
  }
}
