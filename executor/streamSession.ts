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
import { decodePayload, encodePayload } from '../src/remote/codec.js';
import type { Data, Open, StreamMessage } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusForCode } from '../src/remote/status.js';
import { instrumentedChain } from './metricsChain.js';
import type { ExecutorStats } from './stats.js';

/** What a session needs from its executor. */
export interface SessionContext {
  readonly stats: ExecutorStats;
  readonly maxWindow: number;
  readonly idleTimeoutMs: number;
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

  constructor(
    private readonly call: ServerDuplexStream<StreamMessage, StreamMessage>,
    private readonly ctx: SessionContext,
  ) {
    ctx.stats.activeStreams++;
    ctx.stats.totalStreams++;
    call.on('data', (message: StreamMessage) => this.onMessage(message));
    call.on('end', () => this.onHalfClose());
    call.on('cancelled', () => this.close());
    this.armIdleTimer();
  }

  /** Ends the stream with an error (used for limits and shutdown too). */
  fail(error: unknown, node?: string): void {
    if (this.state === 'done') return;
    const data = errorToData(error, node);
    if (data.node !== undefined && this.nodeTypes.includes(data.node)) this.ctx.stats.node(data.node).errors++;
    this.ctx.stats.recordFailure(data.code, data.name);
    this.ctx.log.debug({ code: data.code, node: data.node, err: data.message }, 'stream failed');
    this.close();
    const stack = error instanceof Error && error.cause instanceof Error ? `${data.stack ?? ''}\nCaused by: ${error.cause.stack ?? ''}` : data.stack;
    this.call.write({ error: errorDataToWire({ ...data, stack }) });
    this.call.emit('error', { code: statusForCode(data.code), details: data.message });
  }

  private onMessage(message: StreamMessage): void {
    if (this.state === 'done') return;
    this.lastActivity = performance.now();
    if (message.open !== undefined) this.onOpen(message.open);
    else if (message.data !== undefined) this.onData(message.data);
    else if (message.end !== undefined) this.onHalfClose();
    else this.fail(protocol('only open, data and end messages may be sent to an executor'));
  }

  private onOpen(open: Open): void {
    if (this.state !== 'awaiting-open') return this.fail(protocol('a stream may be opened only once'));
    let chain: Observable<unknown>;
    try {
      const specs: NodeSpec[] = open.nodes.map((node, i) => ({ type: node.type, params: parseParams(node.paramsJson, i, node.type) }));
      const operators = operatorsFromSpecs(specs);
      this.nodeTypes = specs.map((spec) => spec.type);
      chain = new Observable<unknown>((subscriber) => {
        this.input = subscriber;
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
    this.subscription = chain.subscribe({
      next: (item) => this.send(item),
      error: (e: unknown) => this.fail(e),
      complete: () => this.finish(),
    });
    if (this.state !== 'open') return;
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
    while (this.queue.length > 0 && this.input !== undefined && this.state === 'open') {
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
      this.input.next(this.queue.shift());
    }
    this.pumping = false;
    if (this.state !== 'open') return;
    if (this.inputEnded && this.queue.length === 0 && this.input !== undefined && !this.inputCompleted) {
      this.inputCompleted = true;
      this.input.complete();
    }
    this.scheduleCredit();
  }

  // Credits are coalesced (half a window at once, or at the next turn of the event loop) so that a fast chain
  // does not double the message count; a window of 1 still gets its credit at once.
  private scheduleCredit(): void {
    if (this.pendingCredit === 0 || this.state !== 'open') return;
    if (this.pendingCredit >= Math.ceil(this.window / 2)) this.flushCredit();
    else this.creditTimer ??= setImmediate(() => this.flushCredit());
  }

  private flushCredit(): void {
    if (this.creditTimer !== undefined) clearImmediate(this.creditTimer);
    this.creditTimer = undefined;
    const n = this.pendingCredit;
    if (n === 0 || this.state !== 'open' || this.inputEnded) return;
    this.pendingCredit = 0;
    this.granted += n;
    this.inFlight -= n;
    this.ctx.stats.trackInFlight(this.inFlight, -n);
    this.write({ credit: { n } });
  }

  private send(item: unknown): void {
    let payload: Buffer;
    try {
      payload = encodePayload(item);
    } catch (e) {
      return this.fail(e, this.nodeTypes[this.nodeTypes.length - 1]);
    }
    this.write({ data: { seq: this.outSeq++, payload } });
  }

  private finish(): void {
    if (this.state !== 'open') return;
    this.write({ end: {} });
    this.close();
    this.call.end();
  }

  private write(message: StreamMessage): void {
    this.lastActivity = performance.now();
    this.call.write(message);
  }

  /** Releases everything the session holds; idempotent. */
  private close(): void {
    if (this.state === 'done') return;
    const wasOpen = this.state === 'open';
    this.state = 'done';
    clearTimeout(this.idleTimer);
    if (this.creditTimer !== undefined) clearImmediate(this.creditTimer);
    this.subscription?.unsubscribe();
    this.queue.length = 0;
    this.ctx.stats.trackInFlight(0, -this.inFlight);
    this.inFlight = 0;
    this.ctx.stats.activeStreams--;
    if (wasOpen) for (const type of this.nodeTypes) this.ctx.stats.node(type).active--;
    this.ctx.onClosed(this);
  }

  private armIdleTimer(): void {
    const idle = performance.now() - this.lastActivity;
    if (idle >= this.ctx.idleTimeoutMs) {
      this.fail(new RemoteMediaError('DEADLINE_EXCEEDED', `stream idle for ${this.ctx.idleTimeoutMs} ms (no message in either direction)`));
      return;
    }
    this.idleTimer = setTimeout(() => this.armIdleTimer(), this.ctx.idleTimeoutMs - idle);
    this.idleTimer.unref();
  }
}

function protocol(message: string, code: ErrorCode = 'PROTOCOL'): RemoteMediaError {
  return new RemoteMediaError(code, `protocol: ${message}`);
}

function parseParams(json: string, index: number, type: string): Record<string, unknown> {
  if (json === '') return {};
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    throw new RemoteMediaError('INVALID_PARAMS', `nodes[${index}] (${type}): params_json is not JSON: ${(e as Error).message}`, { node: type });
  }
}
