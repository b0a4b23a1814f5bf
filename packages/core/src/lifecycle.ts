/** Lifecycle hooks of an instance (caddy's OnStartup, OnShutdown, ...). */
export type Hook = () => void | Promise<void>;
export type HookName = 'firstStartup' | 'startup' | 'startupComplete' | 'restart' | 'restartFailed' | 'shutdown' | 'finalShutdown';

export class Lifecycle {
  private readonly hooks = new Map<HookName, Hook[]>();

  add(name: HookName, fn: Hook): void {
    let l = this.hooks.get(name);
    if (!l) this.hooks.set(name, (l = []));
    l.push(fn);
  }

  /** Runs the hooks in registration order; stops at and rethrows the first error. */
  async run(name: HookName): Promise<void> {
    for (const fn of this.hooks.get(name) ?? []) await fn();
  }

  /** Runs every hook; returns the errors instead of stopping. */
  async runAll(name: HookName): Promise<unknown[]> {
    const errs: unknown[] = [];
    for (const fn of this.hooks.get(name) ?? []) {
      try {
        await fn();
      } catch (e) {
        errs.push(e);
      }
    }
    return errs;
  }
}
