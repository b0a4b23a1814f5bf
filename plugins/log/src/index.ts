/**
 * The `log` plugin: query logging to standard output, as CoreDNS's *log*.
 *
 *     log [NAMES...] [FORMAT] {
 *         class CLASSES...
 *     }
 */
import { ConfigError, fqdn, type Controller, type PluginDefinition } from '@tsdns/core';
import { Logger, type LogRule } from './log.js';
import { ResponseClass, responseClassFromString } from '@tsdns/core';

export { Logger, type LogRule, type LoggerOptions } from './log.js';
export { Replacer, parseFormat, formatFlags, formatDurationSeconds, EMPTY_VALUE } from './replacer.js';
export type { FormatNode, RecordedReply, ReplacerInput } from './replacer.js';
export {
  ResponseType,
  ResponseClass,
  classify,
  typifyFacts,
  factsOfMsg,
  summarizeWire,
  rrsigValid,
  responseTypeName,
  responseClassName,
  responseClassFromString,
} from '@tsdns/core';
export type { ResponseFacts, WireSummary } from '@tsdns/core';

/** The Common Log Format (the default). */
export const COMMON_LOG_FORMAT =
  '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
/** The Common Log Format plus the query opcode. */
export const COMBINED_LOG_FORMAT = COMMON_LOG_FORMAT + ' "{>opcode}"';
export const DEFAULT_LOG_FORMAT = COMMON_LOG_FORMAT;

/** Reads every `log` line of a server block into rules, in order (CoreDNS's `logParse`). */
export function parseLogRules(c: Controller): LogRule[] {
  const rules: { nameScope: string; format: string; classes: ReadonlySet<ResponseClass> }[] = [];
  while (c.next()) {
    let args = c.remainingArgs();
    const length = rules.length;
    const none: ReadonlySet<ResponseClass> = new Set();
    if (args.length === 0) {
      rules.push({ nameScope: '.', format: DEFAULT_LOG_FORMAT, classes: none });
    } else if (args.length === 1) {
      // a single argument is always a name, even `{common}`
      rules.push({ nameScope: fqdn(args[0]!), format: DEFAULT_LOG_FORMAT, classes: none });
    } else {
      let format = DEFAULT_LOG_FORMAT;
      const last = args[args.length - 1]!;
      if (last.includes('{')) {
        format = last.replaceAll('{common}', COMMON_LOG_FORMAT).replaceAll('{combined}', COMBINED_LOG_FORMAT);
        args = args.slice(0, -1);
      }
      for (const a of args) rules.push({ nameScope: fqdn(a), format, classes: none });
    }

    const classes = new Set<ResponseClass>();
    while (c.nextBlock()) {
      if (c.val() === 'class') {
        const names = c.remainingArgs();
        if (names.length === 0) throw c.argErr();
        for (const n of names) {
          const cls = responseClassFromString(n);
          // CoreDNS returns this error without a file:line location
          if (cls === undefined) throw new ConfigError(`plugin/log: invalid Class: ${n}`);
          classes.add(cls);
        }
      } else {
        throw c.err(`unknown property '${c.val()}'`);
      }
    }
    if (classes.size === 0) classes.add(ResponseClass.All);
    for (let i = rules.length - 1; i >= length; i--) rules[i]!.classes = classes;
  }
  return rules;
}

const plugin: PluginDefinition = {
  name: 'log',
  setup(c: Controller): void {
    const rules = parseLogRules(c);
    c.addPlugin((next) => new Logger(next, rules));
  },
};

export default plugin;
