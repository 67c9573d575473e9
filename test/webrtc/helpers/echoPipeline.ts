/** Test-only pipelines built from existing nodes: echo each utterance back as audio, or reply with a long tone. */
import { map, pipe, type OperatorFunction } from 'rxjs';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { echoPipeline } from '../../../src/media/webrtc/pipelines.js';
import type { WebRtcPipelineOutput } from '../../../src/media/webrtc/pipelineTypes.js';
import { energyVad } from '../../../src/operators/audio/energyVad.js';
import { vadTriggeredBuffer } from '../../../src/operators/audio/vadTriggeredBuffer.js';

/** The public echo pipeline: { type: 'utterance' } event + the utterance itself as the reply. */
export function echoUtterances(): OperatorFunction<AudioFrame, WebRtcPipelineOutput> {
  return echoPipeline();
}

/** After each utterance replies with `seconds` of a 440 Hz tone at 24 kHz (so the server must resample). */
export function toneReply(seconds: number): OperatorFunction<AudioFrame, WebRtcPipelineOutput> {
  return pipe(
    energyVad({ threshold: 0.02, frameMs: 20 }),
    vadTriggeredBuffer({ preRollMs: 100, minSpeechMs: 200, minSilenceMs: 300 }),
    map((): AudioFrame => ({
      samples: Float32Array.from({ length: seconds * 24_000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 24_000)),
      sampleRate: 24_000,
      channels: 1,
      pts: 0,
    })),
  );
}
