/**
 * The demo behind `npm start`: finds the utterances in the bundled recording (assets/sample-speech.wav, three
 * spoken sentences) with a local pipeline, writes each one to out/utterances/, and checks them against the
 * recording's script (assets/sample-speech.json). No downloads, no models.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listNodes } from '../src/index.js';
import { describeUtterance, findUtterances } from './compose-pipeline.js';

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
if (utterances.length !== script.sentences.length) {
  console.error(`expected ${script.sentences.length} utterances, found ${utterances.length}`);
  process.exitCode = 1;
}
