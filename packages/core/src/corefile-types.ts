/**
 * Types shared between the Corefile parser (@tsdns/corefile) and the runtime.
 * The parser produces them; the runtime consumes them. Neither depends on the
 * other's implementation.
 */

/** One lexical token of a Corefile. */
export interface Token {
  /** Token text with quotes removed and environment variables substituted. */
  text: string;
  /**
   * File the token came from: the main Corefile's name as given on the command
   * line (`-conf` value, or `Corefile`), or the absolute path of an imported file.
   */
  file: string;
  /** 1-based line on which the token started. */
  line: number;
}

/** A server block: `KEYS { DIRECTIVES }`. */
export interface ServerBlock {
  /** Keys as written, after environment substitution, empty keys removed. */
  keys: string[];
  /** The key tokens (same order as `keys`), for error locations. */
  keyTokens: Token[];
  /**
   * Directive name -> all tokens of every occurrence of that directive in this
   * block, in order of appearance (the directive-name token is included each
   * time). Map iteration order is first-appearance order.
   */
  tokens: Map<string, Token[]>;
}

/** Transports a server-block key can name. */
export type Transport = 'dns' | 'tls' | 'https' | 'grpc' | 'quic' | 'https3' | 'unix';

/** A normalised server-block key: `transport://zone:port`. */
export interface ZoneAddr {
  transport: Transport;
  /** Lower-case FQDN with trailing dot (`example.org.`, `.`). */
  zone: string;
  /** Decimal port as a string (`53`, `1053`, `0`). */
  port: string;
}

export function zoneAddrString(z: ZoneAddr): string {
  return `${z.transport}://${z.zone}:${z.port}`;
}

/**
 * An error in configuration (Corefile syntax, key normalisation or plugin
 * setup). `message` is already fully formatted, e.g.
 * `Corefile:3 - Error during parsing: Unknown directive 'foo'`.
 */
export class ConfigError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, file?: string, line?: number) {
    super(message);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
  }

  /** `FILE:LINE - Error during parsing: MSG` */
  static parsing(file: string, line: number, msg: string): ConfigError {
    return new ConfigError(`${file}:${line} - Error during parsing: ${msg}`, file, line);
  }

  /** `FILE:LINE - Syntax error: Unexpected token 'X', expecting 'Y'` */
  static syntax(file: string, line: number, got: string, expected: string): ConfigError {
    return new ConfigError(`${file}:${line} - Syntax error: Unexpected token '${got}', expecting '${expected}'`, file, line);
  }
}

/** A server block with its keys normalised (what `inspectServerBlocks` returns). */
export interface InspectedBlock {
  block: ServerBlock;
  addrs: ZoneAddr[];
}
