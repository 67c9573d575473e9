import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { OutputAudioQueue } from '../../src/media/webrtc/outputAudioQueue.js';
import { pacedFrames } from '../../src/media/webrtc/pacedFrames.js';
import { createTestScheduler } from '../../src/testing/index.js';

const assertEqual = (a: unknown, e: unknown) => expect(a).toEqual(e);

describe('pacedFrames', () => {
  it('emits one frame every 20 ms of virtual time, starting at subscribe', () => {
    const scheduler = createTestScheduler(assertEqual);
    scheduler.run(({ expectObservable }) => {
      let n = 0;
      const ticks = pacedFrames(() => n++, { scheduler }).pipe(take(4));
      expectObservable(ticks).toBe('a 19ms b 19ms c 19ms (d|)', { a: 0, b: 1, c: 2, d: 3 });
    });
  });

  it('drives an OutputAudioQueue: 50 frames per second, silence when idle, timestamps +960 per frame', () => {
    const scheduler = createTestScheduler(assertEqual);
    scheduler.run(({ cold, expectObservable }) => {
      const q = new OutputAudioQueue({ initialTimestamp: 0, initialSequenceNumber: 0, label: 'test.paced.queue' });
      // reply audio (60 ms) arrives at 30 ms
      cold('30ms a', { a: { samples: new Float32Array(2880).fill(0.5), sampleRate: 48_000, channels: 1, pts: 0 } }).subscribe((f) => q.enqueue(f));
      const frames = pacedFrames(() => q.next(), { scheduler }).pipe(take(6));
      const view = (f: { silent: boolean; timestamp: number }) => `${f.silent ? 's' : 'A'}${f.timestamp}`;
      const seen: string[] = [];
      frames.subscribe((f) => seen.push(view(f)));
      expectObservable(cold('100ms (x|)', { x: 0 })).toBe('100ms (x|)', { x: 0 });
      scheduler.schedule(() => {
        expect(seen).toEqual(['s0', 's960', 'A1920', 'A2880', 'A3840', 's4800']);
      }, 101);
    });
  });

  it('keeps absolute due times when a tick is late, and skips slots after a long stall', () => {
    // A fake clock whose timers fire late by a chosen amount: the due times must not drift.
    let now = 0;
    const timers: Array<{ at: number; run: () => void }> = [];
    const scheduler = {
      now: () => now,
      schedule(work: (this: { schedule(s: undefined, d: number): void }) => void, delay = 0) {
        const action = {
          schedule(_s: undefined, d: number) {
            timers.push({ at: now + d, run: () => work.call(action) });
            return action;
          },
        };
        timers.push({ at: now + delay, run: () => work.call(action) });
        return { unsubscribe: () => timers.splice(0) };
      },
    };
    const emittedAt: number[] = [];
    const skips: number[] = [];
    const sub = pacedFrames(() => emittedAt.push(now), { scheduler: scheduler as never, onSkip: (n) => skips.push(n) }).subscribe();
    const runNext = (lateBy: number) => {
      const t = timers.shift()!;
      now = t.at + lateBy;
      t.run();
    };
    runNext(0); // t=0
    runNext(7); // due 20, fires at 27
    expect(timers[0]!.at).toBe(40); // next wait is 13 ms, not 20
    runNext(0);
    runNext(45); // due 60, fires at 105: 2 slots behind -> catch up (60, 80, 100 emitted at once)
    expect(emittedAt).toEqual([0, 27, 40, 105, 105, 105]);
    runNext(500); // due 120, fires at 620: 25 slots behind -> skip, emit one
    expect(skips).toEqual([25]);
    expect(emittedAt.slice(6)).toEqual([620]);
    expect(timers[0]!.at).toBe(640);
    sub.unsubscribe();
    expect(timers).toHaveLength(0);
  });

  it('unsubscribe cancels the pending timer; a throwing producer errors the stream', () => {
    const scheduler = createTestScheduler(assertEqual);
    scheduler.run(({ expectObservable }) => {
      let n = 0;
      const failing = pacedFrames(() => {
        if (n++ === 2) throw new Error('boom');
        return n;
      }, { scheduler });
      expectObservable(failing).toBe('a 19ms b 19ms #', { a: 1, b: 2 }, new Error('boom'));
      expectObservable(pacedFrames(() => 0, { scheduler }), '^ 30ms !').toBe('a 19ms a', { a: 0 });
    });
  });

  it('rejects bad options with typed errors', () => {
    expect(() => pacedFrames(() => 0, { periodMs: 0 })).toThrow(/periodMs/);
    expect(() => pacedFrames(() => 0, { maxCatchUp: 0 })).toThrow(/maxCatchUp/);
  });
});
