export { lex, lexTokens, decodeUtf8AsGo, type LexedToken } from './lexer.js';
export { parseCorefile, MAX_SNIPPET_EXPANSIONS, MAX_FILE_EXPANSIONS, type ParseOptions } from './parser.js';
export { replaceEnvVars, envLookup, type EnvLookup } from './env.js';
export { inspectServerBlocks, type InspectOptions, type InspectedBlock } from './inspect.js';
export { defaultCorefile } from './defaults.js';
