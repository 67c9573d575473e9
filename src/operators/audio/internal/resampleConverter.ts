/**
 * Synchronous, pooled access to libsamplerate (`@alexanderolsen/libsamplerate-js` 2.1.2, pinned exactly because this
 * file relies on how its `create()` is built).
 *
 * Why this is not just `await create(...)` per converter:
 * - node cores are synchronous, but the library only offers the async `create()`;
 * - each WASM module instance holds ONE libsamplerate state: a second `SRC` on the same module re-initialises it and
 *   silently corrupts the first (measured: outputs diverge completely). So every live converter needs its own module.
 *
 * `create()` does all its work synchronously (argument checks, module instantiation, `new SRC(...)`) inside the
 * executor of the promise it returns. Once we know the `SRC` class (from one `create()` at module load), a setter for
 * `module` on its prototype sees each new instance as the constructor runs, so `create()` yields its converter
 * before returning. Instances still get a plain own `module` property, so the library behaves as before.
 * A module whose converter was destroyed goes back to a small idle pool and is reused (the `SRC` constructor
 * re-initialises it), keeping creation cost (~20 ms first, ~2 MB RSS per module) off the common path.
 *
 * @internal
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { RemoteMediaError } from '../../../errors.js';
import { concatFloat32 } from '../../../media/audioFrame.js';

type SrcInstance = Awaited<ReturnType<typeof libsamplerate.create>>;
type WasmModule = SrcInstance['module'];
type SrcConstructor = new (mod: WasmModule, converterType: ConverterTypeValue, channels: number, inRate: number, outRate: number) => SrcInstance;

/** libsamplerate converter ids: 0 best sinc, 1 medium sinc, 2 fastest sinc, 3 zero-order hold, 4 linear. */
export type ConverterTypeValue = 0 | 1 | 2 | 3 | 4;

/** Rates libsamplerate-js accepts, in Hz. */
export const MAX_CONVERTER_RATE = 192_000;
/** Channel count libsamplerate-js accepts. */
export const MAX_CONVERTER_CHANNELS = 128;
/** libsamplerate rejects conversion ratios (out/in) outside [1/256, 256]. */
export const MAX_CONVERTER_RATIO = 256;

/** Idle modules kept for reuse; each is a ~26 MB reserved (mostly uncommitted) heap, so keep few. */
const MAX_IDLE_MODULES = 4;
/**
 * Floats per `full()` call we allow (its transfer arrays hold 1 008 000). Above that the library splits the input into
 * inRate/10-float pieces itself, which can cut a frame in two (e.g. 11025 Hz stereo), so we split by whole frames.
 */
const TRANSFER_FLOATS = 1_000_000;

const bootstrap = await libsamplerate.create(1, 48_000, 16_000, { converterType: 2 });
const SrcClass = bootstrap.constructor as SrcConstructor;
bootstrap.destroy();
const idleModules: WasmModule[] = [bootstrap.module];

/** Set only while {@link createFresh} runs `create()`. */
let onConstruct: ((src: SrcInstance) => void) | undefined;
Object.defineProperty(SrcClass.prototype, 'module', {
  configurable: true,
  get(): undefined {
    return undefined;
  },
  set(this: SrcInstance, value: WasmModule) {
    Object.defineProperty(this, 'module', { value, writable: true, enumerable: true, configurable: true });
    onConstruct?.(this);
  },
});

function createFresh(channels: number, inRate: number, outRate: number, converterType: ConverterTypeValue): SrcInstance {
  let src: SrcInstance | undefined;
  onConstruct = (constructed) => {
    src = constructed;
  };
  try {
    // The promise settles with the same instance we capture; nobody awaits it, so silence a rejection.
    libsamplerate.create(channels, inRate, outRate, { converterType }).catch(() => undefined);
  } finally {
    onConstruct = undefined;
  }
  if (!src) {
    throw new RemoteMediaError('INTERNAL', 'libsamplerate-js did not construct its converter synchronously; the resample nodes need version 2.1.2');
  }
  return src;
}

/** A streaming converter for one format (channels, input rate → output rate); owns one WASM module until released. */
export interface SampleRateConverter {
  /** Converts interleaved input, returning the interleaved output available so far (may be empty). */
  convert(samples: Float32Array): Float32Array;
  /** Frees the libsamplerate state and returns the module to the pool. Idempotent. */
  release(): void;
}

/** Opens a converter synchronously. Callers validate rates, channels and ratio against the exported limits first. */
export function openConverter(channels: number, inRate: number, outRate: number, converterType: ConverterTypeValue): SampleRateConverter {
  const reused = idleModules.pop();
  const src = reused ? new SrcClass(reused, converterType, channels, inRate, outRate) : createFresh(channels, inRate, outRate, converterType);
  const chunkFrames = Math.max(1, Math.floor(TRANSFER_FLOATS / (channels * Math.max(1, outRate / inRate))));
  let released = false;
  return {
    convert(samples) {
      if (released) throw new RemoteMediaError('INTERNAL', 'sample rate converter used after release');
      const chunkFloats = chunkFrames * channels;
      if (samples.length <= chunkFloats) return src.full(samples);
      const parts: Float32Array[] = [];
      for (let i = 0; i < samples.length; i += chunkFloats) parts.push(src.full(samples.subarray(i, i + chunkFloats)));
      return concatFloat32(parts);
    },
    release() {
      if (released) return;
      released = true;
      src.destroy();
      if (idleModules.length < MAX_IDLE_MODULES) idleModules.push(src.module);
    },
  };
}
