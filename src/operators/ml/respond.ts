/**
 * `respond`: the text → reply step between speech-to-text and text-to-speech.
 * @module
 */
import { z } from 'zod';
import { acquireEngine, checkEngineName } from '../../engines/index.js';
import type { ResponderStream } from '../../engines/types.js';
import { InvalidInputError } from '../../errors.js';
import { defineNode } from '../../node.js';
import { asyncCoreOperator, type AsyncNodeCore } from '../../internal/asyncCoreOperator.js';
import { andThen } from './internal/maybePromise.js';
import { queueParams } from './internal/mlParams.js';
import { splitSentences, takeSentences } from './internal/sentences.js';
import type { TextInput } from './textToSpeech.js';

const NODE = 'ml.respond';

const RespondParamsSchema = z
  .object({
    engine: z.string().default('echo').describe("Responder: 'echo' (the reply is the input) or 'openai' (an OpenAI-compatible streaming chat-completions server). Default: 'echo'."),
    url: z.string().url().optional().describe("openai: API base URL including /v1, e.g. 'http://127.0.0.1:8080/v1'. Default: 'https://api.openai.com/v1'."),
    model: z.string().min(1).optional().describe('openai: model name. Required for openai.'),
    apiKeyEnv: z.string().min(1).optional().describe("openai: environment variable holding the API key (keys never go in params). Default: 'OPENAI_API_KEY'."),
    systemPrompt: z.string().optional().describe('openai: system prompt opening the conversation. Default: none.'),
    maxTurns: z.number().int().min(0).max(1000).optional().describe('openai: earlier turns kept as context, per subscription. Default: 10.'),
    chunking: z.enum(['sentence', 'delta', 'reply']).default('sentence')
      .describe("What each emitted string is: 'sentence' (each complete sentence as soon as it has streamed in — what textToSpeech wants), 'delta' (every streamed piece), 'reply' (the whole reply at its end). Default: 'sentence'."),
    ...queueParams,
  })
  .refine((p) => p.engine !== 'openai' || p.model !== undefined, { path: ['model'], message: 'is required for the openai engine' })
  .describe('Replies to each text (a string or a Transcript), emitting the reply as strings while it streams in.');

/** Params of {@link respond}; every field is optional. */
export type RespondParams = z.input<typeof RespondParamsSchema>;
type Settings = z.output<typeof RespondParamsSchema>;

function engineOptions(p: Settings): Record<string, unknown> {
  const { url, model, apiKeyEnv, systemPrompt, maxTurns } = p;
  return Object.fromEntries(Object.entries({ url, model, apiKeyEnv, systemPrompt, maxTurns }).filter(([, v]) => v !== undefined));
}

function readText(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'object' && item !== null && typeof (item as { text?: unknown }).text === 'string') return (item as { text: string }).text;
  throw new InvalidInputError(NODE, '', 'expected a string or an object with a text string (e.g. a Transcript)');
}

function createCore(p: Settings): AsyncNodeCore<TextInput, string> {
  const lease = acquireEngine('respond', p.engine, engineOptions(p));
  let conversation: ResponderStream | undefined;
  return {
    push(item, emit, signal) {
      const text = readText(item).trim();
      if (text === '') return;
      return andThen(lease.engine, (engine) => {
        conversation ??= engine.stream();
        let buffered = '';
        const onDelta = (delta: string): void => {
          if (p.chunking === 'delta') return emit(delta);
          buffered += delta;
          if (p.chunking === 'reply') return;
          const { sentences, rest } = takeSentences(buffered);
          buffered = rest;
          for (const s of sentences) emit(s);
        };
        return andThen(conversation.reply(text, onDelta, signal), () => {
          if (p.chunking === 'reply') {
            const reply = buffered.trim();
            if (reply !== '') emit(reply);
          } else if (p.chunking === 'sentence') {
            for (const s of splitSentences(buffered)) emit(s);
          }
        });
      });
    },
    close() {
      conversation?.close();
      lease.release();
    },
  };
}

/**
 * Replies to each input text (a string or a Transcript) through a responder engine and emits the reply as strings
 * while it streams in: by default each complete sentence as soon as it is complete (so `textToSpeech` can start
 * speaking the first sentence while the model is still writing the second), the rest when the reply ends. Empty
 * inputs are skipped. One conversation per subscription (history kept by the engine stream).
 * Engines: `echo` (default) and `openai` — any OpenAI-compatible `POST {url}/chat/completions` with `stream: true`;
 * the key comes from the environment variable `apiKeyEnv` (default `OPENAI_API_KEY`).
 *
 * On complete: completes after the queued texts are answered. On error: passes it on. On unsubscribe: the running
 * HTTP request is aborted.
 * Errors: `INVALID_INPUT` (not text), `INVALID_PARAMS` (bad params, unknown engine, openai without `model`),
 * `UNAVAILABLE` (server unreachable or 5xx), `UNAUTHENTICATED` (401/403), `RESOURCE_EXHAUSTED` (429), `PROTOCOL`
 * (malformed stream), `NODE_FAILED` (other HTTP errors), `OVERFLOW` per the overflow policy.
 *
 * @param params - {@link RespondParams}: `engine` 'echo', `chunking` 'sentence', `queueSize` 16, `overflow` 'block'.
 * @example
 * ```ts
 * transcripts$.pipe(respond({ engine: 'openai', url: 'http://127.0.0.1:8080/v1', model: 'llama' }), textToSpeech());
 * ```
 */
export const respond = defineNode(
  NODE,
  RespondParamsSchema,
  (p) => {
    checkEngineName('respond', p.engine, NODE);
    return asyncCoreOperator<TextInput, string>(NODE, () => createCore(p), p);
  },
  { description: 'Replies to each text through a responder engine, emitting the reply as it streams in', input: 'text', output: 'text' },
);
