/**
 * Every built-in node, grouped by family. Importing this module registers them all (the executor relies on it).
 * @module
 */
/**** Core ****/
export { passThrough } from './core/passThrough.js';
export { batch, type BatchParams } from './core/batch.js';
export { bounded, type BoundedParams } from './core/bounded.js';
export { calculator, type CalculatorParams } from './core/calculator.js';
export { codeNode, type CodeNodeParams, type CodeNodeOptions } from './core/codeNode.js';

/**** Audio ****/
export { audioBuffer, type AudioBufferParams } from './audio/audioBuffer.js';
export { resample, type ResampleParams } from './audio/resample.js';
export { channelMix, type ChannelMixParams } from './audio/channelMix.js';
export { audioTransform, type AudioTransformParams } from './audio/audioTransform.js';
export { energyVad, type EnergyVadParams, type VadAnnotation } from './audio/energyVad.js';
export { vadTriggeredBuffer, type VadTriggeredBufferParams, type UtteranceMetadata } from './audio/vadTriggeredBuffer.js';

/**** Text ****/
export { textTransform, type TextTransformParams } from './text/textTransform.js';
