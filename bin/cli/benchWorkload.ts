/**
 * The remote-stream benchmark workload shared by `remotemedia bench` and `bench/compare.ts`: 20 ms frames of
 * 16 kHz mono audio through a 3-node chain on an executor (`audio.channelMix` → `audio.energyVad` →
 * `core.passThrough`), measured as pipelined throughput (items/s over `streams` concurrent streams) and as
 * round-trip latency with one item in flight (p50/p99, µs).
 *
 * @module
 */
import { lastValueFrom, Subject, toArray, type Observable } from 'rxjs';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import { channelMix } from '../../src/operators/audio/channelMix.js';
import { energyVad } from '../../src/operators/audio/energyVad.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { remote } from '../../src/remote/remote.js';
import type { RemoteConfig } from '../../src/remote/config.js';

/** Samples per 20 ms frame at 16 kHz. */
export const FRAME_SAMPLES = 320;
export const SAMPLE_RATE = 16_000;

/** Frame `i`: a 440 Hz tone at -12 dBFS with deterministic noise, pts in µs. */
export function benchFrame(i: number): AudioFrame {
  const samples = new Float32Array(FRAME_SAMPLES);
  for (let s = 0; s < FRAME_SAMPLES; s++) {
    const t = (i * FRAME_SAMPLES + s) / SAMPLE_RATE;
    samples[s] = 0.25 * Math.sin(2 * Math.PI * 440 * t) + 0.01 * (((s * 7919 + i * 104729) % 1000) / 500 - 1);
  }
  return { samples, sampleRate: SAMPLE_RATE, channels: 1, pts: i * 20_000 };
}

/** The 3-node chain, as `remote()` nodes. */
export function benchChain(): [ReturnType<typeof channelMix>, ReturnType<typeof energyVad>, ReturnType<typeof passThrough>] {
  return [channelMix({ channels: 1 }), energyVad({ frameMs: 20 }), passThrough()];
}

/** A measurement. */
export interface BenchResult {
  readonly itemsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/** Nearest-rank percentile. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/** Pre-built frames (building them is not what is measured). */
function frames(n: number): AudioFrame[] {
  return Array.from({ length: n }, (_, i) => benchFrame(i));
}

/** Pipelined throughput: `streams` concurrent remote streams of `items / streams` frames each. */
export async function remoteThroughput(config: RemoteConfig, items: number, streams = 1): Promise<number> {
  const per = Math.ceil(items / streams);
  const input = frames(per);
  const start = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: streams }, () => lastValueFrom((fromAsyncIterable(input) as Observable<AudioFrame>).pipe(remote(config, ...benchChain()), toArray()))),
  );
  const seconds = (performance.now() - start) / 1000;
  const received = outputs.reduce((sum, out) => sum + out.length, 0);
  if (received !== per * streams) throw new Error(`bench: expected ${per * streams} outputs, got ${received}`);
  return received / seconds;
}

/** Round-trip latency of single frames (the next is sent when the previous came back), µs, sorted. */
export async function remoteLatencies(config: RemoteConfig, items: number): Promise<number[]> {
  const input = new Subject<AudioFrame>();
  const latencies: number[] = [];
  const source = frames(Math.min(items, 500));
  let sentAt = 0;
  let i = 0;
  await new Promise<void>((resolve, reject) => {
    const subscription = input.pipe(remote<AudioFrame, AudioFrame>(config, ...benchChain())).subscribe({
      next: () => {
        latencies.push((performance.now() - sentAt) * 1000);
        if (++i === items) input.complete();
        else send();
      },
      error: reject,
      complete: () => resolve(),
    });
    const send = (): void => {
      sentAt = performance.now();
      input.next(source[i % source.length]!);
    };
    send();
    void subscription;
  });
  return latencies.sort((a, b) => a - b);
}

/** Throughput and latency of the workload against `config`. */
export async function benchRemote(config: RemoteConfig, options: { items: number; latencyItems: number; streams: number }): Promise<BenchResult> {
  const window = config.window ?? 64;
  await remoteThroughput({ ...config, window }, Math.min(2_000, options.items), options.streams); // warm-up
  const itemsPerSec = await remoteThroughput({ ...config, window }, options.items, options.streams);
  const latencies = await remoteLatencies(config, options.latencyItems);
  return { itemsPerSec: Math.round(itemsPerSec), p50Us: Math.round(percentile(latencies, 50)), p99Us: Math.round(percentile(latencies, 99)) };
}
