/**
 * ML benchmarks: Silero VAD real-time factor and how many concurrent 16 kHz streams one core sustains; STT and TTS
 * latency per utterance for each engine available offline (pocketsphinx, espeak); Whisper/Kokoro only when real
 * weights are in $REMOTEMEDIA_MODELS. Audio is real espeak-ng speech (with pauses), in 20 ms frames from a pullable
 * source, through the public nodes.
 * Prints one JSON line per scenario and writes the `ml` section of bench/RESULTS.md.
 *   npx tsx bench/ml.ts
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { closeEngines, MODELS_ENV, preloadEngines } from '../src/engines/index.js';
import { fromAsyncIterable } from '../src/flow/pullable.js';
import type { AudioFrame } from '../src/media/audioFrame.js';
import { speechToText } from '../src/operators/ml/speechToText.js';
import { textToSpeech } from '../src/operators/ml/textToSpeech.js';
import { vad } from '../src/operators/ml/vad.js';
import { composeSpeech, speak, toFrames } from '../test/fixtures/ml/speech.js';
import { machine, median, percentile, writeResultsSection } from './lib.js';

const SR = 16_000;
const PHRASES = ['turn on the lights', 'turn off the lights', 'open the door', 'close the door', 'what time is it', 'hello world', 'play some music', 'stop the music', 'good morning', 'call my mother'];
const lines: string[] = [];
const report = (row: Record<string, unknown>): void => {
  console.log(JSON.stringify(row));
};

/** Runs `streams` vad streams of `frames` concurrently; returns wall and CPU seconds. */
async function runVad(frames: readonly AudioFrame[], streams: number, windowSamples: 512 | 1024 | 1536): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: streams }, () => lastValueFrom(fromAsyncIterable(frames).pipe(vad({ windowSamples }), toArray()))));
  const wall = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  return { wall, cpu: (used.user + used.system) / 1e6 };
}

async function benchVad(): Promise<void> {
  // 30 s of speech with pauses, repeated from a 10-phrase recording.
  const recording = await composeSpeech(PHRASES, 700, 500);
  const seconds = recording.samples.length / SR;
  const frames = toFrames(recording.samples, SR, 20);
  await preloadEngines([{ kind: 'vad', name: 'silero' }]);
  await runVad(frames, 1, 512); // warm-up
  lines.push('', '### Silero VAD (`vad()`, 20 ms frames, pullable source)', '', `Audio: ${seconds.toFixed(1)} s of espeak speech with pauses per stream.`, '');
  lines.push('| window | streams | wall s | CPU s | RTF per stream (wall) | CPU RTF (CPU s per audio s) | streams per core (1 / CPU RTF) |', '|---|---|---|---|---|---|---|');
  for (const windowSamples of [512, 1536] as const) {
    for (const streams of [1, 8, 32]) {
      const { wall, cpu } = await runVad(frames, streams, windowSamples);
      const audio = seconds * streams;
      const cpuRtf = cpu / audio;
      report({ scenario: 'vad', windowSamples, streams, audioSeconds: audio, wall, cpu, rtfWall: wall / seconds, cpuRtf, streamsPerCore: 1 / cpuRtf });
      lines.push(`| ${windowSamples} (${(windowSamples / 16).toFixed(0)} ms) | ${streams} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${(wall / seconds).toFixed(4)} | ${cpuRtf.toFixed(4)} | ${(1 / cpuRtf).toFixed(0)} |`);
    }
  }
  await closeEngines();
}

async function benchPocketsphinx(): Promise<void> {
  const clips = await Promise.all(PHRASES.map((p) => speak(p)));
  const t0 = performance.now();
  await preloadEngines([{ kind: 'stt', name: 'pocketsphinx', options: { phrases: PHRASES } }]);
  const load = performance.now() - t0;
  const latencies: number[] = [];
  let correct = 0;
  for (let round = 0; round < 3; round++) {
    for (const [i, samples] of clips.entries()) {
      const start = performance.now();
      const [t] = await lastValueFrom(from([{ samples, sampleRate: SR, channels: 1, pts: 0 }]).pipe(speechToText({ phrases: PHRASES }), toArray()));
      latencies.push(performance.now() - start);
      if (t?.text === PHRASES[i]) correct++;
    }
  }
  const audioMs = (clips.reduce((n, c) => n + c.length, 0) / clips.length / SR) * 1000;
  report({ scenario: 'stt', engine: 'pocketsphinx', loadMs: load, medianMs: median(latencies), p95Ms: percentile(latencies, 95), utterances: latencies.length, correct, meanUtteranceMs: audioMs });
  lines.push('', '### Speech to text (`speechToText`, one utterance at a time, engine preloaded)', '', '| engine | load (process start + warm-up) ms | latency per utterance median ms | p95 ms | mean utterance ms | exact |', '|---|---|---|---|---|---|');
  lines.push(`| pocketsphinx (grammar of ${PHRASES.length} phrases, warm process) | ${load.toFixed(0)} | ${median(latencies).toFixed(1)} | ${percentile(latencies, 95).toFixed(1)} | ${audioMs.toFixed(0)} | ${correct}/${latencies.length} |`);
  await closeEngines();
}

async function benchEspeak(): Promise<void> {
  const sentences = ['Good morning.', 'The lights in the kitchen are on now.', 'I opened the front door for you, and the music is playing.'];
  await lastValueFrom(from(['Warm up.']).pipe(textToSpeech(), toArray()));
  lines.push('', '### Text to speech (`textToSpeech`, time to the sentence\'s frame)', '', '| engine | sentence | chars | median ms | audio ms | RTF |', '|---|---|---|---|---|---|');
  for (const sentence of sentences) {
    const times: number[] = [];
    let audioMs = 0;
    for (let i = 0; i < 7; i++) {
      const start = performance.now();
      const [f] = await lastValueFrom(from([sentence]).pipe(textToSpeech(), toArray()));
      times.push(performance.now() - start);
      audioMs = (f!.samples.length / f!.sampleRate) * 1000;
    }
    report({ scenario: 'tts', engine: 'espeak', chars: sentence.length, medianMs: median(times), audioMs });
    lines.push(`| espeak (process per sentence) | ${JSON.stringify(sentence)} | ${sentence.length} | ${median(times).toFixed(1)} | ${audioMs.toFixed(0)} | ${(median(times) / audioMs).toFixed(3)} |`);
  }
}

function realWeights(): string[] {
  const dir = process.env[MODELS_ENV];
  const found: string[] = [];
  if (dir !== undefined && existsSync(path.join(dir, 'onnx-community/whisper-tiny.en/onnx/encoder_model_quantized.onnx'))) found.push('whisper');
  if (dir !== undefined && existsSync(path.join(dir, 'onnx-community/Kokoro-82M-v1.0-ONNX/onnx/model_quantized.onnx'))) found.push('kokoro');
  return found;
}

await benchVad();
await benchPocketsphinx();
await benchEspeak();
const weights = realWeights();
lines.push('', weights.length === 0
  ? `Whisper and Kokoro: not measured — no real weights in $${MODELS_ENV} on this machine (their tests run on stand-in ONNX models, whose timings mean nothing).`
  : `Real weights found for: ${weights.join(', ')} (not yet benchmarked by this script).`);
writeResultsSection('ml', [`Run ${new Date().toISOString().slice(0, 10)} on ${machine()}.`, ...lines].join('\n'));
