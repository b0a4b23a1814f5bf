/**
 * Command-line flags with Go's `flag` package semantics: `-x v`, `-x=v`,
 * `--x`, boolean flags only take `=value`, parsing stops at the first
 * non-flag argument or `--`.
 */

export interface FlagDef {
  name: string;
  kind: 'string' | 'bool';
  usage: string;
  default?: string;
  /** Another flag this one is an alias of (shares the value). */
  aliasOf?: string;
  /** Validates a string value: the reason it is invalid (Go's flag.Value.Set error), or undefined. */
  check?: (value: string) => string | undefined;
}

export class FlagError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface ParsedFlags {
  values: Map<string, string>;
  bools: Set<string>;
  rest: string[];
}

export function parseFlags(argv: readonly string[], defs: readonly FlagDef[]): ParsedFlags {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const values = new Map<string, string>();
  const bools = new Set<string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== '-') break;
    let name = arg.slice(1);
    if (name[0] === '-') {
      name = name.slice(1);
      if (name.length === 0) {
        i++;
        break; // "--" terminates the flags
      }
    }
    if (name.length === 0 || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`, 2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'h' || name === 'help') {
      if (!byName.has(name)) throw new FlagError('', 0);
    }
    const def = byName.get(name);
    if (!def) throw new FlagError(`flag provided but not defined: -${name}`, 2);
    const target = def.aliasOf ?? def.name;
    if (def.kind === 'bool') {
      if (value === undefined) value = 'true';
      const b = parseGoBool(value);
      if (b === undefined) throw new FlagError(`invalid boolean value ${JSON.stringify(value)} for -${name}: parse error`, 2);
      if (b) bools.add(target);
      else bools.delete(target);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`, 2);
      value = argv[++i]!;
    }
    const invalid = def.check?.(value);
    if (invalid !== undefined) throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: ${invalid}`, 2);
    values.set(target, value);
  }
  return { values, bools, rest: argv.slice(i) };
}

function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** Go's usage text: `Usage of NAME:` then each flag sorted by name. */
export function usage(program: string, defs: readonly FlagDef[]): string {
  let out = `Usage of ${program}:\n`;
  for (const d of [...defs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    let line = `  -${d.name}`;
    if (d.kind === 'string') line += ' string';
    const short = d.name.length === 1 && d.kind === 'bool';
    line += short ? '\t' : '\n    \t';
    line += d.usage.replace(/\n/g, '\n    \t');
    if (d.default !== undefined && d.default !== '' && d.default !== 'false') line += ` (default ${JSON.stringify(d.default)})`;
    out += line + '\n';
  }
  return out;
}
