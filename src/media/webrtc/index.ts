/**
 * WebRTC voice: a browser microphone streamed through operators and spoken back. `startWebRtcServer()` serves the
 * page, signals over `/ws` and runs one werift peer + one pipeline subscription per browser. See docs/WEBRTC.md.
 * @module
 */
/**** Server ****/
export {
  startWebRtcServer,
  WebRtcServerOptionsSchema,
  DEFAULT_WEBRTC_LIMITS,
  type WebRtcServer,
  type WebRtcServerOptions,
  type WebRtcServerSettings,
  type WebRtcServerSettingsInput,
  type WebRtcHealth,
  type WebRtcResources,
} from './server.js';
export type { PeerInfo } from './peerSession.js';
export { webrtcCommand, type WebRtcCliFlags, type WebRtcCliPipelines, type WebRtcCommandOptions } from './cli.js';

/**** Pipelines ****/
export { echoPipeline, sendEvents, vadEvents, type EchoPipelineOptions } from './pipelines.js';
export { webrtcVoicePipeline, type WebRtcVoiceOptions, type RemoteRunner } from './voicePipelines.js';
export { toEvent, type WebRtcEvent, type WebRtcPipeline, type WebRtcPipelineOutput, type WebRtcSessionContext } from './pipelineTypes.js';
export type { BargeInOptions } from './voiceSession.js';

/**** Signaling protocol ****/
export { parseClientMessage, MAX_SDP_LENGTH, type ClientMessage, type ServerMessage, type IceCandidateJson } from './signaling.js';

/**** Building blocks (pure; time injected) ****/
export { OutputAudioQueue, DEFAULT_OUTPUT_AUDIO, type OutputAudioQueueOptions, type OutputFrame, type OutputAudioStats } from './outputAudioQueue.js';
export { pacedFrames, DEFAULT_PACING, type PacedFramesOptions } from './pacedFrames.js';
export { RtpAudioInput, type RtpAudioPacket, type RtpAudioInputOptions, type RtpAudioInputStats } from './rtpAudioInput.js';
export { OpusDecoder, OpusEncoder, liveOpusCodecs, type OpusSampleRate } from './opusCodec.js';
