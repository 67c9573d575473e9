/**
 * Compose a pipeline from nodes: WAV file → resample to 16 kHz mono → energy VAD → VAD-triggered buffer → one WAV file
 * per utterance.
 *
 *   npx tsx examples/compose-pipeline.ts [input.wav] [outDir]
 *   (defaults: assets/sample-speech.wav, out/utterances)
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, of, toArray } from 'rxjs';
import {
  audioTransform,
  durationMicros,
  energyVad,
  fromWavFile,
  toWavFile,
  vadTriggeredBuffer,
  type AudioFrame,
  type WavFileInfo,
} from '../src/index.js';

/** One utterance found in the input, and the file it was written to. */
export interface Utterance {
  readonly index: number;
  /** Seconds from the start of the input. */
  readonly start: number;
  readonly end: number;
  readonly file: WavFileInfo;
}

/** The node chain, shared by the local and the remote demo. */
export function utteranceNodes() {
  return [
    audioTransform({ sampleRate: 16_000, channels: 1 }),
    energyVad({ frameMs: 30, mode: 'annotate' }),
    vadTriggeredBuffer({ preRollMs: 300, minSpeechMs: 500, minSilenceMs: 500 }),
  ] as const;
}

/** Writes each utterance frame to `<outDir>/utterance-<n>.wav`. */
export async function writeUtterances(frames: readonly AudioFrame[], outDir: string): Promise<Utterance[]> {
  await mkdir(outDir, { recursive: true });
  const utterances: Utterance[] = [];
  for (const [i, frame] of frames.entries()) {
    const file = await lastValueFrom(of(frame).pipe(toWavFile(join(outDir, `utterance-${i + 1}.wav`))));
    utterances.push({ index: i + 1, start: frame.pts / 1e6, end: (frame.pts + durationMicros(frame)) / 1e6, file });
  }
  return utterances;
}

/** Runs the pipeline locally on `input` and writes the utterances under `outDir`. */
export async function findUtterances(input: string, outDir: string): Promise<Utterance[]> {
  const [transform, vad, trigger] = utteranceNodes();
  const frames = await lastValueFrom(fromWavFile(input, { chunkMs: 20 }).pipe(transform, vad, trigger, toArray()));
  return writeUtterances(frames, outDir);
}

/** "1: 0.52 s – 2.31 s (1.79 s) → out/utterances/utterance-1.wav" */
export function describeUtterance(u: Utterance): string {
  return `${u.index}: ${u.start.toFixed(2)} s – ${u.end.toFixed(2)} s (${(u.end - u.start).toFixed(2)} s) → ${u.file.path}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? fileURLToPath(new URL('../assets/sample-speech.wav', import.meta.url));
  const outDir = process.argv[3] ?? 'out/utterances';
  const utterances = await findUtterances(input, outDir);
  console.log(`${utterances.length} utterance(s) in ${input}:`);
  for (const u of utterances) console.log(`  ${describeUtterance(u)}`);
}
