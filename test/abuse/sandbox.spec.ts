/**
 * Sandbox abuse against a real child-process executor, the way an outsider would attack it: ordinary
 * `remote({ address }, codeNode(...))` streams and `connect(...).createProxy(ShippedClass)` objects (issue #11).
 * Every case ends with the health contract (alive, GetStatus answered within 100 ms throughout, RSS bounded, live
 * counters back to zero); every runaway case also asserts the runaway was stopped in time and counted.
 *
 * Timing: the executor caps calls at {@link CAP_MS}; a runaway must be stopped within `timeoutMs + 50 ms` on the
 * executor. Measured here on the client, from sending the item (or the call) to the error's arrival, so the bound
 * adds {@link WIRE_SLACK_MS} for the gRPC round trip and scheduling on a loaded 2-core test machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, Subject, toArray, of } from 'rxjs';
import { codeNode, connect, remote, RemoteMediaError, SandboxLimitError, type RemoteClient } from '../../src/index.js';
import { MB, startAbuseTarget, type AbuseTarget } from './helpers/target.js';
import { resetSandboxCaps, setSandboxCaps } from '../../src/sandbox/policy.js';
import { wasmModule } from '../sandbox/fixtures/wasmModules.js';

/** The executor's `--sandbox-timeout-ms`. */
const CAP_MS = 200;
/** The executor's `--sandbox-memory-limit-mb`. */
const CAP_MB = 32;
/** The executor's `--max-isolates`. */
const MAX_ISOLATES = 6;
/** Round trip and scheduling between the executor's stop and the client's observation. */
const WIRE_SLACK_MS = 50;
const STOP_BOUND_MS = CAP_MS + 50 + WIRE_SLACK_MS;
/** Baseline (~170 MB with the test nodes) + every isolate at its cap + slack. */
const RSS_BOUND = 170 * MB + MAX_ISOLATES * CAP_MB * MB + 100 * MB;

/** Shipped to the executor by its source text; every method is an attack. */
class Hostile {
  resultGetter(): unknown {
    return {
      get x(): number {
        for (;;) {
          /* forever */
        }
      },
    };
  }
  thrownGetter(): unknown {
    throw {
      get message(): string {
        for (;;) {
          /* forever */
        }
      },
    };
  }
  prepareStack(): unknown {
    (Error as unknown as { prepareStackTrace: () => string }).prepareStackTrace = () => {
      for (;;) {
        /* forever */
      }
    };
    throw new Error('formatting me never ends');
  }
  thenLoop(): unknown {
    return {
      then(): void {
        for (;;) {
          /* forever */
        }
      },
    };
  }
  never(): Promise<number> {
    return new Promise(() => undefined);
  }
  microtasks(): number {
    const loop = (): Promise<void> => Promise.resolve().then(loop);
    void loop();
    return 1;
  }
  iteratorGetter(): unknown {
    return {
      [Symbol.iterator]() {
        return this;
      },
      next() {
        return {
          get done(): boolean {
            for (;;) {
              /* forever */
            }
          },
        };
      },
    };
  }
  proxyTrap(): unknown {
    return new Proxy(
      {},
      {
        ownKeys(): string[] {
          for (;;) {
            /* forever */
          }
        },
      },
    );
  }
  pollute(): unknown {
    const mk = Object.create;
    const assign = Object.assign;
    const spin = (): never => {
      for (;;) {
        /* forever */
      }
    };
    Object.defineProperty(Array.prototype, '0', assign(mk(null), { set: spin, get: spin, configurable: true }));
    Reflect.defineProperty = spin;
    Array.isArray = spin as never;
    (Function.prototype as { call: unknown }).call = spin;
    Object.defineProperty(Object.prototype, 'value', assign(mk(null), { set: spin, configurable: true }));
    return [1, { a: [2] }];
  }
  reach(): Record<string, string> {
    const g = globalThis as Record<string, unknown>;
    const ab = Reflect.construct(ArrayBuffer, [8, { maxByteLength: 2 ** 30 }]) as ArrayBuffer & { resizable?: boolean };
    return {
      bridge: typeof g['__rm'],
      WebAssembly: typeof g['WebAssembly'],
      SharedArrayBuffer: typeof g['SharedArrayBuffer'],
      Atomics: typeof g['Atomics'],
      resizable: String(ab.resizable),
    };
  }
  resizableBomb(): number {
    const keep: ArrayBuffer[] = [];
    for (let i = 0; i < 8; i++) keep.push(Reflect.construct(ArrayBuffer, [128 * 2 ** 20, { maxByteLength: 2 ** 30 }]) as ArrayBuffer);
    return keep.length;
  }
  fillBomb(): number {
    // Unguarded, this aborts the whole Node process (V8 fatal OOM inside Array.prototype.fill; isolated-vm #107).
    return new Array(60 * 2 ** 20).fill(undefined).length;
  }
  stringBomb(): number {
    return 'x'.repeat(2 ** 29).length;
  }
  deep(): number {
    const f = (n: number): number => f(n + 1) + 1;
    return f(0);
  }
  ok(): string {
    return 'ok';
  }
}

/** A shipped class whose constructor never returns. */
class SpinningConstructor {
  constructor() {
    for (;;) {
      /* forever */
    }
  }
}

describe('sandbox abuse (issue #11)', () => {
  let target: AbuseTarget;
  let address: string;
  beforeAll(async () => {
    target = await startAbuseTarget(['--sandbox-timeout-ms', String(CAP_MS), '--sandbox-memory-limit-mb', String(CAP_MB), '--max-isolates', String(MAX_ISOLATES)]);
    address = target.address;
    // Warm-up (not an attack): the executor loads isolated-vm on first use.
    expect(await lastValueFrom(of(1).pipe(remote({ address }, codeNode((x: number) => x + 1))))).toBe(2);
  }, 30_000);
  afterAll(() => target.close());

  const attack = (run: () => Promise<void>): Promise<void> => target.attack(run, { rssBoundBytes: RSS_BOUND });

  /** Runs item 0 (which returns at once: the sandbox is up), then item 1 (the attack); returns the stream's error and how long item 1 took to fail. */
  async function runaway(node: ReturnType<typeof codeNode>): Promise<{ error: unknown; ms: number }> {
    const source = new Subject<number>();
    let first!: () => void;
    const ready = new Promise<void>((resolve) => (first = resolve));
    const ended = new Promise<unknown>((resolve) =>
      source.pipe(remote({ address }, node)).subscribe({ next: () => first(), error: resolve, complete: () => resolve(undefined) }),
    );
    source.next(0);
    await Promise.race([ready, ended]);
    const start = performance.now();
    source.next(1);
    const error = await ended;
    return { error, ms: performance.now() - start };
  }

  async function expectStoppedAndCounted(run: () => Promise<{ error: unknown; ms: number }>): Promise<void> {
    const before = (await target.status()).sandboxTimeouts;
    const { error, ms } = await run();
    expect(error).toBeInstanceOf(SandboxLimitError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(ms, `stopped within timeoutMs + 50 ms (+ ${WIRE_SLACK_MS} ms wire)`).toBeLessThan(STOP_BOUND_MS);
    await target.until((s) => s.sandboxTimeouts > before, 2000, 'sandboxTimeouts counted');
  }

  /** A fresh proxy of `Hostile` (a runaway disposes its isolate, so each attack gets its own object). */
  async function withHostile<T>(run: (hostile: Record<string, (...a: unknown[]) => Promise<unknown>>) => Promise<T>): Promise<T> {
    const client: RemoteClient = await connect({ address });
    try {
      const hostile = (await client.createProxy(Hostile)) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return await run(hostile);
    } finally {
      await client.close();
    }
  }

  async function proxyRunaway(method: keyof Hostile, pull = false): Promise<void> {
    await expectStoppedAndCounted(() =>
      withHostile(async (hostile) => {
        let call: () => Promise<unknown> = () => hostile[method]!();
        if (pull) {
          const iterable = (await hostile[method]!()) as AsyncIterable<unknown>;
          call = async () => {
            for await (const item of iterable) return item;
            return undefined;
          };
        }
        const start = performance.now();
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        return { error, ms: performance.now() - start };
      }),
    );
  }

  describe('no user code runs outside the clock; the executor keeps answering', () => {
    it('codeNode: a result whose getter loops', () =>
      attack(() =>
        expectStoppedAndCounted(() =>
          runaway(
            codeNode((x: number) =>
              x === 0
                ? 0
                : {
                    get y(): number {
                      for (;;) {
                        /* forever */
                      }
                    },
                  },
            ),
          ),
        ),
      ));

    it('codeNode: a thrown value whose message getter loops, and Error.prepareStackTrace that loops', () =>
      attack(async () => {
        await expectStoppedAndCounted(() =>
          runaway(
            codeNode((x: number) => {
              if (x === 0) return 0;
              throw {
                get message(): string {
                  for (;;) {
                    /* forever */
                  }
                },
              };
            }),
          ),
        );
        await expectStoppedAndCounted(() =>
          runaway(
            codeNode((x: number) => {
              if (x === 0) return 0;
              (Error as unknown as { prepareStackTrace: () => string }).prepareStackTrace = () => {
                for (;;) {
                  /* forever */
                }
              };
              throw new Error('x');
            }),
          ),
        );
      }));

    it('codeNode: a plain infinite loop, asking timeoutMs 60000 of an executor capped at 200 ms', () =>
      attack(() =>
        expectStoppedAndCounted(() =>
          runaway(
            codeNode(
              (x: number) => {
                if (x === 0) return 0;
                for (;;) {
                  /* forever */
                }
              },
              { timeoutMs: 60_000 },
            ),
          ),
        ),
      ));

    it('codeNode: code whose top level loops (load) fails the stream DEADLINE_EXCEEDED', () =>
      attack(async () => {
        const start = performance.now();
        const error = await lastValueFrom(of(1).pipe(remote({ address }, codeNode({ code: 'for (;;) {}' })))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SandboxLimitError);
        expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
        expect(performance.now() - start).toBeLessThan(STOP_BOUND_MS + 500); // + stream open and isolate creation
      }));

    it('shipped object: result getter, thrown getter, prepareStackTrace', () =>
      attack(async () => {
        await proxyRunaway('resultGetter');
        await proxyRunaway('thrownGetter');
        await proxyRunaway('prepareStack');
      }));

    it('shipped object: a thenable whose then loops, a promise that never settles, an endless microtask chain', () =>
      attack(async () => {
        await proxyRunaway('thenLoop');
        await proxyRunaway('never');
        await proxyRunaway('microtasks');
      }));

    it('shipped object: an iterator whose next() result has a looping getter, and a Proxy result whose trap loops', () =>
      attack(async () => {
        await proxyRunaway('iteratorGetter', true);
        await proxyRunaway('proxyTrap');
      }));

    it('shipped object: a constructor that loops', () =>
      attack(async () => {
        const client = await connect({ address });
        try {
          const start = performance.now();
          const error = await client.createProxy(SpinningConstructor).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(SandboxLimitError);
          expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
          expect(performance.now() - start).toBeLessThan(STOP_BOUND_MS + 300); // + packaging, load and isolate creation
        } finally {
          await client.close();
        }
      }));

    it("shipped object: polluting the realm's intrinsics does not hijack the bridge; the bridge is unreachable", () =>
      attack(() =>
        withHostile(async (hostile) => {
          expect(await hostile['pollute']!()).toEqual([1, { a: [2] }]);
          expect(await hostile['ok']!()).toBe('ok');
        }),
      ));
  });

  describe('resources stay bounded', () => {
    it('WebAssembly, SharedArrayBuffer, Atomics and resizable ArrayBuffers are unavailable; asking for wasm is refused', () =>
      attack(async () => {
        await withHostile(async (hostile) => {
          expect(await hostile['reach']!()).toEqual({ bridge: 'undefined', WebAssembly: 'undefined', SharedArrayBuffer: 'undefined', Atomics: 'undefined', resizable: 'false' });
          // 8 × 128 MB "resizable" buffers once bypassed the 32 MB limit (1 GB RSS); now they are ordinary, counted buffers.
          await expect(hostile['resizableBomb']!()).rejects.toThrow(/Array buffer allocation failed|memory limit/);
        });
        // The client refuses it locally; a client that sends the spec anyway is refused by the executor.
        expect(() => codeNode((x: number) => x, { capabilities: ['wasm'] })).toThrow(/'wasm' is not available/);
        const { code } = codeNode((x: number) => x).spec.params as { code: string };
        const forged = Object.assign((s: unknown) => s, { spec: { type: 'core.codeNode', params: { code, capabilities: ['wasm'] } } }) as unknown as ReturnType<typeof codeNode>;
        const error = await lastValueFrom(of(1).pipe(remote({ address }, forged))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteMediaError);
        expect((error as Error).message).toMatch(/'wasm' is not available/);
      }));

    it('memoryLimitMb 4096 is capped at the executor limit: a 48 MB buffer fails in a 32 MB sandbox', () =>
      attack(async () => {
        const error = await lastValueFrom(
          of(1).pipe(remote({ address }, codeNode(() => new Uint8Array(48 * 2 ** 20).length, { memoryLimitMb: 4096 }))),
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteMediaError);
        expect((error as Error).message).toMatch(/Array buffer allocation failed|memory limit \(32 MB\)/);
      }));

    it('a string-repeat bomb, deep recursion, a process-killing fill() and a huge result fail as errors', () =>
      attack(async () => {
        await withHostile(async (hostile) => {
          await expect(hostile['stringBomb']!()).rejects.toThrow(/Invalid string length/);
          await expect(hostile['deep']!()).rejects.toThrow(/Maximum call stack size exceeded/);
          await expect(hostile['fillBomb']!()).rejects.toThrow(/arrays longer than 4194304 elements are refused/);
          expect(await hostile['ok']!()).toBe('ok');
        });
        const error = await lastValueFrom(of(1).pipe(remote({ address }, codeNode(() => new Array(1_500_000).fill(0))))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteMediaError);
        expect((error as Error).message).toMatch(/more than 1000000 entries|memory limit/);
      }));

    it('streams with many distinct memory limits do not keep their isolates or garbage', () =>
      attack(async () => {
        const before = await target.status();
        for (let mb = 9; mb < 9 + 12; mb++) {
          const garbage = codeNode(
            (x: number) => {
              const junk: number[][] = [];
              for (let i = 0; i < 4; i++) junk.push(new Array(250_000).fill(i));
              return x + junk.length;
            },
            { memoryLimitMb: mb },
          );
          expect(await lastValueFrom(of(1, 2).pipe(remote({ address }, garbage), toArray()))).toEqual([5, 6]);
        }
        const after = await target.until((s) => s.liveIsolates <= 4, 5000, 'idle isolates bounded');
        expect(after.rssBytes - before.rssBytes, 'RSS growth after 12 streams with distinct memory limits').toBeLessThan(100 * MB);
      }));

    it('a console flood (10 calls × 20 000 arguments × 4 KB) is bounded inside the isolate: the call is quick, the executor keeps answering', () =>
      attack(async () => {
        // Before the fix: probe max 5 s, 328 MB to stderr, RSS +400 MB. Now ≤ maxConsoleBytes (64 KiB) per sandbox.
        const flood = codeNode(
          (x: number) => {
            const a = new Array<string>(20_000).fill('A'.repeat(4096));
            // eslint-disable-next-line no-console -- the attack: console.log runs inside the sandbox
            for (let j = 0; j < 10; j++) console.log(...a);
            return x;
          },
          { capabilities: ['console'] },
        );
        const start = performance.now();
        expect(await lastValueFrom(of(1).pipe(remote({ address }, flood)))).toBe(1);
        expect(performance.now() - start).toBeLessThan(1000);
      }));

    it('many: true returning 50 000 items fails RESOURCE_EXHAUSTED naming maxOutputsPerItem; 1024 pass', () =>
      attack(async () => {
        const fan = (): ReturnType<typeof codeNode> => codeNode((k: number) => new Array<number>(k).fill(0), { many: true, maxOutputsPerItem: 1024 });
        expect(await lastValueFrom(of(1024).pipe(remote({ address }, fan()), toArray()))).toHaveLength(1024);
        const error = await lastValueFrom(of(50_000).pipe(remote({ address }, fan()))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SandboxLimitError);
        expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
        expect((error as Error).message).toContain('maxOutputsPerItem (1024)');
      }));

    it(`maxIsolates: ${MAX_ISOLATES} sandboxes at once run, one more is RESOURCE_EXHAUSTED naming the limit`, () =>
      attack(async () => {
        const held: Array<{ source: Subject<number>; out: Promise<unknown> }> = [];
        try {
          for (let i = 0; i < MAX_ISOLATES; i++) {
            const source = new Subject<number>();
            const out = lastValueFrom(source.pipe(remote({ address }, codeNode((x: number) => x)), toArray())).catch((e: unknown) => e);
            held.push({ source, out });
          }
          for (const h of held) h.source.next(1);
          await target.until((s) => s.liveIsolates >= MAX_ISOLATES, 10_000, `${MAX_ISOLATES} isolates live`);
          const refused = await lastValueFrom(of(1).pipe(remote({ address }, codeNode((x: number) => x)))).catch((e: unknown) => e);
          expect(refused).toBeInstanceOf(SandboxLimitError);
          expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
          expect((refused as Error).message).toContain(`maxIsolates (${MAX_ISOLATES})`);
        } finally {
          for (const h of held) h.source.complete();
        }
        const results = await Promise.all(held.map((h) => h.out));
        for (const r of results) expect(r).toEqual([1]);
      }));
  });
});

describe('sandbox abuse: maxIsolatesPerClient, and memory checked after every call (issue #11)', () => {
  const PER_CLIENT = 3;
  let target: AbuseTarget;
  let address: string;
  beforeAll(async () => {
    // A longer time limit than above: flattening a 128 MB string takes ~150–300 ms.
    target = await startAbuseTarget(['--sandbox-timeout-ms', '3000', '--sandbox-memory-limit-mb', String(CAP_MB), '--max-isolates', String(MAX_ISOLATES), '--max-isolates-per-client', String(PER_CLIENT)]);
    address = target.address;
    expect(await lastValueFrom(of(1).pipe(remote({ address }, codeNode((x: number) => x + 1))))).toBe(2);
  }, 30_000);
  afterAll(() => target.close());

  const attack = (run: () => Promise<void>): Promise<void> => target.attack(run, { rssBoundBytes: RSS_BOUND });
  const inc = (): ReturnType<typeof codeNode> => codeNode((x: number) => x + 1);

  it(`a chain of ${PER_CLIENT} codeNodes runs; ${PER_CLIENT + 1} is RESOURCE_EXHAUSTED naming maxIsolatesPerClient while isolates remain (maxIsolates ${MAX_ISOLATES})`, () =>
    attack(async () => {
      expect(await lastValueFrom(of(0).pipe(remote({ address }, ...Array.from({ length: PER_CLIENT }, inc))))).toBe(PER_CLIENT);
      const error = await lastValueFrom(of(0).pipe(remote({ address }, ...Array.from({ length: PER_CLIENT + 1 }, inc)))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SandboxLimitError);
      expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
      expect((error as Error).message).toContain(`maxIsolatesPerClient (${PER_CLIENT})`);
      expect((await target.status()).liveIsolates).toBeLessThan(MAX_ISOLATES);
    }));

  it('a flattened string 4× the memory limit, kept across items, is RESOURCE_EXHAUSTED after the call that made it (isolated-vm checks only at GC)', () =>
    attack(async () => {
      // Before the fix: item 0 kept 128 MB in a 64 MB isolate (RSS +130 MB) and returned normally.
      const keep = codeNode((x: number) => {
        const s = String.fromCharCode(0x100 + x).repeat(2 ** 26) + 'z';
        s.indexOf('z');
        const g = globalThis as unknown as { keep?: string[] };
        (g.keep ??= []).push(s);
        return g.keep.length;
      });
      const error = await lastValueFrom(of(0, 1).pipe(remote({ address }, keep), toArray())).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SandboxLimitError);
      expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
      expect((error as Error).message).toMatch(new RegExp(`memory limit \\(${CAP_MB} MB`));
    }));

  it(`${PER_CLIENT} shipped objects are created, one more is refused naming maxIsolatesPerClient; releasing one makes room`, () =>
    attack(async () => {
      const client: RemoteClient = await connect({ address });
      try {
        const held = [];
        for (let i = 0; i < PER_CLIENT; i++) held.push(await client.createProxy(Hostile));
        const refused = await client.createProxy(Hostile).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(RemoteMediaError);
        expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
        expect((refused as Error).message).toContain(`maxIsolatesPerClient (${PER_CLIENT})`);
        const status = await target.status();
        expect(status.liveIsolates).toBeLessThan(MAX_ISOLATES);
        // The same client's streams are counted with its objects.
        const stream = await lastValueFrom(of(0).pipe(remote({ address }, inc()))).catch((e: unknown) => e);
        expect((stream as Error).message).toContain('maxIsolatesPerClient');
        await client.release(held[0]!);
        expect(await (await client.createProxy(Hostile) as unknown as Record<string, () => Promise<unknown>>)['ok']!()).toBe('ok');
      } finally {
        await client.close();
      }
    }));
});

describe("sandbox abuse: an executor that allows 'wasm' (issue #11)", () => {
  let target: AbuseTarget;
  beforeAll(async () => {
    target = await startAbuseTarget([
      ...['--sandbox-timeout-ms', String(CAP_MS), '--sandbox-memory-limit-mb', String(CAP_MB), '--max-isolates', String(MAX_ISOLATES)],
      ...['--sandbox-capability', 'console', '--sandbox-capability', 'wasm'],
    ]);
    // The client process checks capabilities too when it builds the chain: allow 'wasm' here as well.
    setSandboxCaps({ capabilities: ['console', 'wasm'] });
  }, 30_000);
  afterAll(async () => {
    resetSandboxCaps();
    await target.close();
  });

  it('a codeNode granted wasm cannot reserve beyond its budget (half of 32 MB): 1 GiB memories refused, RSS bounded, counters back to zero', async () => {
    target.startProbing();
    try {
      const before = await target.status();
      const node = codeNode(
        (bytes: Uint8Array) => {
          type Wasm = {
            Module: new (b: Uint8Array) => unknown;
            Instance: new (m: unknown) => { exports: Record<string, (n?: number) => number> };
            Memory: new (d: { initial: number; maximum: number }) => unknown;
          };
          const W = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
          const module = new W.Module(bytes);
          let refused = 0;
          let message = '';
          for (let i = 0; i < 50; i++) {
            try {
              new W.Instance(module).exports['grow']!(16383);
            } catch (e) {
              refused++;
              message = (e as Error).message;
            }
            try {
              new W.Memory({ initial: 16384, maximum: 16384 });
            } catch {
              refused++;
            }
          }
          // Within the budget it works: 8 MiB of the 16 MiB budget.
          const fits = new W.Memory({ initial: 1, maximum: 128 });
          return { refused, message, fits: typeof fits };
        },
        { capabilities: ['wasm'], memoryLimitMb: 4096 },
      );
      const result = await lastValueFrom(of(wasmModule({ memory: { min: 1, max: 16384 } })).pipe(remote({ address: target.address }, node)));
      expect(result).toEqual({ refused: 100, message: expect.stringMatching(/WebAssembly budget has .* of 16\.0 MB left/), fits: 'object' });
      const after = await target.status();
      expect(after.rssBytes - before.rssBytes, 'RSS growth after 100 attempts at 1 GiB memories').toBeLessThan(50 * MB);
    } finally {
      const probe = await target.stopProbing();
      await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe });
    }
  });
});
