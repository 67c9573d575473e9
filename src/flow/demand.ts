/**
 * Demand: the channel through which an async boundary (`bounded`, `mapAsync`, `remote()`) tells a pullable source
 * upstream whether it can take another item.
 *
 * Wiring is automatic and uses only public RxJS behaviour: subscription travels upstream synchronously through
 * `pipe()` (each operator subscribes to its source inside its own subscribe). A boundary runs its upstream
 * `source.subscribe()` inside {@link withDemand}; a pullable source, when subscribed, takes the innermost demand
 * with {@link currentDemand} and reads its next chunk only while that demand is ready. No RxJS internals are read.
 * Operators that subscribe upstream later (e.g. `subscribeOn`, `delayWhen` on subscription) cut the wire: the source
 * then runs free, and the boundary's overflow policy is the guard (see docs/ARCHITECTURE.md).
 *
 * @module
 */

/** What a pullable source sees of the boundary downstream of it. */
export interface Demand {
  /** True when the boundary can take another item now. */
  readonly ready: boolean;
  /** Resolves once {@link Demand.ready} is true (immediately if it already is) or the boundary is gone. */
  whenReady(): Promise<void>;
  /** A pullable source registers itself on subscribe, so the boundary knows its upstream can pause. */
  attachPullable(): void;
  /** The source's unsubscribe undoes {@link Demand.attachPullable}. */
  detachPullable(): void;
}

/** A {@link Demand} driven by a readiness predicate; the boundary calls {@link DemandGate.notify} when it frees room. */
export class DemandGate implements Demand {
  private waiters: Array<() => void> = [];
  private pullableSources = 0;
  private closed = false;

  /** @param isReady - Evaluated on every check; must be cheap (a comparison of counters). */
  constructor(private readonly isReady: () => boolean) {}

  get ready(): boolean {
    return this.closed || this.isReady();
  }

  /** True while at least one pullable source upstream is attached. */
  get hasPullableSource(): boolean {
    return this.pullableSources > 0;
  }

  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  attachPullable(): void {
    this.pullableSources++;
  }

  detachPullable(): void {
    if (this.pullableSources > 0) this.pullableSources--;
  }

  /** Wakes waiting sources if the boundary is ready now. Call after anything that frees room. */
  notify(): void {
    if (this.waiters.length === 0 || !this.ready) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Releases every waiter for good (the boundary was torn down); sources then notice their own unsubscribe. */
  close(): void {
    this.closed = true;
    this.notify();
  }
}

const stack: Demand[] = [];

/** Runs `subscribe` (a synchronous upstream subscription) with `demand` as the innermost demand. */
export function withDemand<T>(demand: Demand, subscribe: () => T): T {
  stack.push(demand);
  try {
    return subscribe();
  } finally {
    stack.pop();
  }
}

/** The demand of the nearest boundary downstream of the subscription in progress, if any. */
export function currentDemand(): Demand | undefined {
  return stack[stack.length - 1];
}
