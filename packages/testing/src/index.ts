/**
 * @tsdns/testing: helpers for plugin authors and for tsdns's own tests.
 *
 * - TestWriter / serveHandler: unit-test a handler without sockets.
 * - makeQuery / packQuery / setQuestion: build queries.
 * - queryUdp / queryTcp / DnsTcpClient: talk to a server over real sockets.
 * - startUpstream: a real DNS server answering from a function.
 * - serveCorefile: a whole configuration running in the test process.
 * - spawnTsdns / freePort: the real executable on a free port.
 */
export { makeQuery, makeOpt, packQuery, randomId, setQuestion, type QueryOptions, type EdnsOptions } from './query.js';
export {
  TestWriter,
  MemoryWriter,
  errorOf,
  steppingClock,
  WrittenMessage,
  parseAddress,
  serveHandler,
  type AddressLike,
  type TestWriterOptions,
  type ServeResult,
  type ServeHandlerOptions,
} from './writer.js';
export {
  DnsReply,
  DnsTcpClient,
  QueryTimeoutError,
  DEFAULT_TIMEOUT_MS,
  queryUdp,
  queryTcp,
  udpNoReply,
  tcpFrame,
  type ClientOptions,
} from './client.js';
export { startUpstream, type Upstream, type UpstreamHandler, type UpstreamRequest } from './upstream.js';
export { freePort, isPortFree } from './ports.js';
export { httpGet, httpRefused, type HttpResult } from './http.js';
export {
  serveCorefile,
  corefileInput,
  buildCorefile,
  setupError,
  serveError,
  parseEach,
  stopInstance,
  reloadInput,
  captureLog,
  captureLogs,
  type ServeCorefileOptions,
  type CorefileInputOptions,
  type TestServer,
  type TestQueryOptions,
  type BoundAddress,
  type CapturedLogs,
} from './serve.js';
export {
  spawnTsdns,
  killAllTsdns,
  listeningPorts,
  rssKb,
  tsdnsBin,
  REPO_ROOT,
  type SpawnOptions,
  type TsdnsProcess,
  type ExitStatus,
  type WaitLineOptions,
} from './spawn.js';
