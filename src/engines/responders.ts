/**
 * Responder engines (text → reply): `echo` (the reply is the input; no dependencies) and `openai`, any server
 * speaking the OpenAI chat-completions protocol with `stream: true` (OpenAI, llama.cpp server, vLLM, Ollama's
 * /v1, ...). The API key is read from an environment variable, never from params, so specs stay secret-free.
 * @module
 */
import { RemoteMediaError, InvalidParamsError } from '../errors.js';
import type { EngineOptions, ResponderEngine, ResponderStream } from './types.js';

/** `echo`: replies with the input text, synchronously. */
export function loadEcho(): ResponderEngine {
  return {
    label: 'echo',
    stream: (): ResponderStream => ({
      reply: (text, onDelta) => onDelta(text),
      close: () => undefined,
    }),
    close: () => undefined,
  };
}

/** Options of the `openai` responder. */
export interface OpenAiResponderOptions {
  /** Base URL of the API, up to and including `/v1`. Default: 'https://api.openai.com/v1'. */
  readonly url?: string;
  /** Model name sent in each request. Required. */
  readonly model?: string;
  /** Environment variable holding the API key (sent as a Bearer token when set). Default: 'OPENAI_API_KEY'. */
  readonly apiKeyEnv?: string;
  /** System prompt opening every conversation. Default: none. */
  readonly systemPrompt?: string;
  /** Earlier user/assistant turns kept as context. Default: 10. */
  readonly maxTurns?: number;
}

interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

const LABEL = 'openai';

/** Parses one server-sent-events line; returns the content delta, `null` at `[DONE]`, `''` otherwise. */
function parseSseLine(line: string): string | null {
  if (!line.startsWith('data:')) return '';
  const data = line.slice(5).trim();
  if (data === '[DONE]') return null;
  try {
    const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> };
    const content = chunk.choices?.[0]?.delta?.content;
    return typeof content === 'string' ? content : '';
  } catch {
    throw new RemoteMediaError('PROTOCOL', `${LABEL}: malformed stream chunk: ${data.slice(0, 120)}`);
  }
}

function httpError(status: number, body: string): RemoteMediaError {
  const code = status === 401 || status === 403 ? 'UNAUTHENTICATED' : status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'UNAVAILABLE' : 'NODE_FAILED';
  return new RemoteMediaError(code, `${LABEL}: HTTP ${status}: ${body.slice(0, 300)}`);
}

/** Loads the `openai` responder (no request is made until the first reply). */
export function loadOpenAiResponder(options: EngineOptions): ResponderEngine {
  const { url = 'https://api.openai.com/v1', model, apiKeyEnv = 'OPENAI_API_KEY', systemPrompt, maxTurns = 10 } = options as OpenAiResponderOptions;
  if (typeof model !== 'string' || model === '') throw new InvalidParamsError(`respond.${LABEL}`, 'model', 'is required for the openai engine');
  const endpoint = `${url.replace(/\/+$/, '')}/chat/completions`;
  return {
    label: LABEL,
    stream(): ResponderStream {
      const history: ChatMessage[] = [];
      return {
        async reply(text, onDelta, signal) {
          const apiKey = process.env[apiKeyEnv];
          const messages: ChatMessage[] = [...(systemPrompt === undefined ? [] : [{ role: 'system' as const, content: systemPrompt }]), ...history, { role: 'user', content: text }];
          let response: Response;
          try {
            response = await fetch(endpoint, {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
              body: JSON.stringify({ model, messages, stream: true }),
              signal: signal ?? null,
            });
          } catch (e) {
            throw new RemoteMediaError('UNAVAILABLE', `${LABEL}: cannot reach ${endpoint}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`, { cause: e });
          }
          if (!response.ok || response.body === null) throw httpError(response.status, await response.text().catch(() => ''));
          let reply = '';
          let pending = '';
          const decoder = new TextDecoder();
          read: for await (const bytes of response.body) {
            pending += decoder.decode(bytes as Uint8Array, { stream: true });
            let newline: number;
            while ((newline = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, newline).trim();
              pending = pending.slice(newline + 1);
              const delta = parseSseLine(line);
              if (delta === null) break read;
              if (delta !== '') {
                reply += delta;
                onDelta(delta);
              }
            }
          }
          history.push({ role: 'user', content: text }, { role: 'assistant', content: reply });
          while (history.length > maxTurns * 2) history.splice(0, 2);
        },
        close: () => {
          history.length = 0;
        },
      };
    },
    close: () => undefined,
  };
}
