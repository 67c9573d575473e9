import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, from, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidParamsError } from '../../../src/errors.js';
import { fromAsyncIterable } from '../../../src/flow/pullable.js';
import { respond } from '../../../src/operators/ml/respond.js';
import { marbleTest } from '../../../src/testing/index.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/** A small OpenAI-compatible chat-completions server: streams the scripted pieces as server-sent events. */
interface Recorded {
  readonly body: { model: string; stream: boolean; messages: Array<{ role: string; content: string }> };
  readonly authorization: string | undefined;
}
let server: Server;
let baseUrl = '';
let script: { pieces: string[]; status?: number; gate?: Promise<void> } = { pieces: [] };
const requests: Recorded[] = [];
let closedEarly = 0;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  if (req.url !== '/v1/chat/completions' || req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  requests.push({ body: JSON.parse(raw) as Recorded['body'], authorization: req.headers.authorization });
  if (script.status !== undefined) {
    res.writeHead(script.status, { 'content-type': 'application/json' }).end('{"error":{"message":"nope"}}');
    return;
  }
  res.on('close', () => {
    if (!res.writableFinished) closedEarly++;
  });
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [i, piece] of script.pieces.entries()) {
    if (i === script.pieces.length - 1 && script.gate !== undefined) await script.gate;
    res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
  }
  res.write('data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n');
  res.end('data: [DONE]\n\n');
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests.length = 0;
  script = { pieces: [] };
});

describe('respond node', () => {
  it('echo: replies with the text, sentence by sentence (marbles)', () =>
    marbleTest(({ cold, expectObservable }) => {
      const t = { text: 'turn on the lights', startPts: 0, endPts: 1, engine: 'pocketsphinx' };
      expectObservable(cold('-a----b--c-|', { a: 'Hello. How are you?', b: t, c: '  ' }).pipe(respond())).toBe('-(xy)-b----|', {
        x: 'Hello.',
        y: 'How are you?',
        b: 'turn on the lights',
      });
    }, assertEqual));

  it('completes right after the last reply', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-(a|)', { a: 'hi' }).pipe(respond())).toBe('-(x|)', { x: 'hi' });
    }, assertEqual));

  it('forwards an error from the source', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a: 'hi' }, new Error('stt died')).pipe(respond())).toBe('-x-#', { x: 'hi' }, new Error('stt died'));
    }, assertEqual));

  it('releases the source on early unsubscribe', () =>
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-a-a-|', { a: 'hi' });
      expectObservable(source.pipe(respond()), '--!').toBe('-x-', { x: 'hi' });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    }, assertEqual));

  it('openai: streams a reply from an OpenAI-compatible server, one complete sentence at a time', async () => {
    process.env['RM_TEST_KEY'] = 'sk-test-123';
    script = { pieces: ['Hello there! How', ' are you to', 'day? I am', ' fine'] };
    const out = await lastValueFrom(from(['hi']).pipe(respond({ engine: 'openai', url: baseUrl, model: 'tiny', apiKeyEnv: 'RM_TEST_KEY', systemPrompt: 'Be brief.' }), toArray()));
    expect(out).toEqual(['Hello there!', 'How are you today?', 'I am fine']);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.authorization).toBe('Bearer sk-test-123');
    expect(requests[0]!.body).toEqual({ model: 'tiny', stream: true, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
  });

  it('openai: emits the first sentence before the reply has finished streaming', async () => {
    let release!: () => void;
    script = { pieces: ['First sentence. Second', ' part.'], gate: new Promise<void>((r) => (release = r)) };
    const input = new Subject<string>();
    const seen: string[] = [];
    const done = lastValueFrom(input.pipe(respond({ engine: 'openai', url: baseUrl, model: 'tiny' }), toArray()));
    const first = firstValueFrom(input.pipe(respond({ engine: 'openai', url: baseUrl, model: 'tiny' })));
    input.next('go');
    seen.push(await first);
    expect(seen).toEqual(['First sentence.']);
    release();
    input.complete();
    expect(await done).toEqual(['First sentence.', 'Second part.']);
  });

  it("openai: keeps the conversation per subscription and supports 'delta' and 'reply' chunking", async () => {
    script = { pieces: ['One. ', 'Two.'] };
    const deltas = await lastValueFrom(fromAsyncIterable(['a', 'b']).pipe(respond({ engine: 'openai', url: baseUrl, model: 'm', chunking: 'delta' }), toArray()));
    expect(deltas).toEqual(['One. ', 'Two.', 'One. ', 'Two.']);
    expect(requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'One. Two.' },
      { role: 'user', content: 'b' },
    ]);
    const whole = await lastValueFrom(from(['c']).pipe(respond({ engine: 'openai', url: baseUrl, model: 'm', chunking: 'reply' }), toArray()));
    expect(whole).toEqual(['One. Two.']);
    // A new subscription starts a new conversation.
    expect(requests[2]!.body.messages).toEqual([{ role: 'user', content: 'c' }]);
  });

  it('openai: aborts the running request on unsubscribe', async () => {
    script = { pieces: ['Never', ' finished.'], gate: new Promise<void>(() => undefined) };
    const before = closedEarly;
    const input = new Subject<string>();
    const subscription = input.pipe(respond({ engine: 'openai', url: baseUrl, model: 'm' })).subscribe();
    input.next('x');
    for (let i = 0; i < 100 && requests.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    subscription.unsubscribe();
    for (let i = 0; i < 100 && closedEarly === before; i++) await new Promise((r) => setTimeout(r, 5));
    expect(closedEarly).toBe(before + 1);
  });

  it('openai: maps HTTP 401 to UNAUTHENTICATED and an unreachable server to UNAVAILABLE', async () => {
    script = { pieces: [], status: 401 };
    const denied = await firstValueFrom(from(['x']).pipe(respond({ engine: 'openai', url: baseUrl, model: 'm' }))).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'UNAUTHENTICATED', node: 'ml.respond' });
    expect((denied as Error).message).toMatch(/HTTP 401/);
    const unreachable = await firstValueFrom(from(['x']).pipe(respond({ engine: 'openai', url: 'http://127.0.0.1:9/v1', model: 'm' }))).catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.respond' });
    expect((unreachable as Error).message).toMatch(/cannot reach http:\/\/127.0.0.1:9\/v1\/chat\/completions/);
  });

  it('rejects bad params and bad input with the field named', async () => {
    expect(() => respond({ engine: 'openai' })).toThrow(InvalidParamsError);
    expect(() => respond({ engine: 'openai' })).toThrow(/field 'model'/);
    expect(() => respond({ engine: 'nope' })).toThrow(/field 'engine'/);
    expect(() => respond({ engine: 'openai', model: 'm', url: 'not a url' })).toThrow(/field 'url'/);
    const error = await firstValueFrom(from([{ nope: 1 } as unknown as string]).pipe(respond())).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', node: 'ml.respond' });
  });
});
