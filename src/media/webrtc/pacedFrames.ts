/**
 * The clock of the outgoing track: calls a producer once per period on an absolute schedule.
 * @module
 */
import { asyncScheduler, Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { InvalidParamsError } from '../../errors.js';

/** Options of {@link pacedFrames}. */
export interface PacedFramesOptions {
  /** Period in milliseconds. Default: 20 ms. */
  readonly periodMs?: number;
  /** Where time comes from; pass a `TestScheduler` in tests. Default: `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * How many missed periods are made up at once after a stall (a long GC pause, a blocked event loop). Beyond this
   * the missed slots are skipped and the schedule restarts from now, so the receiver never gets a burst of old audio.
   * Default: 5 (100 ms at 20 ms).
   */
  readonly maxCatchUp?: number;
  /** Called with the number of periods skipped after a stall. Default: none. */
  readonly onSkip?: (skipped: number) => void;
}

/** Defaults of {@link PacedFramesOptions}. */
export const DEFAULT_PACING: Readonly<{ periodMs: number; maxCatchUp: number }> = Object.freeze({ periodMs: 20, maxCatchUp: 5 });

/**
 * Emits `produce()` at t₀, t₀ + period, t₀ + 2·period, … (t₀ = subscribe time) until unsubscribed. Due times are
 * absolute, so timer lateness never accumulates into drift: a late tick is followed by a shorter wait, and after a
 * stall up to `maxCatchUp` missed frames are emitted at once. Never completes; a throw from `produce` becomes the error; unsubscribing
 * cancels the one pending timer.
 *
 * @example
 * ```ts
 * const queue = new OutputAudioQueue();
 * pacedFrames(() => queue.next()).subscribe((frame) => sendRtp(frame)); // 50 frames per second, silence when idle
 * ```
 */
export function pacedFrames<T>(produce: () => T, options: PacedFramesOptions = {}): Observable<T> {
  const periodMs = options.periodMs ?? DEFAULT_PACING.periodMs;
  const maxCatchUp = options.maxCatchUp ?? DEFAULT_PACING.maxCatchUp;
  const scheduler = options.scheduler ?? asyncScheduler;
  if (!(periodMs > 0)) throw new InvalidParamsError('webrtc.pacedFrames', 'periodMs', `must be positive, got ${periodMs}`);
  if (!(Number.isInteger(maxCatchUp) && maxCatchUp >= 1)) throw new InvalidParamsError('webrtc.pacedFrames', 'maxCatchUp', `must be an integer ≥ 1, got ${maxCatchUp}`);
  return new Observable<T>((subscriber) => {
    let base = scheduler.now();
    let emitted = 0;
    const tick = function (this: SchedulerAction<undefined>): void {
      const now = scheduler.now();
      let due = base + emitted * periodMs;
      const behind = Math.floor((now - due) / periodMs);
      if (behind >= maxCatchUp) {
        // Skip all but the current slot: restart the schedule at the slot we are in now.
        options.onSkip?.(behind);
        base = due + behind * periodMs - emitted * periodMs;
        due = base + emitted * periodMs;
      }
      while (due <= now && !subscriber.closed) {
        let item: T;
        try {
          item = produce();
        } catch (e) {
          subscriber.error(e);
          return;
        }
        subscriber.next(item);
        emitted++;
        due = base + emitted * periodMs;
      }
      if (!subscriber.closed) this.schedule(undefined, Math.max(0, due - scheduler.now()));
    };
    return scheduler.schedule(tick, 0);
  });
}
