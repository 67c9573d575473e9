/**
 * One `Stream` call on the executor: rebuilds the node chain from the `open` message, feeds it the received items,
 * grants credits as the chain consumes them (request-n), streams its output back, and ends the call with `end`
 * (after the chain flushed) or with `error` plus a matching gRPC status.
 *
 * Flow control: the chain's input is a demand-aware source (like `fromWavFile`): when a node in the chain is an async
 * boundary (`bounded`, `mapAsync`, an engine), items are pushed only while that boundary is ready, and credits go back
 * only for pushed items. So the executor holds at most `window` received items per stream, however slow the chain.
 *
 * @module
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { errorToData, RemoteMediaError, type ErrorCode } from '../src/errors.js';
import { currentDemand, type Demand } from '../src/flow/demand.js';
import { operatorsFromSpecs, type NodeSpec } from '../src/node.js';
import { checkPayload, decodePayload, encodePayload } from '../src/remote/codec.js';
import type { Data, Open, StreamMessage } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusDetails, statusForCode } from '../src/remote/status.js';
import { withSandboxOwner } from '../src/sandbox/policy.js';
import { isMalformed, malformedReason } from './lenientService.js';
import { instrumentedChain } from './metricsChain.js';
import { peerHost } from './peer.js';
import type { ExecutorStats } from './stats.js';

/** What a session needs from its executor. */
export interface SessionContext {
  readonly stats: ExecutorStats;
  readonly maxWindow: number;
  readonly idleTimeoutMs: number;
  /** Nodes in one chain (option `maxNodes`); a longer `open` is refused before any node is looked up. */
  readonly maxNodes: number;
  /** Length of one node's `params_json`, UTF-16 code units (option `maxParamsBytes`); checked before parsing. */
  readonly maxParamsBytes: number;
  /** Length of a node type (option `maxNodeTypeLength`); checked before any lookup or echo. */
  readonly maxNodeTypeLength: number;
  /** A call that sends no `open` this long is ended with DEADLINE_EXCEEDED, ms (option `openTimeoutMs`). */
  readonly openTimeoutMs: number;
  /** Largest received message, bytes (option `maxMessageBytes`); an output payload larger than this fails the stream. */
  readonly maxMessageBytes: number;
  /**
   * Bytes one stream may hold (option `maxStreamBufferBytes`), counted twice over: encoded outputs the transport has
   * not taken, and received payloads the chain has not consumed. Over either: no credit, and (outputs) no item pushed
   * into the chain / (inputs) the call is not read, until it drains.
   */
  readonly maxStreamBufferBytes: number;
  /** Send error stacks and unredacted paths to this caller (option `errorStacks`, resolved for this executor). */
  readonly stacks: boolean;
  readonly log: Logger;
  /** Called once when the session is over (any path). */
  readonly onClosed: (session: StreamSession) => void;
}

/** Window used when the client sends 0 (proto3 default). */
const DEFAULT_WINDOW = 16;

export class StreamSession {
  private state: 'awaiting-open' | 'open' | 'done' = 'awaiting-open';
  private window = 0;
  private granted = 0;
  private received = 0;
  private inFlight = 0;
  private pendingCredit = 0;
  private creditTimer: NodeJS.Immediate | undefined;
  private outSeq = 0;
  private readonly queue: unknown[] = [];
  /** Payload bytes of each queued item (parallel to `queue`) and their sum: received, not yet consumed by the chain. */
  private readonly queueBytes: number[] = [];
  private queuedInputBytes = 0;
  /** True while the call is paused because `queuedInputBytes` is over `maxStreamBufferBytes`. */
  private inputPaused = false;
  private input: Subscriber<unknown> | undefined;
  private demand: Demand | undefined;
  private waitingForDemand = false;
  private pumping = false;
  private inputEnded = false;
  private inputCompleted = false;
  private subscription: Subscription | undefined;
  private nodeTypes: string[] = [];
  private lastActivity = performance.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly openTimer: NodeJS.Timeout;
  /** Set when the chain's subscription reached its input (never cleared); see onOpen. */
  private inputReached = false;
  /** True from a `call.write()` that reported a full buffer until 'drain': no credit is granted meanwhile. */
  private writeBlocked = false;
  /** Output items handed to gRPC and not yet taken by the transport (their write callback has not run). */
  private unsentOutputs = 0;
  /** Encoded bytes of those outputs; over `maxStreamBufferBytes` the stream is write-blocked (see {@link StreamSession.creditBlocked}). */
  private unsentOutputBytes = 0;
  /** True once the stream's slot is given back (see {@link StreamSession.maybeRelease}). */
  private released = false;

  constructor(
    private readonly call: ServerDuplexStream<StreamMessage, StreamMessage>,
    private readonly ctx: SessionContext,
  ) {
    ctx.stats.activeStreams++;
    ctx.stats.totalStreams++;
    call.on('data', (message: StreamMessage) => this.guarded(() => this.onMessage(message)));
    call.on('end', () => this.guarded(() => this.onHalfClose()));
    call.on('cancelled', () => this.guarded(() => this.close()));
    this.armIdleTimer();
    // Calls that never open would otherwise hold a slot until the (much longer) idle timeout.
    this.openTimer = setTimeout(() => {
      if (this.state !== 'awaiting-open') return;
      ctx.stats.rejectedCalls++;
      this.fail(new RemoteMediaError('DEADLINE_EXCEEDED', `no open message within ${ctx.openTimeoutMs} ms (openTimeoutMs)`));
    }, ctx.openTimeoutMs);
    this.openTimer.unref();
  }

  /**
   * Runs the handler of a call event. A throw that escaped it (a RangeError from a chain too deep for the stack, in
   * RxJS's subscribe or teardown) would reach grpc-js's event emitter as an uncaught exception and end the process,
   * every other stream with it; here it fails this stream only.
   */
  private guarded(handler: () => void): void {
    try {
      handler();
    } catch (e) {
      try {
        this.fail(chainFailure(e));
      } catch (again) {
        this.ctx.log.error({ err: again }, 'stream could not be failed cleanly');
      }
    }
  }

  /** Ends the stream with an error (used for limits and shutdown too). */
  fail(error: unknown, node?: string): void {
    if (this.state === 'done') return;
    clearTimeout(this.openTimer);
    const data = errorToData(error, node);
    if (data.node !== undefined && this.nodeTypes.includes(data.node)) this.ctx.stats.node(data.node).errors++;
    this.ctx.stats.recordFailure(data.code, data.name);
    this.ctx.log.debug({ code: data.code, node: data.node, err: data.message }, 'stream failed');
    this.close();
    const stack = error instanceof Error && error.cause instanceof Error ? `${data.stack ?? ''}\nCaused by: ${error.cause.stack ?? ''}` : data.stack;
    // Unauthenticated callers get the code and a short message: no stack, no install paths (option errorStacks).
    const wire = { stacks: this.ctx.stacks };
    this.call.write({ error: errorDataToWire({ ...data, stack }, wire) });
    this.call.emit('error', { code: statusForCode(data.code), details: statusDetails(data.message, wire) });
  }

  private onMessage(message: StreamMessage): void {
    if (this.state === 'done') return;
    this.lastActivity = performance.now();
    if (isMalformed(message)) this.fail(protocol(`a message is not a valid StreamMessage (${malformedReason(message)})`, 'INVALID_INPUT'));
    else if (message.open !== undefined) this.onOpen(message.open);
    else if (message.data !== undefined) this.onData(message.data);
    else if (message.end !== undefined) this.onHalfClose();
    else this.fail(protocol('only open, data and end messages may be sent to an executor'));
  }

  private onOpen(open: Open): void {
    if (this.state !== 'awaiting-open') return this.fail(protocol('a stream may be opened only once'));
    clearTimeout(this.openTimer);
    const tooBig = openLimitError(open, this.ctx);
    if (tooBig !== undefined) return this.fail(tooBig);
    let chain: Observable<unknown>;
    try {
      const specs: NodeSpec[] = open.nodes.map((node, i) => ({ type: node.type, params: parseParams(node.paramsJson, i, node.type) }));
      const operators = operatorsFromSpecs(specs);
      this.nodeTypes = specs.map((spec) => spec.type);
      chain = new Observable<unknown>((subscriber) => {
        this.input = subscriber;
        this.inputReached = true;
        this.demand = currentDemand();
        this.demand?.attachPullable();
        this.pump();
        return () => {
          this.input = undefined;
          this.demand?.detachPullable();
        };
      });
      chain = instrumentedChain(chain, operators, this.nodeTypes, this.ctx.stats);
    } catch (e) {
      return this.fail(e);
    }
    this.state = 'open';
    for (const type of this.nodeTypes) {
      const counters = this.ctx.stats.node(type);
      counters.streams++;
      counters.active++;
    }
    this.window = Math.min(open.window === 0 ? DEFAULT_WINDOW : open.window, this.ctx.maxWindow);
    this.ctx.log.debug({ nodes: this.nodeTypes, window: this.window }, 'stream opened');
    try {
      // Sandboxes the chain's codeNodes request count for this client (maxIsolatesPerClient).
      this.subscription = withSandboxOwner(peerHost(this.call.getPeer()), () =>
        chain.subscribe({
          next: (item) => this.send(item),
          error: (e: unknown) => this.fail(e),
          complete: () => this.finish(),
        }),
      );
    } catch (e) {
      return this.fail(chainFailure(e));
    }
    if (this.state !== 'open') return;
    if (!this.inputReached) {
      // Every node subscribes to its source synchronously, so subscribe() reaches the input before it returns unless
      // the subscription broke on the way: a chain too deep for the stack overflows inside RxJS, which reports that
      // error on its own (server.ts logs it) and never tells this stream.
      return this.fail(new RemoteMediaError('RESOURCE_EXHAUSTED', `chain of ${this.nodeTypes.length} nodes did not reach its input: too deep for the executor's stack (lower maxNodes)`));
    }
    this.granted = this.window;
    this.write({ credit: { n: this.window } });
  }

  private onData(data: Data): void {
    if (this.state === 'awaiting-open') return this.fail(protocol('data message before open: send open { nodes, window } first'));
    if (this.inputEnded) return this.fail(protocol('data message after end'));
    if (data.seq !== this.received) return this.fail(protocol(`data seq ${data.seq} out of order, expected ${this.received}`));
    if (this.received >= this.granted) {
      return this.fail(new RemoteMediaError('RESOURCE_EXHAUSTED', `client sent item ${data.seq} beyond its ${this.granted} credits`));
    }
    let item: unknown;
    try {
      item = decodePayload(data.payload);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      return this.fail(new RemoteMediaError('INVALID_INPUT', `data seq ${data.seq}: payload is not valid msgpack: ${reason}`));
    }
    this.received++;
    this.inFlight++;
    this.ctx.stats.trackInFlight(this.inFlight, 1);
    this.queue.push(item);
    this.queueBytes.push(data.payload.length);
    this.queuedInputBytes += data.payload.length;
    if (this.queuedInputBytes > this.ctx.maxStreamBufferBytes && !this.inputPaused) {
      // Read no further messages (HTTP/2 flow control then holds the client) until the chain consumed what we hold.
      this.inputPaused = true;
      this.call.pause();
    }
    if (this.received === this.granted) this.ctx.stats.creditStalls++;
    this.pump();
  }

  private onHalfClose(): void {
    if (this.state === 'done' || this.inputEnded) return;
    if (this.state === 'awaiting-open') return this.fail(protocol('stream ended before open'));
    this.inputEnded = true;
    this.pump();
  }

  /** Pushes queued items into the chain while its first boundary (if any) is ready. */
  private pump(): void {
    if (this.pumping || this.state !== 'open') return;
    this.pumping = true;
    while (this.queue.length > 0 && this.input !== undefined && this.state === 'open' && !this.outputsOverBudget()) {
      if (this.demand !== undefined && !this.demand.ready) {
        if (!this.waitingForDemand) {
          this.waitingForDemand = true;
          this.ctx.stats.demandWaits++;
          void this.demand.whenReady().then(() => {
            this.waitingForDemand = false;
            this.pump();
          });
        }
        break;
      }
      this.pendingCredit++;
      this.queuedInputBytes -= this.queueBytes.shift() ?? 0;
      this.input.next(this.queue.shift());
    }
    this.pumping = false;
    if (this.state !== 'open') return;
    if (this.inputPaused && this.queuedInputBytes <= this.ctx.maxStreamBufferBytes) {
      this.inputPaused = false;
      this.call.resume();
    }
    if (this.inputEnded && this.queue.length === 0 && this.input !== undefined && !this.inputCompleted) {
      this.inputCompleted = true;
      this.input.complete();
    }
    this.scheduleCredit();
  }

  // Credits are coalesced (half a window at once, or at the next turn of the event loop) so that a fast chain
  // does not double the message count; a window of 1 still gets its credit at once.
  // No credit while the client is not taking what we write (gRPC's write buffer is full): it can then send at most
  // what it already holds, so a client that never reads costs at most window × output size × fan-out.
  private scheduleCredit(): void {
    if (this.pendingCredit === 0 || this.state !== 'open' || this.creditBlocked()) return;
    if (this.pendingCredit >= Math.ceil(this.window / 2)) this.flushCredit();
    else this.creditTimer ??= setImmediate(() => this.flushCredit());
  }

  private flushCredit(): void {
    if (this.creditTimer !== undefined) clearImmediate(this.creditTimer);
    this.creditTimer = undefined;
    const n = this.pendingCredit;
    if (n === 0 || this.state !== 'open' || this.inputEnded || this.creditBlocked()) return;
    this.pendingCredit = 0;
    this.granted += n;
    this.inFlight -= n;
    this.ctx.stats.trackInFlight(this.inFlight, -n);
    this.write({ credit: { n } });
  }

  /**
   * No credit while the client does not take what we write (gRPC's write buffer full, or `maxStreamBufferBytes` of
   * encoded outputs not taken) or while the chain has not consumed `maxStreamBufferBytes` of received payloads.
   */
  private creditBlocked(): boolean {
    return this.writeBlocked || this.outputsOverBudget() || this.queuedInputBytes > this.ctx.maxStreamBufferBytes;
  }

  private outputsOverBudget(): boolean {
    return this.unsentOutputBytes > this.ctx.maxStreamBufferBytes;
  }

  private send(item: unknown): void {
    const node = this.nodeTypes[this.nodeTypes.length - 1];
    // A string or byte array longer than the limit cannot encode smaller (≥ 1 byte per character): refuse it unencoded.
    const least = typeof item === 'string' ? item.length : ArrayBuffer.isView(item) ? item.byteLength : 0;
    if (least > this.ctx.maxMessageBytes) {
      return this.fail(
        new RemoteMediaError('RESOURCE_EXHAUSTED', `output item ${this.outSeq} of node ${node} encodes to more than ${least} bytes, over the limit of ${this.ctx.maxMessageBytes} (maxMessageBytes)`, { node }),
        node,
      );
    }
    let payload: Buffer;
    try {
      payload = encodePayload(item);
    } catch (e) {
      // Fixed text: a library's message (msgpackr's, a RangeError's) is not sent to the client.
      return this.fail(new RemoteMediaError('INVALID_INPUT', `output item ${this.outSeq} of node ${node} cannot be encoded: ${encodeFailureReason(e)}`, { node }), node);
    }
    if (payload.length > this.ctx.maxMessageBytes) {
      // A default gRPC client could not receive it, and holding it would let one item exceed maxStreamBufferBytes.
      return this.fail(
        new RemoteMediaError('RESOURCE_EXHAUSTED', `output item ${this.outSeq} of node ${node} encodes to ${payload.length} bytes, over the limit of ${this.ctx.maxMessageBytes} (maxMessageBytes)`, { node }),
        node,
      );
    }
    try {
      // The client decodes under the same payload limits (entries, containers, depth): say so here, naming the node.
      checkPayload(payload);
    } catch (e) {
      return this.fail(new RemoteMediaError('INVALID_INPUT', `output item ${this.outSeq} of node ${node} exceeds the payload limits: ${(e as Error).message}`, { node }), node);
    }
    this.unsentOutputs++;
    const wasOver = this.outputsOverBudget();
    this.unsentOutputBytes += payload.length;
    // Over the byte budget the stream is write-blocked as when write() returns false (counted once per stall).
    if (!wasOver && this.outputsOverBudget() && !this.writeBlocked) this.ctx.stats.writeStalls++;
    this.ctx.stats.trackInFlight(this.inFlight, 1);
    const bytes = payload.length;
    this.write({ data: { seq: this.outSeq++, payload } }, () => this.onOutputWritten(bytes));
  }

  private finish(): void {
    if (this.state !== 'open') return;
    this.write({ end: {} });
    this.close();
    this.call.end();
  }

  /** Writes one message; a full gRPC write buffer stops credit until 'drain' (counted in `writeStalls`). */
  private write(message: StreamMessage, written: () => void = this.onWritten): void {
    if (this.call.write(message, written) || this.writeBlocked) return;
    this.writeBlocked = true;
    this.ctx.stats.writeStalls++;
    this.call.once('drain', this.onDrain);
  }

  // Activity is what the client did: a message received, or a write the transport took. A write merely queued behind
  // a client that does not read is not activity, so such a client meets the idle timeout.
  private readonly onWritten = (): void => {
    this.lastActivity = performance.now();
    this.maybeRelease();
  };

  private onOutputWritten(bytes: number): void {
    if (!this.released) {
      this.unsentOutputs--;
      this.ctx.stats.trackInFlight(this.inFlight, -1);
      const wasOver = this.outputsOverBudget();
      this.unsentOutputBytes -= bytes;
      if (wasOver && !this.outputsOverBudget()) {
        // Drained below the budget: push the queued items, then grant what they freed.
        this.pump();
        this.scheduleCredit();
      }
    }
    this.onWritten();
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false;
    this.scheduleCredit();
  };

  /** Releases everything the session holds; idempotent. */
  private close(): void {
    if (this.state === 'done') return;
    const wasOpen = this.state === 'open';
    this.state = 'done';
    // Read nothing more: a client failed for overrunning its credits would otherwise keep us decoding what it sends.
    this.call.pause();
    if (this.creditTimer !== undefined) clearImmediate(this.creditTimer);
    this.unsubscribeChain();
    this.queue.length = 0;
    this.queueBytes.length = 0;
    this.queuedInputBytes = 0;
    this.ctx.stats.trackInFlight(0, -this.inFlight);
    this.inFlight = 0;
    if (wasOpen) for (const type of this.nodeTypes) this.ctx.stats.node(type).active--;
    this.maybeRelease();
  }

  // A closed stream keeps its slot (activeStreams, maxStreams) and counts its outputs in `inFlight` while they still
  // wait for a client that does not read: otherwise closing and reopening streams would pile up buffered outputs
  // outside every limit. The slot goes back when the last output is taken, the call is over, or the idle timer fires.
  private maybeRelease(): void {
    if (this.state !== 'done' || this.released) return;
    if (this.unsentOutputs > 0 && !this.call.cancelled && !this.call.destroyed) return;
    this.released = true;
    clearTimeout(this.idleTimer);
    this.call.off('drain', this.onDrain);
    this.ctx.stats.trackInFlight(0, -this.unsentOutputs);
    this.unsentOutputs = 0;
    this.unsentOutputBytes = 0;
    this.ctx.stats.activeStreams--;
    this.ctx.onClosed(this);
  }

  // A throw from the chain's teardown (a RangeError when the operator raised maxNodes past what the stack holds)
  // must not skip the rest of close(): the slot and counters would never be given back.
  private unsubscribeChain(): void {
    try {
      this.subscription?.unsubscribe();
    } catch (e) {
      this.ctx.log.warn({ err: e instanceof Error ? e.message : String(e), nodes: this.nodeTypes.length }, 'chain teardown threw');
    }
  }

  private armIdleTimer(): void {
    const idle = performance.now() - this.lastActivity;
    if (idle >= this.ctx.idleTimeoutMs) {
      this.fail(new RemoteMediaError('DEADLINE_EXCEEDED', `stream idle for ${this.ctx.idleTimeoutMs} ms (no message from the client, no output taken by it)`));
      if (this.unsentOutputs > 0) {
        // The client took nothing for a whole timeout: drop what it never read (the status cannot reach it either).
        this.call.destroy();
        this.maybeRelease();
      }
      return;
    }
    this.idleTimer = setTimeout(() => this.armIdleTimer(), this.ctx.idleTimeoutMs - idle);
    this.idleTimer.unref();
  }
}

function protocol(message: string, code: ErrorCode = 'PROTOCOL'): RemoteMediaError {
  return new RemoteMediaError(code, `protocol: ${message}`);
}

/**
 * The first limit an `open` message breaks, checked on lengths only, before any node is looked up, any params are
 * parsed or any client text is echoed: chain length, then each node's type length and params length.
 */
function openLimitError(open: Open, ctx: SessionContext): RemoteMediaError | undefined {
  if (open.nodes.length > ctx.maxNodes) {
    return new RemoteMediaError('INVALID_PARAMS', `chain of ${open.nodes.length} nodes exceeds the executor's limit of ${ctx.maxNodes} (maxNodes)`);
  }
  for (const [i, node] of open.nodes.entries()) {
    if (node.type.length > ctx.maxNodeTypeLength) {
      return new RemoteMediaError('INVALID_PARAMS', `nodes[${i}]: node type of ${node.type.length} characters exceeds the limit of ${ctx.maxNodeTypeLength} (maxNodeTypeLength)`);
    }
    if (node.paramsJson.length > ctx.maxParamsBytes) {
      return new RemoteMediaError(
        'INVALID_PARAMS',
        `nodes[${i}] (${node.type}): params_json of ${node.paramsJson.length} UTF-16 units exceeds the limit of ${ctx.maxParamsBytes} (maxParamsBytes)`,
        { node: node.type },
      );
    }
  }
  return undefined;
}

/** A throw out of the chain's machinery → the stream's error; a stack overflow says which limit to lower. */
function chainFailure(error: unknown): unknown {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new RemoteMediaError('RESOURCE_EXHAUSTED', 'chain too deep for the executor stack (lower maxNodes)', { cause: error });
  }
  return error;
}

/** A short, fixed description of why an output could not be encoded: never the library's own text. */
function encodeFailureReason(error: unknown): string {
  if (error instanceof RemoteMediaError) return error.message.replace(/^remote: invalid input: /, '');
  if (error instanceof RangeError) return 'value too large or too deeply nested for msgpack';
  return 'value not representable in msgpack';
}

function parseParams(json: string, index: number, type: string): Record<string, unknown> {
  if (json === '') return {};
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    throw new RemoteMediaError('INVALID_PARAMS', `nodes[${index}] (${type}): params_json is not JSON: ${(e as Error).message}`, { node: type });
  }
}
