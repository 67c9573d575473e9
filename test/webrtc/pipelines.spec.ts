import { from, lastValueFrom, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import { echoPipeline, sendEvents, vadEvents } from '../../src/media/webrtc/pipelines.js';
import type { WebRtcEvent } from '../../src/media/webrtc/pipelineTypes.js';
import { VoiceSession } from '../../src/media/webrtc/voiceSession.js';
import { energyVad } from '../../src/operators/audio/energyVad.js';
import { createTestScheduler } from '../../src/testing/index.js';

const frame = (value: number, i: number): AudioFrame => ({ samples: new Float32Array(960).fill(value), sampleRate: 48_000, channels: 1, pts: i * 20_000 });

describe('echoPipeline', () => {
  it('sends an utterance event and the utterance itself back', async () => {
    const input = [...Array(10)].map((_, i) => frame(0, i)).concat([...Array(20)].map((_, i) => frame(0.3, 10 + i)), [...Array(20)].map((_, i) => frame(0, 30 + i)));
    const out = await lastValueFrom(from(input).pipe(echoPipeline(), toArray()));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ type: 'utterance', speechMs: 400 });
    const reply = out[1] as AudioFrame;
    // 100 ms pre-roll + 400 ms speech + 300 ms trailing silence
    expect(reply.samples.length).toBe(48 * 800);
    expect(reply.metadata).toBeUndefined();
  });
});

describe('sendEvents / vadEvents', () => {
  it('sendEvents sends each item as { type, ... } and passes it on', async () => {
    const sent: WebRtcEvent[] = [];
    const ctx = { peerId: 'p', send: (e: WebRtcEvent) => sent.push(e) };
    const out = await lastValueFrom(from(['hi', { text: 'x', engine: 'e' }, 3]).pipe(sendEvents(ctx, 'transcript'), toArray()));
    expect(out).toEqual(['hi', { text: 'x', engine: 'e' }, 3]);
    expect(sent).toEqual([{ type: 'transcript', text: 'hi' }, { type: 'transcript', text: 'x', engine: 'e' }, { type: 'transcript', value: 3 }]);
  });

  it('vadEvents sends only changes of metadata.vad.isSpeech', async () => {
    const sent: WebRtcEvent[] = [];
    const ctx = { peerId: 'p', send: (e: WebRtcEvent) => sent.push(e) };
    const values = [0, 0, 0.3, 0.3, 0, 0.3];
    await lastValueFrom(from(values.map(frame)).pipe(energyVad({ frameMs: 20 }), vadEvents(ctx), toArray()));
    expect(sent.map((e) => [e.isSpeech, e.pts])).toEqual([[false, 0], [true, 40_000], [false, 80_000], [true, 100_000]]);
  });

  it("a 'vad' speech event sent from inside the pipeline barges in while a reply plays", () => {
    const scheduler = createTestScheduler((a, e) => expect(a).toEqual(e));
    const events: WebRtcEvent[] = [];
    let starts = 0;
    scheduler.run(() => {
      const session = new VoiceSession({
        peerId: 'p',
        scheduler,
        bargeIn: { enabled: false },
        replayMs: 0,
        sendFrame: () => undefined,
        sendEvent: (e) => events.push(e),
        pipeline: (input$: Observable<AudioFrame>, ctx) => {
          starts++;
          return new Observable<AudioFrame>((sub) =>
            input$.subscribe((f) => {
              if (f.pts === 0) sub.next({ samples: new Float32Array(48_000), sampleRate: 48_000, channels: 1, pts: 0 });
              else ctx.send({ type: 'vad', isSpeech: true });
            }),
          );
        },
      });
      session.start();
      scheduler.schedule(() => session.pushInput(frame(0, 0)), 0);
      scheduler.schedule(() => session.pushInput(frame(0, 1)), 100);
      scheduler.schedule(() => session.close(), 200);
    });
    expect(events.find((e) => e.state === 'interrupted')).toMatchObject({ reason: 'vad' });
    expect(starts).toBe(2);
  });
});
