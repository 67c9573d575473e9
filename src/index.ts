/**
 * remotemedia: real-time media and ML pipelines as RxJS operators, run locally or on an executor.
 * @module
 */
/**** Errors ****/
export {
  RemoteMediaError,
  InvalidParamsError,
  UnknownNodeError,
  InvalidInputError,
  OverflowError,
  errorToData,
  errorFromData,
  registerErrorClass,
  type ErrorReviver,
  type ErrorCode,
  type ErrorData,
  type RemoteMediaErrorOptions,
} from './errors.js';

/**** Node model ****/
export {
  defineNode,
  listNodes,
  hasNode,
  fromSpec,
  fromSpecs,
  operatorsFromSpecs,
  isNodeOperator,
  parseParams,
  type NodeSpec,
  type NodeOperator,
  type NodeBuilder,
  type NodeDescriptor,
  type NodeInfo,
  type NodeKind,
  type ParamsSchema,
  type JsonValue,
} from './node.js';

/**** Media ****/
export {
  audioFrame,
  checkAudioFrame,
  frameCount,
  durationMicros,
  fromInt16,
  toInt16,
  MICROS_PER_SECOND,
  type AudioFrame,
  type AudioFrameInit,
} from './media/audioFrame.js';
export { fromWavFile, toWavFile, readWavFile, type FromWavFileOptions, type ToWavFileOptions, type WavFileInfo } from './media/wav.js';

/**** Flow control ****/
export { pullable, fromAsyncIterable, fromReadable } from './flow/pullable.js';
export { mapAsync, type MapAsyncOptions } from './flow/mapAsync.js';
export { flowStats, PUSH_SOURCE_LIMITS, type FlowStats, type OverflowPolicy } from './flow/flowQueue.js';
export { DemandGate, withDemand, currentDemand, type Demand } from './flow/demand.js';

/**** Operators ****/
export * from './operators/index.js';

/**** ML operators and engines ****/
export * from './operators/ml/index.js';

/**** WebRTC ****/
export * from './media/webrtc/index.js';

/**** Remote execution ****/
export * from './remote/index.js';
