/**
 * Talk to a pipeline from your browser: `npm run demo:webrtc`, open the printed URL, press Connect, speak, and hear
 * the reply. The microphone streams over WebRTC (werift on this side), through the operator chain, and the reply
 * comes back on the same connection; VAD state, transcripts and replies appear on the page.
 *
 *   npm run demo:webrtc
 *   npm run demo:webrtc -- --phrases 'turn on the lights|what time is it'   (exact offline recognition)
 *   npm run demo:webrtc -- --executor 127.0.0.1:50051                       (ML on `npx remotemedia executor`)
 *   npm run demo:webrtc -- --pipeline echo                                  (no ML: your utterances played back)
 *
 * Pipelines:
 * - `voice` (default): resample → Silero vad → vadTriggeredBuffer → speechToText('pocketsphinx') → respond('echo')
 *   → textToSpeech('espeak'): you hear your own words spoken back by espeak. Needs the Debian packages
 *   `pocketsphinx pocketsphinx-en-us espeak-ng`. With `--executor`, the ML stages run on that executor through
 *   `remote()` (which the server's media layer never imports: the pipeline is composed here).
 * - `echo`: energyVad → vadTriggeredBuffer → each utterance played back.
 *
 * Other flags: `--port <n>` (default 8080, 0 = any free port), `--host <addr>` (default 127.0.0.1: this machine
 * only), `--exit-after-ms <n>` (close by itself; used by the example's test).
 */
import { parseArgs } from 'node:util';
import { echoPipeline, startWebRtcServer, webrtcVoicePipeline, type WebRtcPipeline } from '../src/media/webrtc/index.js';
import { remote } from '../src/remote/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    pipeline: { type: 'string', default: 'voice' },
    phrases: { type: 'string' },
    executor: { type: 'string' },
    'exit-after-ms': { type: 'string' },
  },
});

const phrases = values.phrases?.split('|').map((p) => p.trim()).filter(Boolean);
const pipelines: Record<string, () => WebRtcPipeline> = {
  voice: () =>
    webrtcVoicePipeline({
      stt: phrases ? { phrases } : {},
      // Microphone audio cannot pause: past 64 frames in flight, drop the oldest rather than fail.
      runRemote: values.executor ? (nodes) => remote({ address: values.executor!, window: 64, overflow: 'drop-oldest' }, ...nodes) : undefined,
    }),
  echo: () => echoPipeline({ minSilenceMs: 400 }),
};

const make = pipelines[values.pipeline];
if (!make) {
  console.error(`unknown pipeline '${values.pipeline}'; choose one of: ${Object.keys(pipelines).join(', ')}`);
  process.exit(2);
}

const server = await startWebRtcServer({ port: Number(values.port), host: values.host, pipeline: make() });
const where = values.executor ? ` (ML on executor ${values.executor})` : '';
console.log(`remotemedia voice demo, pipeline '${values.pipeline}'${where}: open ${server.url} and press Connect`);
console.log(`health: ${server.url}health   connections: ${server.url}connections`);

const stop = async (): Promise<void> => {
  await server.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
if (values['exit-after-ms'] !== undefined) setTimeout(() => void stop(), Number(values['exit-after-ms']));
