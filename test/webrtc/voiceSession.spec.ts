import { finalize, map, mergeMap, of, Subject, throwError, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import type { OutputFrame } from '../../src/media/webrtc/outputAudioQueue.js';
import type { WebRtcEvent, WebRtcPipelineOutput } from '../../src/media/webrtc/pipelineTypes.js';
import { liveVoiceSessionResources, VoiceSession, type VoiceSessionOptions } from '../../src/media/webrtc/voiceSession.js';
import { createTestScheduler } from '../../src/testing/index.js';

const mic = (value: number, pts: number): AudioFrame => ({ samples: new Float32Array(960).fill(value), sampleRate: 48_000, channels: 1, pts });
const reply = (ms: number, value = 0.1, sampleRate = 48_000): AudioFrame => ({ samples: new Float32Array((sampleRate * ms) / 1000).fill(value), sampleRate, channels: 1, pts: 0 });

/** Runs a session under a TestScheduler; `script(push, at)` schedules microphone frames. */
function run(pipeline: VoiceSessionOptions['pipeline'], script: (at: (ms: number, fn: () => void) => void, session: VoiceSession) => void, untilMs: number, extra: Partial<VoiceSessionOptions> = {}) {
  const scheduler = createTestScheduler((a, e) => expect(a).toEqual(e));
  const frames: Array<{ t: number; frame: OutputFrame }> = [];
  const events: Array<{ t: number; event: WebRtcEvent }> = [];
  let session!: VoiceSession;
  scheduler.run(() => {
    session = new VoiceSession({
      peerId: 'p1',
      pipeline,
      scheduler,
      sendFrame: (frame) => frames.push({ t: scheduler.now(), frame }),
      sendEvent: (event) => events.push({ t: scheduler.now(), event }),
      warn: () => undefined,
      ...extra,
    });
    session.start();
    script((ms, fn) => scheduler.schedule(fn, ms), session);
    scheduler.schedule(() => session.close(), untilMs);
  });
  return { frames, events, session };
}

describe('VoiceSession', () => {
  it('plays pipeline audio on the 20 ms clock, silence otherwise, and sends other output as events', () => {
    const pipeline = (input$: Observable<AudioFrame>) =>
      input$.pipe(mergeMap((f): Observable<WebRtcPipelineOutput> => of({ type: 'vad', isSpeech: false, pts: f.pts }, 'heard you', reply(40, 0.25))));
    const { frames, events, session } = run(pipeline, (at, s) => at(30, () => s.pushInput(mic(0.01, 0))), 200);
    expect(frames.map((f) => f.t)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180]);
    expect(frames.map((f) => (f.frame.silent ? '-' : 'A')).join('')).toBe('--AA------');
    const ts = frames.map((f) => f.frame.timestamp);
    expect(ts.slice(1).map((t, i) => (t - ts[i]! + 2 ** 32) % 2 ** 32)).toEqual(Array(9).fill(960));
    expect(events.map((e) => e.event.type)).toEqual(['vad', 'response', 'playback', 'playback']);
    expect(events[1]!.event).toEqual({ type: 'response', text: 'heard you' });
    expect(events.slice(2).map((e) => [e.t, e.event.state])).toEqual([[40, 'started'], [80, 'finished']]);
    expect(session.stats()).toMatchObject({ inputFrames: 1, audioFramesSent: 2, framesSent: 10, pipelineStarts: 1 });
  });

  it('converts reply audio of another rate/channels to 48 kHz mono for the track', () => {
    const stereo22k: AudioFrame = { samples: new Float32Array(2 * 2205).fill(0.2), sampleRate: 22_050, channels: 2, pts: 0 };
    const pipeline = (input$: Observable<AudioFrame>) => input$.pipe(map(() => stereo22k));
    const { frames } = run(pipeline, (at, s) => at(0, () => s.pushInput(mic(0, 0))), 400);
    const audio = frames.filter((f) => !f.frame.silent);
    // 100 ms at 22.05 kHz → 4800 samples at 48 kHz, held tail included? the resampler keeps its tail until the run ends
    expect(audio.length).toBeGreaterThanOrEqual(4);
    expect(audio.length).toBeLessThanOrEqual(5);
    expect(audio[1]!.frame.samples[500]).toBeCloseTo(0.2, 2);
  });

  it('barge-in: 60 ms of new speech during a reply silences the next frame and cancels the in-flight reply', () => {
    let subscriptions = 0;
    let unsubscribed = 0;
    const seenByPipeline: number[][] = [];
    const pipeline = (input$: Observable<AudioFrame>) => {
      const mine: number[] = [];
      seenByPipeline.push(mine);
      subscriptions++;
      return input$.pipe(
        mergeMap((f) => {
          mine.push(f.pts);
          return f.samples[0]! < 0.05 ? of(reply(2000)) : of({ type: 'heard', pts: f.pts });
        }),
        finalize(() => unsubscribed++),
      );
    };
    const { frames, events, session } = run(
      pipeline,
      (at, s) => {
        at(0, () => s.pushInput(mic(0.01, 0))); // "utterance" → 2 s reply
        for (let k = 0; k < 4; k++) at(200 + 20 * k, () => s.pushInput(mic(0.5, (1 + k) * 20_000))); // user speaks again
      },
      400,
      { replayMs: 0 },
    );
    const at = (t: number) => frames.find((f) => f.t === t)!.frame;
    expect(at(220).silent).toBe(false);
    // the third loud frame arrives at 240 (60 ms of speech): the frame sent at 240 is already silence
    expect(frames.filter((f) => f.t >= 240).every((f) => f.frame.silent)).toBe(true);
    const interrupted = events.find((e) => e.event.type === 'playback' && e.event.state === 'interrupted')!;
    expect(interrupted.t).toBe(240);
    expect(interrupted.event.reason).toBe('speech');
    expect(subscriptions).toBe(2);
    expect(session.stats()).toMatchObject({ bargeIns: 1, pipelineStarts: 2 });
    // the new pipeline got the interrupting speech replayed (60 ms, not the earlier trigger), then the live frame after
    expect(seenByPipeline[1]).toEqual([20_000, 40_000, 60_000, 80_000]);
    expect(unsubscribed).toBe(2); // the first on barge-in, the second on close
  });

  it("a pipeline 'vad' event with isSpeech during playback also interrupts", () => {
    const pipeline = (input$: Observable<AudioFrame>) =>
      input$.pipe(mergeMap((f) => (f.pts === 0 ? of(reply(1000)) : of({ type: 'vad', isSpeech: true }))));
    const { frames, events } = run(pipeline, (at, s) => {
      at(0, () => s.pushInput(mic(0, 0)));
      at(100, () => s.pushInput(mic(0, 20_000)));
    }, 200, { bargeIn: { enabled: false }, replayMs: 20 });
    expect(frames.filter((f) => f.t > 100).every((f) => f.frame.silent)).toBe(true);
    expect(events.some((e) => e.event.state === 'interrupted' && e.event.reason === 'vad')).toBe(true);
  });

  it('no barge-in when nothing is playing; speech just flows to the pipeline', () => {
    const pipeline = (input$: Observable<AudioFrame>) => input$.pipe(map((f) => ({ type: 'heard', pts: f.pts })));
    const { session } = run(pipeline, (at, s) => {
      for (let k = 0; k < 10; k++) at(20 * k, () => s.pushInput(mic(0.5, k * 20_000)));
    }, 300);
    expect(session.stats()).toMatchObject({ bargeIns: 0, pipelineStarts: 1, inputFrames: 10 });
  });

  it('a failing pipeline sends an error event and restarts on the next input frame', () => {
    let starts = 0;
    const pipeline = (input$: Observable<AudioFrame>) => {
      starts++;
      return input$.pipe(mergeMap((f) => (f.pts === 0 ? throwError(() => new Error('model crashed')) : of({ type: 'ok', pts: f.pts }))));
    };
    const { events, session } = run(pipeline, (at, s) => {
      at(0, () => s.pushInput(mic(0, 0)));
      at(50, () => s.pushInput(mic(0, 20_000)));
    }, 100);
    expect(events.map((e) => e.event)).toEqual([
      { type: 'error', code: 'INTERNAL', message: 'model crashed', node: null },
      { type: 'ok', pts: 20_000 },
    ]);
    expect(starts).toBe(2);
    expect(session.stats().pipelineErrors).toBe(1);
  });

  it('sessions can share one clock: each tick gives every session exactly one frame', () => {
    const clock = new Subject<void>();
    const counts = [0, 0];
    const sessions = [0, 1].map(
      (i) => new VoiceSession({ peerId: `p${i}`, pipeline: (input$: Observable<AudioFrame>) => input$, clock, sendFrame: () => counts[i]!++, sendEvent: () => undefined }),
    );
    sessions.forEach((s) => s.start());
    for (let t = 0; t < 3; t++) clock.next();
    expect(counts).toEqual([3, 3]);
    sessions[0]!.close();
    clock.next();
    expect(counts).toEqual([3, 4]);
    sessions[1]!.close();
    expect(clock.observed).toBe(false);
  });

  it('a throwing sendFrame is reported and counted, never thrown into the shared clock', () => {
    const clock = new Subject<void>();
    const warnings: string[] = [];
    let other = 0;
    const failing = new VoiceSession({ peerId: 'bad', pipeline: (i: Observable<AudioFrame>) => i, clock, warn: (m) => warnings.push(m), sendEvent: () => undefined, sendFrame: () => {
      throw new Error('encoder gone');
    } });
    const fine = new VoiceSession({ peerId: 'ok', pipeline: (i: Observable<AudioFrame>) => i, clock, sendEvent: () => undefined, sendFrame: () => other++ });
    failing.start();
    fine.start();
    for (let t = 0; t < 3; t++) clock.next();
    expect(other).toBe(3);
    expect(failing.stats().outputErrors).toBe(3);
    expect(warnings).toEqual(['[webrtc bad] sending a frame failed: encoder gone']);
    failing.close();
    fine.close();
  });

  it('input before start() subscribes nothing; start() subscribes the pipeline exactly once', () => {
    let subscriptions = 0;
    const session = new VoiceSession({
      peerId: 'p0',
      pipeline: (input$: Observable<AudioFrame>) => {
        subscriptions++;
        return input$;
      },
      sendFrame: () => undefined,
      sendEvent: () => undefined,
      scheduler: createTestScheduler(),
    });
    session.pushInput(mic(0.1, 0));
    expect(subscriptions).toBe(0);
    session.start();
    session.start();
    session.pushInput(mic(0.1, 20_000));
    expect(subscriptions).toBe(1);
    session.close();
  });

  it('sends metrics every N frames and releases every resource on close', () => {
    const before = liveVoiceSessionResources();
    let finalized = 0;
    const pipeline = (input$: Observable<AudioFrame>) => input$.pipe(finalize(() => finalized++));
    const { events } = run(pipeline, () => undefined, 100, { metricsEveryFrames: 2 });
    const metrics = events.filter((e) => e.event.type === 'metrics');
    expect(metrics.map((m) => m.t)).toEqual([20, 60]);
    expect(metrics[0]!.event).toMatchObject({ peerId: 'p1', framesSent: 2, dropped: 0 });
    expect(finalized).toBe(1);
    expect(liveVoiceSessionResources()).toEqual(before);
  });
});
