/**
 * The demo behind `npm start`: finds the utterances in the bundled recording (assets/sample-speech.wav, three
 * spoken sentences) with a local pipeline, writes each one to out/utterances/, and checks them against the
 * recording's script (assets/sample-speech.json). No downloads, no models.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startExecutor } from '../executor/index.js';
import { listNodes } from '../src/index.js';
import { describeUtterance, findUtterances } from './compose-pipeline.js';
import { findUtterancesRemotely } from './remote-pipeline.js';

interface Script {
  readonly sentences: ReadonlyArray<{ readonly text: string; readonly startMs: number; readonly endMs: number }>;
}

const input = fileURLToPath(new URL('../assets/sample-speech.wav', import.meta.url));
const script = JSON.parse(readFileSync(new URL('../assets/sample-speech.json', import.meta.url), 'utf8')) as Script;
const outDir = 'out/utterances';

console.log(`remotemedia demo — ${listNodes().length} node types registered`);
console.log('pipeline: fromWavFile → audioTransform(16 kHz mono) → energyVad → vadTriggeredBuffer → toWavFile');
const started = performance.now();
const utterances = await findUtterances(input, outDir);
console.log(`found ${utterances.length} utterance(s) in ${input} (${(performance.now() - started).toFixed(0)} ms):`);
for (const u of utterances) {
  // The sentence of the script that this utterance overlaps most.
  const best = script.sentences
    .map((s) => ({ s, overlap: Math.min(u.end * 1000, s.endMs) - Math.max(u.start * 1000, s.startMs) }))
    .sort((a, b) => b.overlap - a.overlap)[0];
  const said = best && best.overlap > 0 ? `"${best.s.text}" (spoken ${(best.s.startMs / 1000).toFixed(2)}–${(best.s.endMs / 1000).toFixed(2)} s)` : 'no sentence';
  console.log(`  ${describeUtterance(u)}\n     contains ${said}`);
}

// The same nodes again, this time on an executor (started here on a free loopback port) behind remote().
const executor = await startExecutor({ port: 0, logLevel: 'warn' });
try {
  const t0 = performance.now();
  const remote = await findUtterancesRemotely({ address: executor.address }, input, 'out/remote-utterances');
  const same = remote.length === utterances.length && remote.every((u, i) => u.start === utterances[i]?.start && u.end === utterances[i]?.end);
  console.log(
    `remote(): the same chain on executor ${executor.address} found ${remote.length} utterance(s) ` +
      `(${(performance.now() - t0).toFixed(0)} ms) — ${same ? 'identical to the local run' : 'DIFFERENT from the local run'}`,
  );
  if (!same) process.exitCode = 1;
} finally {
  await executor.close();
}
if (utterances.length !== script.sentences.length) {
  console.error(`expected ${script.sentences.length} utterances, found ${utterances.length}`);
  process.exitCode = 1;
}
