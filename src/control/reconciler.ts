/**
 * One kind of long-lived resource brought toward its desired state. The
 * controller runs every registered reconciler on each pass; a reconciler reads
 * the store, asks a pure decider what to do at `nowMs`, and does it.
 */
export interface Reconciler {
  readonly name: string;
  reconcile(nowMs: number): Promise<void>;
  /** Resolves when the short work the passes so far began in the background is done (loading models); long runs (training) do not count. */
  settled(): Promise<void>;
  /** Releases what the reconciler holds in this process (loaded models); recorded state is untouched. */
  close(): Promise<void>;
}
