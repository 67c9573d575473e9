/**
 * Speech in, speech out, offline: a WAV of speech → utterances (Silero VAD) → transcripts (pocketsphinx, grammar of
 * the expected phrases) printed → replies (echo responder) → spoken (espeak-ng) → one reply WAV.
 * Needs the Debian packages espeak-ng, pocketsphinx and pocketsphinx-en-us (see docs/ML.md).
 *
 *   npx tsx examples/voice-file.ts [input.wav] [reply.wav] [phrase ...]
 *   (defaults: assets/sample-speech.wav, out/reply.wav, the sentences listed in assets/sample-speech.json)
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, tap } from 'rxjs';
import { fromWavFile, resample, toWavFile, vadTriggeredBuffer, type WavFileInfo } from '../src/index.js';
import { respond, speechToText, textToSpeech, vad, type Transcript } from '../src/operators/ml/index.js';

/** Runs the chain on `input`, calls `onTranscript` for each utterance heard, writes the spoken replies to `output`. */
export async function voiceFile(input: string, output: string, phrases: readonly string[], onTranscript: (t: Transcript) => void): Promise<WavFileInfo> {
  await mkdir(dirname(output), { recursive: true });
  return lastValueFrom(
    fromWavFile(input, { chunkMs: 20 }).pipe(
      resample({ rate: 16_000 }),
      vad(),
      vadTriggeredBuffer({ preRollMs: 300, minSpeechMs: 500, minSilenceMs: 500 }),
      speechToText({ phrases: [...phrases] }),
      tap(onTranscript),
      respond({ engine: 'echo' }),
      textToSpeech({ engine: 'espeak', voice: 'en-us' }),
      toWavFile(output),
    ),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? fileURLToPath(new URL('../assets/sample-speech.wav', import.meta.url));
  const output = process.argv[3] ?? 'out/reply.wav';
  let phrases = process.argv.slice(4);
  if (phrases.length === 0) {
    const meta = JSON.parse(await readFile(new URL('../assets/sample-speech.json', import.meta.url), 'utf8')) as { sentences: { text: string }[] };
    phrases = meta.sentences.map((s) => s.text);
  }
  const info = await voiceFile(input, output, phrases, (t) =>
    console.log(`heard ${(t.startPts / 1e6).toFixed(2)}–${(t.endPts / 1e6).toFixed(2)} s: "${t.text}"`),
  );
  console.log(`reply: ${info.path} (${(info.frames / info.sampleRate).toFixed(2)} s at ${info.sampleRate} Hz)`);
}
