import { performance } from 'node:perf_hooks';
import { handleAll, handleWhen, retry } from 'cockatiel';
import { HookTimeoutError, StartupAbortedError } from '../errors.js';
import { messageOf } from '../message-of.js';
import { exponentialBackoff, sleep } from './backoff.js';
import { describeComponent, type LifecycleComponent } from './component.js';
import { raceAbort, withDeadline } from './deadline.js';
import type { LifecycleOutcome, LifecyclePhase } from './events.js';
import { isRetryable, lifecycleEvent, retryWithin, startupFailure } from './lifecycle-failures.js';
import type { HookContext } from './hooks.js';
import type { OrchestratorOptions, StopReport } from './orchestrator-options.js';
import { StartAbort } from './start-abort.js';

export type { OrchestratorOptions, StopReport } from './orchestrator-options.js';

type HookName = 'preStart' | 'onStart' | 'onStop';

/**
 * Drives components through preStart → onStart → onStop. Each component's hook starts as
 * soon as the same hook of everything it depends on has finished, so startup takes as long
 * as the longest dependency chain. onStop runs in exact reverse: a component stops after
 * everything that depends on it has stopped.
 */
export class Orchestrator {
  readonly #components: readonly LifecycleComponent[];
  readonly #dependents: ReadonlyMap<string, readonly string[]>;
  readonly #options: OrchestratorOptions;
  readonly #preStarted = new Set<string>();
  readonly #onStarted = new Set<string>();
  readonly #recoveries = new Set<Promise<void>>();
  /** Both start phases share it: the first failure ends startup, so no phase runs after it aborts. */
  readonly #startAbort = new StartAbort();
  #onStartPhaseDone = false;
  #stopping: Promise<StopReport> | undefined;

  constructor(components: readonly LifecycleComponent[], options: OrchestratorOptions) {
    this.#components = components;
    this.#options = options;
    const dependents = new Map<string, string[]>(components.map((c) => [c.id, []]));
    for (const component of components) {
      for (const dependency of component.dependsOn) dependents.get(dependency)?.push(component.id);
    }
    this.#dependents = dependents;
  }

  /**
   * Runs preStart then onStart. On a critical failure, or once `abortStart` is called, rolls back
   * (onStop for everything whose preStart succeeded) and rejects.
   */
  async start(): Promise<void> {
    try {
      await this.#runPhase('preStart', this.#startAbort);
      await this.#runPhase('onStart', this.#startAbort);
      this.#onStartPhaseDone = true;
      await this.#startRecoveredLatecomers();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Abandons startup, before or during `start()`: hooks running are cut off, the rest skipped, and it rolls back. */
  abortStart(reason: string): void {
    this.#startAbort.abort(new StartupAbortedError(reason));
  }

  /** Stops every started component in reverse dependency order. Idempotent. */
  stop(): Promise<StopReport> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #runPhase(hook: 'preStart' | 'onStart', phaseAbort: StartAbort): Promise<void> {
    let firstFailure: unknown;

    const done = new Map<string, Promise<boolean>>();
    for (const component of this.#components) {
      const dependencies = component.dependsOn.map((id) => done.get(id) as Promise<boolean>);
      done.set(
        component.id,
        Promise.all(dependencies).then(async (ready) => {
          if (phaseAbort.aborted || ready.includes(false)) {
            this.#emit(component, hook, 'skipped', 1, performance.now());
            return false;
          }
          // A degraded plugin gets its onStart once it recovers; dependents go ahead meanwhile.
          if (hook === 'onStart' && !this.#preStarted.has(component.id)) return true;
          try {
            if (hook === 'preStart') await this.#preStart(component, phaseAbort);
            else await this.#runOnce(component, 'onStart', phaseAbort);
            return true;
          } catch (error) {
            // Cut off because another component failed: that failure is not this plugin's.
            const cutOff = phaseAbort.aborted || StartupAbortedError.is(error);
            if (hook === 'preStart' && !component.critical && !cutOff) {
              this.#degrade(component, error);
              return true;
            }
            firstFailure ??= error;
            phaseAbort.abort(error);
            return false;
          }
        }),
      );
    }
    await Promise.all(done.values());
    if (firstFailure !== undefined) throw firstFailure;
    if (phaseAbort.aborted) throw phaseAbort.reason;
  }

  async #preStart(component: LifecycleComponent, startAbort: StartAbort): Promise<void> {
    if (!component.retryPreStart || !component.critical) {
      await this.#runOnce(component, 'preStart', startAbort);
      this.#markStarted(component);
      return;
    }
    const started = performance.now();
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new HookTimeoutError(describeComponent(component), 'preStart', component.timeouts.preStart)),
      component.timeouts.preStart,
    );
    const deadline = AbortSignal.any([startAbort.signal, timeout.signal]);
    let attempts = 0;
    let lastError: unknown;
    const policy = retry(handleWhen(isRetryable), { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: exponentialBackoff(this.#options.retryBackoff) });
    try {
      await retryWithin(policy, deadline, async () => {
        attempts += 1;
        const attemptStart = performance.now();
        this.#emit(component, 'preStart', 'begin', attempts, attemptStart);
        try {
          await raceAbort(Promise.resolve().then(() => this.#call(component, 'preStart', deadline, attempts)), deadline);
        } catch (error) {
          // A hung attempt cut off by the deadline: the previous attempt's cause says more.
          lastError = deadline.aborted && lastError !== undefined ? lastError : error;
          if (!deadline.aborted && isRetryable(error)) {
            this.#emit(component, 'preStart', 'retrying', attempts, attemptStart, error);
          }
          throw error;
        }
        this.#emit(component, 'preStart', 'succeeded', attempts, attemptStart);
      });
    } catch (error) {
      if (startAbort.aborted) {
        this.#emit(component, 'preStart', 'skipped', attempts, started, startAbort.reason);
        throw startAbort.reason;
      }
      const timedOut = timeout.signal.aborted;
      const cause = lastError ?? error;
      this.#emit(component, 'preStart', timedOut ? 'timedOut' : 'failed', attempts, started, cause);
      if (timedOut) this.#report(component, 'preStart', attempts, timeout.signal.reason, 'lifecycle', 'warning');
      throw startupFailure(component, 'preStart', attempts, started, cause, timedOut);
    } finally {
      clearTimeout(timer);
    }
    this.#markStarted(component);
  }

  #markStarted(component: LifecycleComponent): void {
    this.#preStarted.add(component.id);
    component.availability?.markAvailable();
  }

  /** One attempt of one hook, bounded by its deadline. */
  async #runOnce(component: LifecycleComponent, hook: HookName, parent?: AbortSignal | StartAbort): Promise<void> {
    const started = performance.now();
    this.#emit(component, hook, 'begin', 1, started);
    // Most services have few hooks: one they lack has nothing to bound, so no timer or signal.
    if (typeof component.instance[hook] !== 'function' && !parent?.aborted) {
      this.#emit(component, hook, 'succeeded', 1, started);
      if (hook === 'onStart') this.#onStarted.add(component.id);
      return;
    }
    try {
      await withDeadline((signal) => this.#call(component, hook, signal, 1), {
        timeoutMs: component.timeouts[hook],
        component: describeComponent(component),
        phase: hook,
        ...(parent ? { parent: parent instanceof StartAbort ? parent.signal : parent } : {}),
      });
    } catch (error) {
      if (parent?.aborted && !HookTimeoutError.is(error)) {
        this.#emit(component, hook, 'skipped', 1, started, error);
        throw error;
      }
      this.#emit(component, hook, HookTimeoutError.is(error) ? 'timedOut' : 'failed', 1, started, error);
      if (hook === 'onStop') this.#report(component, hook, 1, error, 'stop', 'error');
      else if (HookTimeoutError.is(error)) this.#report(component, hook, 1, error, 'lifecycle', 'warning');
      throw hook === 'onStop' ? error : startupFailure(component, hook, 1, started, error, HookTimeoutError.is(error));
    }
    this.#emit(component, hook, 'succeeded', 1, started);
    if (hook === 'onStart') this.#onStarted.add(component.id);
  }

  #call(component: LifecycleComponent, hook: HookName, signal: AbortSignal, attempt: number): Promise<void> | void {
    const ctx: HookContext = { signal, appSignal: this.#options.appSignal(), attempt };
    return component.instance[hook]?.(ctx);
  }

  #degrade(component: LifecycleComponent, error: unknown): void {
    this.#emit(component, 'preStart', 'degraded', 1, performance.now(), error);
    component.availability?.markUnavailable(component.redact(messageOf(error)));
    const recovery = this.#recover(component).finally(() => this.#recoveries.delete(recovery));
    this.#recoveries.add(recovery);
  }

  /** Retries a degraded plugin's preStart in the background until it succeeds or shutdown begins. */
  async #recover(component: LifecycleComponent): Promise<void> {
    const appSignal = this.#options.appSignal();
    const policy = retry(handleAll, { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: exponentialBackoff(this.#options.recoveryBackoff) });
    let attempts = 0;
    try {
      // The first backoff delay happens before the first retry, so wait one delay up front.
      await sleep(this.#options.recoveryBackoff.initialDelayMs, appSignal);
      await retryWithin(policy, appSignal, async () => {
        attempts += 1;
        const started = performance.now();
        this.#emit(component, 'recover', 'begin', attempts, started);
        try {
          await withDeadline((signal) => this.#call(component, 'preStart', signal, attempts + 1), {
            timeoutMs: component.timeouts.preStart,
            parent: appSignal,
            component: describeComponent(component),
            phase: 'preStart',
          });
        } catch (error) {
          if (!appSignal.aborted) {
            this.#emit(component, 'recover', 'retrying', attempts, started, error);
            component.availability?.markUnavailable(component.redact(messageOf(error)));
          }
          throw error;
        }
        this.#emit(component, 'recover', 'succeeded', attempts, started);
      });
    } catch {
      return; // shutdown began before it recovered; nothing was acquired, so nothing to stop
    }
    this.#markStarted(component);
    if (this.#onStartPhaseDone && !appSignal.aborted) await this.#startLate(component);
  }

  async #startRecoveredLatecomers(): Promise<void> {
    const late = this.#components.filter((c) => this.#preStarted.has(c.id) && !this.#onStarted.has(c.id));
    await Promise.all(late.map((component) => this.#startLate(component)));
  }

  /** onStart for a plugin that recovered after the onStart phase; a failure degrades it again. */
  async #startLate(component: LifecycleComponent): Promise<void> {
    if (this.#onStarted.has(component.id)) return;
    try {
      await this.#runOnce(component, 'onStart', this.#options.appSignal());
    } catch (error) {
      component.availability?.markUnavailable(component.redact(messageOf(error)));
    }
  }

  async #stopAll(): Promise<StopReport> {
    await Promise.allSettled([...this.#recoveries]);
    const failures: { component: string; error: string }[] = [];
    const done = new Map<string, Promise<void>>();
    for (const component of [...this.#components].reverse()) {
      const dependents = (this.#dependents.get(component.id) ?? []).map((id) => done.get(id) as Promise<void>);
      done.set(
        component.id,
        Promise.all(dependents).then(async () => {
          if (!this.#preStarted.has(component.id)) return;
          try {
            await this.#runOnce(component, 'onStop');
          } catch (error) {
            failures.push({ component: component.id, error: component.redact(messageOf(error)) });
          } finally {
            this.#preStarted.delete(component.id);
            component.availability?.markUnavailable('stopped');
          }
        }),
      );
    }
    await Promise.all(done.values());
    return { clean: failures.length === 0, failures };
  }

  #report(component: LifecycleComponent, phase: HookName, attempt: number, error: unknown, source: 'lifecycle' | 'stop', level: 'warning' | 'error'): void {
    this.#options.reportError(error, { source, level, component: component.id, ...(component.pluginType ? { pluginType: component.pluginType } : {}), phase, attempt });
  }

  #emit(component: LifecycleComponent, phase: LifecyclePhase, outcome: LifecycleOutcome, attempt: number, startedAt: number, error?: unknown): void {
    this.#options.emit(lifecycleEvent(component, phase, outcome, attempt, startedAt, error));
  }
}
