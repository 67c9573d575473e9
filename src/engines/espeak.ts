/**
 * `espeak` text-to-speech engine: Debian `espeak-ng`, the offline default. One short-lived `espeak-ng --stdout`
 * process per sentence (start-up is a few milliseconds: measured in bench/ml.ts), text on stdin so that it is never
 * parsed as options. Output: 16-bit mono WAV at 22050 Hz.
 * @module
 */
import { RemoteMediaError } from '../errors.js';
import { onPath, spawnTracked } from './childProcesses.js';
import { EngineUnavailableError } from './engineErrors.js';
import type { SynthesisOptions, TtsEngine } from './types.js';

const LABEL = 'espeak';
const BINARY = 'espeak-ng';
/** espeak-ng's output rate, Hz. */
export const ESPEAK_SAMPLE_RATE = 22_050;
/** espeak-ng's default speaking rate (words per minute), which `speed: 1` means. */
const WORDS_PER_MINUTE = 175;

/**
 * Samples and rate of espeak-ng's 16-bit mono WAV; its data size field is a placeholder when streaming, so the data
 * runs to the end.
 */
export function decodeEspeakWav(bytes: Uint8Array): { samples: Float32Array; sampleRate: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  let sampleRate = 0;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (id === 'fmt ') sampleRate = view.getUint32(offset + 12, true);
    if (id === 'data') {
      const start = offset + 8;
      const count = Math.floor((bytes.length - start) / 2);
      const samples = new Float32Array(count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(start + i * 2, true) / 32768;
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  throw new RemoteMediaError('NODE_FAILED', `${BINARY} produced no WAV data chunk`);
}

function synthesize(text: string, { voice, speed }: SynthesisOptions, signal?: AbortSignal): Promise<Float32Array> {
  const wordsPerMinute = String(Math.round(Math.min(Math.max(WORDS_PER_MINUTE * speed, 80), 450)));
  const child = spawnTracked(BINARY, ['--stdout', '-v', voice, '-s', wordsPerMinute]);
  const abort = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', abort, { once: true });
  return new Promise<Float32Array>((resolve, reject) => {
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? notInstalled(e) : new EngineUnavailableError(LABEL, `cannot start ${BINARY}: ${e.message}`, { cause: e })),
    );
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', abort);
      if (code !== 0 || err.trim() !== '') {
        // espeak-ng reports an unknown voice on stderr (and exits 1).
        reject(new RemoteMediaError('NODE_FAILED', `${BINARY} failed (${sig ?? `code ${String(code)}`}): ${err.trim() || 'no message'}`));
        return;
      }
      try {
        resolve(decodeEspeakWav(Buffer.concat(out)).samples);
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(text);
  });
}

function notInstalled(cause?: unknown): EngineUnavailableError {
  return new EngineUnavailableError(LABEL, `'${BINARY}' not found on PATH: install the Debian package espeak-ng (apt-get install -y espeak-ng)`, { cause });
}

/** @throws {@link EngineUnavailableError} when `espeak-ng` is not installed. */
export function loadEspeak(): TtsEngine {
  if (!onPath(BINARY)) throw notInstalled();
  return {
    label: LABEL,
    capabilities: { sampleRate: ESPEAK_SAMPLE_RATE, defaultVoice: 'en-us' },
    synthesize,
    close: () => undefined,
  };
}
