/**
 * Remote execution: WAV file → `remote(executor, resample, energyVad, vadTriggeredBuffer)` → one WAV file per
 * utterance. The file is read here (a pullable source, so at most `window` frames are in flight), the three nodes run
 * on the executor, and the utterances come back and are written here.
 *
 *   npx tsx examples/remote-pipeline.ts [input.wav] [outDir]
 *   (defaults: assets/sample-speech.wav, out/remote-utterances)
 *
 * Uses the executor at `REMOTEMEDIA_EXECUTOR` (host:port; token from `REMOTEMEDIA_TOKEN`) when set, e.g. one started
 * with `npx remotemedia executor --port 50051`; otherwise starts one in this process on a free loopback port.
 */
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { startExecutor, type Executor } from '../executor/index.js';
import { energyVad, fromWavFile, remote, resample, vadTriggeredBuffer, type AudioFrame, type RemoteConfig } from '../src/index.js';
import { describeUtterance, writeUtterances, type Utterance } from './compose-pipeline.js';

/** Runs the pipeline with its nodes on the executor at `config.address` and writes the utterances under `outDir`. */
export async function findUtterancesRemotely(config: RemoteConfig, input: string, outDir: string): Promise<Utterance[]> {
  const frames = await lastValueFrom(
    fromWavFile(input, { chunkMs: 20 }).pipe(
      remote<AudioFrame, AudioFrame>(
        config,
        resample({ rate: 16_000 }),
        energyVad({ frameMs: 30, mode: 'annotate' }),
        vadTriggeredBuffer({ preRollMs: 300, minSpeechMs: 500, minSilenceMs: 500 }),
      ),
      toArray(),
    ),
  );
  return writeUtterances(frames, outDir);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? fileURLToPath(new URL('../assets/sample-speech.wav', import.meta.url));
  const outDir = process.argv[3] ?? 'out/remote-utterances';
  const external = process.env['REMOTEMEDIA_EXECUTOR'];
  let executor: Executor | undefined;
  if (external === undefined) executor = await startExecutor({ port: 0, logLevel: 'warn' });
  const address = external ?? executor!.address;
  try {
    const utterances = await findUtterancesRemotely({ address, token: process.env['REMOTEMEDIA_TOKEN'] }, input, outDir);
    console.log(`${utterances.length} utterance(s) in ${input}, found on executor ${address}:`);
    for (const u of utterances) console.log(`  ${describeUtterance(u)}`);
  } finally {
    await executor?.close();
  }
}
