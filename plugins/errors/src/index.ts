/**
 * The `errors` plugin: logs the errors returned by the plugins after it, as
 * CoreDNS's *errors*.
 *
 *     errors [stdout] {
 *         stacktrace
 *         consolidate DURATION REGEXP [LEVEL] [show_first]
 *     }
 */
import { ConfigError, DurationError, parseGoDurationNs, type Controller, type PluginDefinition } from '@tsdns/core';
import { ErrorHandler, type ConsolidateLevel, type ConsolidatePattern } from './errors.js';
import { compileGoRegexp, GoRegexpError, type GoRegexp } from './re2.js';

export { ErrorHandler, type ConsolidateLevel, type ConsolidatePattern, type ErrorHandlerOptions, type TimerApi } from './errors.js';
export { GoRegexp, GoRegexpError, GoRegexpErrorCode, compileGoRegexp, translateGoRegexp, type TranslatedRegexp } from './re2.js';

/** Longest REGEXP accepted, in UTF-8 bytes (CoreDNS's maxRegexpLen). */
export const MAX_REGEXP_LEN = 10000;

const LEVELS: ReadonlySet<string> = new Set(['warning', 'error', 'info', 'debug']);

function parseConsolidate(c: Controller): ConsolidatePattern {
  const args = c.remainingArgs();
  if (args.length < 2 || args.length > 4) throw c.argErr();
  let periodNs: bigint;
  try {
    periodNs = parseGoDurationNs(args[0]!);
  } catch (e) {
    if (e instanceof DurationError) throw c.err(e.message);
    throw e;
  }
  const expr = args[1]!;
  const len = Buffer.byteLength(expr, 'utf8');
  if (len > MAX_REGEXP_LEN) throw c.err(`regex pattern too long: ${len} > ${MAX_REGEXP_LEN}`);
  let pattern: GoRegexp;
  try {
    pattern = compileGoRegexp(expr);
  } catch (e) {
    if (e instanceof GoRegexpError) throw c.err(e.message);
    throw e;
  }
  // LEVEL (optional) must come before show_first (optional)
  let level: ConsolidateLevel | undefined;
  let showFirst = false;
  for (const a of args.slice(2)) {
    if (LEVELS.has(a)) {
      if (level !== undefined) throw c.err('multiple log levels specified in consolidate');
      if (showFirst) throw c.err('log level must come before show_first in consolidate');
      level = a as ConsolidateLevel;
    } else if (a === 'show_first') {
      showFirst = true;
    } else {
      throw c.err(`unknown option in consolidate: ${a}`);
    }
  }
  return { periodNs, pattern, level: level ?? 'error', showFirst };
}

/** Reads the `errors` directive of a server block (CoreDNS's `errorsParse`); sets the block's stacktrace flag. */
export function parseErrors(c: Controller): ConsolidatePattern[] {
  const patterns: ConsolidatePattern[] = [];
  let i = 0;
  while (c.next()) {
    // CoreDNS returns plugin.ErrOnce without a file:line location
    if (i > 0) throw new ConfigError('plugin/errors: this plugin can only be used once per Server Block');
    i++;
    const args = c.remainingArgs();
    if (args.length === 1) {
      if (args[0] !== 'stdout') throw c.err(`invalid log file: ${args[0]}`);
    } else if (args.length > 1) {
      throw c.argErr();
    }
    while (c.nextBlock()) {
      switch (c.val()) {
        case 'stacktrace':
          c.config.stacktrace = true;
          break;
        case 'consolidate':
          patterns.push(parseConsolidate(c));
          break;
        default:
          throw c.syntaxErr(`Unknown field ${c.val()}`);
      }
    }
  }
  return patterns;
}

const plugin: PluginDefinition = {
  name: 'errors',
  setup(c: Controller): void {
    const handler = new ErrorHandler(parseErrors(c), { logger: c.log });
    c.onShutdown(() => handler.stop());
    c.addPlugin((next) => {
      handler.next = next;
      return handler;
    });
  },
};

export default plugin;
