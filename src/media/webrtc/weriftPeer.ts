/**
 * werift set-up shared by the server's peers: the peer-connection config (Opus, loopback ICE) and the DTLS
 * record-sequence workaround. Facts from DESIGN §8 (werift 0.24.4 with Chromium).
 * @module
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { isLoopbackAddress } from './signaling.js';

/** A werift peer for audio + data channel; with `loopbackOnly`, ICE uses and answers 127.0.0.0/8 only. */
export function createWeriftPeer(loopbackOnly: boolean): RTCPeerConnection {
  return new RTCPeerConnection({
    // Browsers offer opus/48000/2; mono audio travels in it (libopus mixes as needed).
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })] },
    iceServers: [],
    iceUseIpv6: false,
    ...(loopbackOnly
      ? {
          iceAdditionalHostAddresses: ['127.0.0.1'],
          // werift answers connectivity checks on every interface; a loopback server must not.
          iceFilterStunResponse: (_message, address) => isLoopbackAddress(address[0]),
          iceFilterCandidatePair: (pair) => isLoopbackAddress(pair.remoteCandidate.host) && isLoopbackAddress(pair.localCandidate.host),
        }
      : {}),
  });
}

/**
 * werift 0.24.4 reuses a DTLS record sequence number right after the handshake; Chromium drops that record and the
 * first data-channel message then waits ~1.2 s for an SCTP retransmit. Skipping the counter ahead when each DTLS
 * transport connects avoids the reuse (found with packet captures). Call after `setLocalDescription`.
 * @returns Unsubscribes the state listeners (for teardown before the transports connect).
 */
export function bumpDtlsSequenceOnConnect(pc: RTCPeerConnection): () => void {
  const offs: Array<() => void> = [];
  for (const transport of pc.dtlsTransports) {
    const bump = (): void => {
      if (transport.dtls) transport.dtls.dtls.recordSequenceNumber += 32;
    };
    if (transport.state === 'connected') {
      bump();
      continue;
    }
    const sub = transport.onStateChange.subscribe((state) => {
      if (state !== 'connected') return;
      bump();
      sub.unSubscribe();
    });
    offs.push(() => sub.unSubscribe());
  }
  return () => offs.forEach((off) => off());
}
