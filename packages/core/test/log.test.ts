import { test } from 'node:test';
import assert from 'node:assert/strict';
import { log, pluginLogger, preloadLogger, setDebug, setLogSink } from '../src/index.js';

test('lines logged before winston loads are the lines winston writes', () => {
  const lines: string[] = [];
  const prev = setLogSink({ write: (l) => lines.push(l) });
  try {
    const p = pluginLogger('reload');
    const say = (): void => {
      log.info('Reloading');
      p.info('Running configuration SHA512 = abc');
      p.warning('no newline');
      p.error('ends in a newline\n');
      setDebug(true);
      p.debug('debug on');
      setDebug(false);
      p.debug('debug off');
      log.notice('a notice');
    };
    say(); // the start-up path: winston is not loaded yet in this process
    const direct = lines.splice(0);
    preloadLogger();
    say();
    assert.deepEqual(lines, direct);
    assert.deepEqual(direct, [
      '[INFO] Reloading\n',
      '[INFO] plugin/reload: Running configuration SHA512 = abc\n',
      '[WARNING] plugin/reload: no newline\n',
      '[ERROR] plugin/reload: ends in a newline\n',
      '[DEBUG] plugin/reload: debug on\n',
      '[INFO] a notice\n',
    ]);
  } finally {
    setLogSink(prev);
  }
});
