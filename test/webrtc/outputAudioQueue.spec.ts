import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidParamsError } from '../../src/errors.js';
import { OutputAudioQueue } from '../../src/media/webrtc/outputAudioQueue.js';

const frame = (n: number, value = 0.5, sampleRate = 48_000) => ({ samples: new Float32Array(n).fill(value), sampleRate, channels: 1, pts: 0 });

describe('OutputAudioQueue', () => {
  it('hands out exactly 960-sample frames, reply audio first, then silence', () => {
    const q = new OutputAudioQueue({ initialTimestamp: 1000, initialSequenceNumber: 7, label: 'test.oq.basic' });
    q.enqueue(frame(960 * 2 + 100, 0.25));
    const out = Array.from({ length: 5 }, () => q.next());
    expect(out.map((f) => f.samples.length)).toEqual([960, 960, 960, 960, 960]);
    expect(out.map((f) => f.silent)).toEqual([false, false, false, true, true]);
    expect(out.map((f) => f.marker)).toEqual([true, false, false, false, false]);
    // the 100-sample remainder is padded with zeros
    expect(out[2]!.samples[99]).toBe(0.25);
    expect(out[2]!.samples[100]).toBe(0);
    expect(out[3]!.samples.every((s) => s === 0)).toBe(true);
    expect(out.map((f) => f.timestamp)).toEqual([1000, 1960, 2920, 3880, 4840]);
    expect(out.map((f) => f.sequenceNumber)).toEqual([7, 8, 9, 10, 11]);
  });

  it('keeps RTP timestamps and sequence numbers monotonic across utterances and wraps them', () => {
    const q = new OutputAudioQueue({ initialTimestamp: 2 ** 32 - 960, initialSequenceNumber: 65535, label: 'test.oq.wrap' });
    q.enqueue(frame(960));
    const a = q.next();
    q.next(); // silence between utterances
    q.enqueue(frame(960));
    const b = q.next();
    expect([a.timestamp, a.sequenceNumber]).toEqual([2 ** 32 - 960, 65535]);
    expect([b.timestamp, b.sequenceNumber]).toEqual([960, 1]);
    expect(b.marker).toBe(true); // a new talkspurt
  });

  it('a remainder waits for the next reply rather than being padded when audio keeps coming', () => {
    const q = new OutputAudioQueue({ label: 'test.oq.join' });
    q.enqueue(frame(500, 0.1));
    q.enqueue(frame(460, 0.2));
    const f = q.next();
    expect(f.samples[499]).toBeCloseTo(0.1);
    expect(f.samples[500]).toBeCloseTo(0.2);
    expect(f.samples[959]).toBeCloseTo(0.2);
    expect(q.next().silent).toBe(true);
  });

  it('queues losslessly up to maxQueuedMs, then drops the oldest and counts', () => {
    const drops: number[] = [];
    const q = new OutputAudioQueue({ maxQueuedMs: 100, label: 'test.oq.drop', onDrop: (n) => drops.push(n) });
    for (let i = 0; i < 5; i++) q.enqueue(frame(960, i / 10));
    expect(q.stats()).toMatchObject({ dropped: 0, queuedFrames: 5, queuedMs: 100 });
    q.enqueue(frame(960 * 2, 0.9));
    expect(q.stats()).toMatchObject({ dropped: 2, queuedFrames: 5 });
    expect(drops).toEqual([1, 2]);
    expect(q.next().samples[0]).toBeCloseTo(0.2); // frames 0 and 1 were the oldest
    expect(q.flowStats()).toMatchObject({ dropped: 2, active: 1 });
  });

  it('clear() (barge-in) empties the queue at once and the next frame is silence', () => {
    const q = new OutputAudioQueue({ label: 'test.oq.clear' });
    q.enqueue(frame(960 * 10 + 5));
    q.next();
    expect(q.playing).toBe(true);
    expect(q.clear()).toBe(10);
    expect(q.playing).toBe(false);
    const f = q.next();
    expect(f.silent).toBe(true);
    expect(q.stats()).toMatchObject({ cleared: 10, audioFrames: 1, framesSent: 2 });
  });

  it('rejects audio of another format and bad options with typed errors naming the field', () => {
    const q = new OutputAudioQueue({ label: 'test.oq.bad' });
    expect(() => q.enqueue(frame(960, 0.5, 16_000))).toThrow(InvalidInputError);
    expect(() => q.enqueue({ samples: [1, 2] } as never)).toThrow(/field 'samples'/);
    expect(() => new OutputAudioQueue({ frameMs: 0.01 })).toThrow(InvalidParamsError);
    expect(() => new OutputAudioQueue({ maxQueuedMs: 5 })).toThrow(/maxQueuedMs/);
  });

  it('close() releases the queue from the flow counters and ignores later audio', () => {
    const q = new OutputAudioQueue({ label: 'test.oq.close' });
    q.enqueue(frame(960 * 3));
    q.close();
    q.close();
    q.enqueue(frame(960));
    expect(q.flowStats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('property: below the limit, every enqueued sample comes out once, in order, then only silence', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 12 }), (sizes) => {
        const q = new OutputAudioQueue({ label: 'test.oq.prop', initialTimestamp: 0, initialSequenceNumber: 0 });
        let k = 0;
        const sent: number[] = [];
        for (const n of sizes) {
          const samples = new Float32Array(n);
          for (let i = 0; i < n; i++) samples[i] = ((k++ % 1000) + 1) / 2000;
          q.enqueue({ samples, sampleRate: 48_000, channels: 1, pts: 0 });
        }
        const total = k;
        const frames = Math.ceil(total / 960) + 2;
        for (let i = 0; i < frames; i++) {
          const f = q.next();
          expect(f.timestamp).toBe(i * 960);
          for (const s of f.samples) if (s !== 0) sent.push(s);
        }
        expect(sent.length).toBe(total);
        const wrong = sent.findIndex((s, i) => Math.abs(s - ((i % 1000) + 1) / 2000) > 1e-6);
        expect(wrong).toBe(-1);
        q.close();
      }),
      { numRuns: 50 },
    );
  });
});
