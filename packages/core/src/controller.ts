/**
 * The setup Controller handed to each plugin's `setup`: a Dispenser over the
 * directive's tokens plus the block's configuration, the instance's lifecycle
 * hooks, the metrics registry and a logger.
 */
import type { Token } from './corefile-types.js';
import { Dispenser } from './dispenser.js';
import type { BlockConfig } from './config.js';
import type { Plugin } from './plugin.js';
import { pluginLogger, type Logger } from './log.js';
import { registry } from './metrics.js';
import type { HookName, Hook, Lifecycle } from './lifecycle.js';

export class Controller extends Dispenser {
  /** The directive being set up. */
  readonly directive: string;
  /** The block's first key, normalised (`dns://example.org.:53`). */
  readonly key: string;
  /** All normalised keys of the block. */
  readonly keys: readonly string[];
  /** The block's configuration (shared by all its keys). */
  readonly config: BlockConfig;
  /** The plugin's logger (`plugin/NAME: ...`). */
  readonly log: Logger;
  /** The shared metrics registry. */
  readonly registry = registry;
  private readonly lifecycle: Lifecycle;

  constructor(filename: string, directive: string, tokens: readonly Token[], config: BlockConfig, lifecycle: Lifecycle) {
    super(filename, tokens);
    this.directive = directive;
    this.config = config;
    this.key = config.keys[0] ?? '';
    this.keys = config.keys;
    this.log = pluginLogger(directive);
    this.lifecycle = lifecycle;
  }

  /** Appends a plugin (a handler factory) to this block's chain. */
  addPlugin(p: Plugin): void {
    this.config.plugins.push({ directive: this.directive, plugin: p });
  }

  /** Runs before listeners open, at start and at every reload (an error aborts the start). */
  onStartup(fn: Hook): void {
    this.lifecycle.add('startup', fn);
  }
  /** Runs only at the first start of the process. */
  onFirstStartup(fn: Hook): void {
    this.lifecycle.add('firstStartup', fn);
  }
  /** Runs after the servers are listening. */
  onStartupComplete(fn: Hook): void {
    this.lifecycle.add('startupComplete', fn);
  }
  /** Runs on the old instance when a reload begins. */
  onRestart(fn: Hook): void {
    this.lifecycle.add('restart', fn);
  }
  /** Runs on the old instance when a reload failed and it keeps serving. */
  onRestartFailed(fn: Hook): void {
    this.lifecycle.add('restartFailed', fn);
  }
  /** Runs when this instance stops: after a reload swapped it out, or at process exit. */
  onShutdown(fn: Hook): void {
    this.lifecycle.add('shutdown', fn);
  }
  /** Runs only when the process stops (not on reload). */
  onFinalShutdown(fn: Hook): void {
    this.lifecycle.add('finalShutdown', fn);
  }
  /** Registers a hook by name. */
  on(name: HookName, fn: Hook): void {
    this.lifecycle.add(name, fn);
  }

  /**
   * CoreDNS's `plugin.ErrOnce`: `this plugin can only be used once per Server
   * Block`. Like every setup error without a location, it is reported as
   * `FILE:LINE - plugin/NAME: ...` at the current token.
   */
  errOnce(): Error {
    return new Error('this plugin can only be used once per Server Block');
  }
}
