/**
 * The plumbing every local async boundary shares (`bounded`, `mapAsync`, async engine nodes): the queue with its
 * overflow policy, the demand gate it shows upstream, the demand of the boundary downstream, and teardown.
 * Each boundary keeps only its own rule for when it takes and releases items.
 *
 * @internal
 */
import type { Observable, Subscriber, Subscription } from 'rxjs';
import { currentDemand, DemandGate, withDemand, type Demand } from './demand.js';
import { FlowQueue, type FlowQueueOptions } from './flowQueue.js';

export class Boundary<T> {
  /** Items accepted from upstream and not yet taken. */
  readonly queue: FlowQueue<T>;
  /** What pullable sources upstream see: ready while `isReady(this)` holds. */
  readonly gate: DemandGate;
  /** The boundary downstream of this one, captured on subscribe; absent for a synchronous consumer. */
  readonly downstream: Demand | undefined = currentDemand();
  /** True once the upstream completed. */
  sourceDone = false;
  private waitingDownstream = false;
  private subscription: Subscription | undefined;
  private closed = false;

  /** Call inside the subscribe function of the boundary's Observable (that is where downstream demand is visible). */
  constructor(queue: FlowQueueOptions, isReady: (boundary: Boundary<T>) => boolean) {
    this.queue = new FlowQueue<T>(queue);
    this.gate = new DemandGate(() => isReady(this));
    // Towards a boundary downstream we behave like a pullable source: we hold items while it is full.
    this.downstream?.attachPullable();
  }

  /**
   * Subscribes to `source` under this boundary's gate. Each item is offered to the queue (an overflow error errors
   * `subscriber`), then `pump` runs; on complete `sourceDone` is set and `pump` runs; errors are forwarded.
   */
  connect(source: Observable<T>, subscriber: Subscriber<unknown>, pump: () => void): void {
    this.subscription = withDemand(this.gate, () =>
      source.subscribe({
        next: (item) => {
          try {
            this.queue.offer(item, this.gate.hasPullableSource);
          } catch (e) {
            subscriber.error(e);
            return;
          }
          pump();
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          this.sourceDone = true;
          pump();
        },
      }),
    );
  }

  /** True when the boundary downstream (if any) can take an item now; otherwise `pump` runs once it can. */
  downstreamReady(pump: () => void): boolean {
    if (this.downstream === undefined || this.downstream.ready) return true;
    if (!this.waitingDownstream && !this.closed) {
      this.waitingDownstream = true;
      void this.downstream.whenReady().then(() => {
        this.waitingDownstream = false;
        if (!this.closed) pump();
      });
    }
    return false;
  }

  /** Teardown: unsubscribes upstream, releases the queue and wakes paused sources so they notice. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    this.downstream?.detachPullable();
    this.gate.close();
    this.queue.close();
  }
}
