import { describeError } from '../core/errors.ts';
import type { ControlDeps } from './deps.ts';
import type { Reconciler } from './reconciler.ts';

/**
 * Moves observed state toward the desired state recorded in the store. API calls
 * only write desired state and kick the controller; after a restart the first
 * pass picks up whatever was in flight (training jobs rerun, endpoints reload).
 */
export class Controller {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(
    private readonly deps: ControlDeps,
    private readonly reconcilers: readonly Reconciler[],
  ) {}

  /**
   * One pass over every reconciler, in registration order. Overlapping calls are
   * coalesced into at most one follow-up pass. A reconciler that fails (the store
   * is busy or gone) is logged and retried by the next pass; it does not keep the
   * others from running, and a pass never rejects.
   */
  step(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.current) {
      this.pending = true;
      return this.current;
    }
    this.current = this.reconcileAll().finally(() => {
      this.current = undefined;
      if (this.pending) {
        this.pending = false;
        void this.step();
      }
    });
    return this.current;
  }

  /** Resolves once the background work the passes so far began has settled: endpoints loaded or failed. */
  async settled(): Promise<void> {
    for (const reconciler of this.reconcilers) await reconciler.settled();
  }

  /** Asks for a pass soon, without waiting for it. */
  kick(): void {
    void this.step();
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  /**
   * Stops the loop for good and releases what the reconcilers hold (a run ending
   * now must not start the next pass). Work in flight stays recorded and resumes
   * at the next start.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
    for (const reconciler of this.reconcilers) await reconciler.close();
  }

  private async reconcileAll(): Promise<void> {
    for (const reconciler of this.reconcilers) {
      try {
        await reconciler.reconcile(this.deps.clock.now());
      } catch (error) {
        this.deps.logger.error('reconcile pass failed', { reconciler: reconciler.name, error: describeError(error) });
      }
    }
  }
}
