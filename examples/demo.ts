/**
 * The demo behind `npm start`: finds the utterances in the bundled recording (assets/sample-speech.wav, three
 * spoken sentences) with a local pipeline and writes each one to out/utterances/. No downloads, no models.
 */
import { fileURLToPath } from 'node:url';
import { listNodes } from '../src/index.js';
import { describeUtterance, findUtterances } from './compose-pipeline.js';

const input = fileURLToPath(new URL('../assets/sample-speech.wav', import.meta.url));
const outDir = 'out/utterances';

console.log(`remotemedia demo — ${listNodes().length} node types registered`);
console.log(`pipeline: fromWavFile → audioTransform(16 kHz mono) → energyVad → vadTriggeredBuffer → toWavFile`);
const started = performance.now();
const utterances = await findUtterances(input, outDir);
console.log(`found ${utterances.length} utterance(s) in ${input} (${(performance.now() - started).toFixed(0)} ms):`);
for (const u of utterances) console.log(`  ${describeUtterance(u)}`);
