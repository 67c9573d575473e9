// remotemedia voice client: plain browser JavaScript, no dependencies (Chromium and Firefox).
// Signaling: JSON over WebSocket at /ws. Media: the microphone on a sendrecv audio transceiver, the reply on the same
// transceiver. Events: the "messages" data channel. Levels and latency are measured with WebAudio AnalyserNodes.
/* global window, document, navigator, location, performance, setInterval, clearInterval, WebSocket, RTCPeerConnection, MediaStream */
'use strict';

(() => {
  /** Level (RMS of samples in [-1, 1]) above which audio counts as sound, for the meters and the latency clock. */
  const SOUND_RMS = 0.01;
  /** Quiet time after which the user's speech is taken to have ended, ms. */
  const SPEECH_END_MS = 400;
  const POLL_MS = 10;
  const PING_EVERY_MS = 2000;

  const $ = (id) => document.getElementById(id);
  /** Everything a test or a curious user may read: `window.remotemedia`. */
  const state = {
    status: 'idle',
    peerId: null,
    events: [],
    /** performance.now() at which each entry of `events` arrived. */
    eventTimes: [],
    transcripts: [],
    replies: [],
    errors: [],
    /** Voice-to-voice latencies: end of the user's speech → first reply sound, ms (WebAudio levels). */
    latencyMs: [],
    rttMs: [],
    micMaxRms: 0,
    replyMaxRms: 0,
    /** Milliseconds of received audio above SOUND_RMS. */
    replySoundMs: 0,
    connectMs: null,
    /** Time from Connect to the data channel being open, ms. */
    dataChannelOpenMs: null,
    /** Mean time received audio spent in the browser's jitter buffer, ms (from getStats). */
    jitterBufferMs: null,
    /** performance.now() of the last speech end and of each `playback: started` event, for latency breakdowns. */
    speechEndAt: [],
    playbackStartedAt: [],
    /** performance.now() when mic sound / reply sound starts after ≥ SPEECH_END_MS of quiet (WebAudio levels). */
    micOnsetAt: [],
    replyOnsetAt: [],
  };
  window.remotemedia = state;

  let ws = null;
  let pc = null;
  let channel = null;
  let micStream = null;
  let audioContext = null;
  let pollTimer = null;
  let pingTimer = null;

  function setStatus(text, cls) {
    state.status = text;
    const el = $('status');
    el.textContent = text;
    el.className = 'pill' + (cls ? ' ' + cls : '');
  }

  function log(who, text, cls) {
    const li = document.createElement('li');
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who;
    li.appendChild(w);
    li.appendChild(document.createTextNode(text));
    if (cls) li.className = cls;
    $('log').appendChild(li);
    $('log').scrollTop = $('log').scrollHeight;
  }

  function rms(analyser, buffer) {
    analyser.getFloatTimeDomainData(buffer);
    let sum = 0;
    for (let i = 0; i < buffer.length; i++) sum += buffer[i] * buffer[i];
    return Math.sqrt(sum / buffer.length);
  }

  function meter(id, level) {
    $(id).style.width = Math.min(100, Math.round(level * 400)) + '%';
  }

  // Voice-to-voice clock (what the page shows, `state.latencyMs`): on WebAudio AnalyserNode levels (RMS), the user's
  // speech ends when the mic has been quiet for SPEECH_END_MS; the latency is the time from the last loud mic moment
  // to the first loud reply moment after it. Sound onsets after SPEECH_END_MS of quiet are recorded too
  // (`state.micOnsetAt`, `state.replyOnsetAt`): a test that knows how long the spoken audio is computes the latency
  // from onsets, which unlike the fading end of a sentence do not depend on the level threshold.
  function latencyClock(onLatency, onSpeech, onsets) {
    let lastMicSound = null;
    let speaking = false;
    let waitingSince = null;
    // A reply may start before SPEECH_END_MS of quiet has confirmed the end of speech: remember its first rise.
    let riseSinceMic = null;
    let replySounding = false;
    let lastReplySound = -Infinity;
    return {
      mic(level, now) {
        if (level >= SOUND_RMS) {
          lastMicSound = now;
          riseSinceMic = null;
          waitingSince = null;
          if (!speaking) {
            if (onSpeech) onSpeech(true);
            if (onsets) onsets.mic.push(now);
          }
          speaking = true;
        } else if (speaking && now - lastMicSound >= SPEECH_END_MS) {
          speaking = false;
          if (onSpeech) onSpeech(false, lastMicSound);
          if (riseSinceMic !== null) onLatency(Math.round(riseSinceMic - lastMicSound));
          else waitingSince = lastMicSound;
          riseSinceMic = null;
        }
      },
      reply(level, now) {
        const sounding = level >= SOUND_RMS;
        if (sounding && onsets && now - lastReplySound >= SPEECH_END_MS) onsets.reply.push(now);
        if (sounding) lastReplySound = now;
        if (sounding && !replySounding) {
          if (waitingSince !== null) {
            onLatency(Math.round(now - waitingSince));
            waitingSince = null;
          } else if (speaking && riseSinceMic === null) {
            riseSinceMic = now;
          }
        }
        replySounding = sounding;
      },
    };
  }

  function showLatency() {
    const l = state.latencyMs;
    if (l.length === 0) return;
    const sorted = [...l].sort((a, b) => a - b);
    $('v2v').textContent = `${l[l.length - 1]} ms last · median ${sorted[sorted.length >> 1]} ms · ${l.length} measured`;
  }

  function startAnalysis(remoteStream) {
    const mic = audioContext.createAnalyser();
    mic.fftSize = 1024;
    audioContext.createMediaStreamSource(micStream).connect(mic);
    const reply = audioContext.createAnalyser();
    reply.fftSize = 1024;
    audioContext.createMediaStreamSource(remoteStream).connect(reply);
    const micBuf = new Float32Array(mic.fftSize);
    const replyBuf = new Float32Array(reply.fftSize);
    const webaudio = latencyClock(
      (ms) => {
        state.latencyMs.push(ms);
        showLatency();
      },
      (speaking, endAt) => {
        $('vad').textContent = speaking ? 'speaking' : 'silent';
        $('vad').className = speaking ? 'pill on' : 'pill';
        if (!speaking) state.speechEndAt.push(endAt);
      },
      { mic: state.micOnsetAt, reply: state.replyOnsetAt },
    );
    pollTimer = setInterval(() => {
      const now = performance.now();
      const m = rms(mic, micBuf);
      const r = rms(reply, replyBuf);
      state.micMaxRms = Math.max(state.micMaxRms, m);
      state.replyMaxRms = Math.max(state.replyMaxRms, r);
      if (r >= SOUND_RMS) state.replySoundMs += POLL_MS;
      meter('micLevel', m);
      meter('replyLevel', r);
      webaudio.mic(m, now);
      webaudio.reply(r, now);
    }, POLL_MS);

  }

  async function jitterStats() {
    if (!pc) return;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.jitterBufferEmittedCount > 0) {
        state.jitterBufferMs = Math.round((1000 * s.jitterBufferDelay) / s.jitterBufferEmittedCount);
      }
    });
  }

  function onEvent(event) {
    state.events.push(event);
    state.eventTimes.push(performance.now());
    if (event.type === 'playback' && event.state === 'started') state.playbackStartedAt.push(performance.now());
    switch (event.type) {
      case 'transcript':
        state.transcripts.push(event.text);
        log('you', event.text);
        break;
      case 'response':
        state.replies.push(event.text);
        log('reply', event.text);
        break;
      case 'utterance':
        log('you', `(${(event.speechMs / 1000).toFixed(1)} s of speech)`);
        break;
      case 'vad':
        $('vad').textContent = event.isSpeech ? 'speech (server)' : 'silent';
        $('vad').className = event.isSpeech ? 'pill on' : 'pill';
        break;
      case 'playback':
        $('playback').textContent = event.state;
        $('playback').className = event.state === 'started' ? 'pill on' : 'pill';
        if (event.state === 'interrupted') log('barge-in', `reply stopped (${event.reason})`);
        break;
      case 'metrics':
        $('metrics').textContent = `in ${event.inputFrames} frames · out ${event.framesSent} frames · queued ${Math.round(event.queuedMs)} ms · dropped ${event.dropped} · barge-ins ${event.bargeIns}`;
        break;
      case 'pong': {
        const rtt = Math.round(performance.now() - event.t);
        state.rttMs.push(rtt);
        $('rtt').textContent = rtt + ' ms';
        break;
      }
      case 'error':
        state.errors.push(event);
        log('error', `${event.code}: ${event.message}`, 'error');
        break;
    }
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  async function connect() {
    $('connect').disabled = true;
    setStatus('connecting');
    const t0 = performance.now();
    // Created in the click (autoplay policy) and before the microphone opens: creating it later can make the
    // browser reconfigure, and so restart, the capture device.
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    audioContext = new AudioCtx();
    void audioContext.resume();
    try {
      micStream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      setStatus('no microphone', 'err');
      void audioContext.close();
      audioContext = null;
      log('error', String(e), 'error');
      $('connect').disabled = false;
      return;
    }
    pc = new RTCPeerConnection({ iceServers: [] });
    const [track] = micStream.getAudioTracks();
    pc.addTransceiver(track, { direction: 'sendrecv', streams: [micStream] });
    channel = pc.createDataChannel('messages');
    channel.onopen = () => {
      state.dataChannelOpenMs = Math.round(performance.now() - t0);
      const ping = () => channel && channel.readyState === 'open' && channel.send(JSON.stringify({ type: 'ping', t: performance.now() }));
      ping();
      pingTimer = setInterval(() => {
        ping();
        void jitterStats();
      }, PING_EVERY_MS);
    };
    channel.onmessage = (e) => {
      try {
        onEvent(JSON.parse(e.data));
      } catch (err) {
        log('error', 'bad event: ' + err, 'error');
      }
    };
    pc.ontrack = (e) => {
      const remote = e.streams && e.streams[0] ? e.streams[0] : new MediaStream([e.track]);
      // Chromium delivers a remote WebRTC stream to WebAudio only while a media element also plays it.
      $('remoteAudio').srcObject = remote;
      startAnalysis(remote);
    };
    pc.onicecandidate = (e) => send({ type: 'ice-candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') {
        state.connectMs = Math.round(performance.now() - t0);
        setStatus('connected', 'on');
      }
      if (pc.connectionState === 'failed') setStatus('failed', 'err');
    };

    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${location.host}/ws`);
    // Candidates that arrive before the answer has been applied wait for it.
    let answerArrived;
    let answerApplied = new Promise((resolve) => (answerArrived = resolve));
    const addCandidate = async (candidate) => {
      try {
        await answerApplied;
        if (pc) await pc.addIceCandidate(candidate);
      } catch (err) {
        state.errors.push({ code: 'ICE', message: String(err) });
        log('error', 'ICE: ' + err, 'error');
      }
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'answer') {
        state.peerId = msg.peerId;
        answerApplied = pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
        answerArrived(answerApplied);
        answerApplied.catch((err) => {
          state.errors.push({ code: 'SDP', message: String(err) });
          log('error', 'answer: ' + err, 'error');
        });
      } else if (msg.type === 'ice-candidate' && msg.candidate) {
        void addCandidate(msg.candidate);
      } else if (msg.type === 'error') {
        state.errors.push(msg);
        log('error', `${msg.code}: ${msg.message}`, 'error');
        if (msg.code === 'RESOURCE_EXHAUSTED' || msg.code === 'DEADLINE_EXCEEDED') teardown('refused: ' + msg.message);
      } else if (msg.type === 'close') {
        teardown('closed by server: ' + msg.reason);
      }
    };
    ws.onclose = () => {
      if (pc) teardown('signaling closed');
    };
    ws.onopen = async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: 'offer', sdp: offer.sdp });
    };
    $('disconnect').disabled = false;
  }

  function teardown(reason) {
    clearInterval(pollTimer);
    clearInterval(pingTimer);
    pollTimer = pingTimer = null;
    if (channel) channel.close();
    if (pc) pc.close();
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    if (audioContext) void audioContext.close();
    $('remoteAudio').srcObject = null;
    channel = pc = micStream = audioContext = null;
    if (ws) {
      const socket = ws;
      ws = null;
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: 'close' }));
        socket.close();
      }
    }
    setStatus(reason || 'disconnected');
    $('connect').disabled = false;
    $('disconnect').disabled = true;
  }

  $('connect').addEventListener('click', () => void connect());
  $('disconnect').addEventListener('click', () => teardown('disconnected'));
  window.remotemediaDisconnect = () => teardown('disconnected');
})();
