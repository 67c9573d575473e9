/**
 * The client half of one `Stream` call: sends `open`, spends credits on `data`, queues what arrives without credit,
 * sends `end` once the queue is empty, and turns executor messages back into `next` / `complete` / `error`.
 *
 * Towards a boundary downstream (`mapAsync`, `bounded`, another `remote()`) it is a pullable source: it sends the
 * executor nothing more while that boundary is full, so what arrives meanwhile is at most what was already sent
 * (≤ `window` items, times the chain's fan-out).
 *
 * @internal
 */
import { Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { RemoteMediaError } from '../errors.js';
import { DemandGate, type Demand } from '../flow/demand.js';
import { FlowQueue } from '../flow/flowQueue.js';
import type { NodeSpec } from '../node.js';
import type { Lease } from './channelPool.js';
import { decodePayload, encodePayload } from './codec.js';
import type { ResolvedRemoteConfig } from './config.js';
import type { StreamMessage } from './gen/remotemedia.js';
import { errorFromStatus, errorFromWire } from './status.js';

/** Node type used in errors raised by the client itself. */
export const REMOTE_NODE = 'remote';

/** Where the stream's results go (an RxJS subscriber). */
export interface StreamSink<O> {
  next(item: O): void;
  error(error: unknown): void;
  complete(): void;
}

export class ClientStream<I, O> {
  /** Demand for the upstream: ready while credits exceed what is sent and queued and the boundary downstream has room. */
  readonly gate: DemandGate;
  private readonly call: ClientDuplexStream<StreamMessage, StreamMessage>;
  private readonly queue: FlowQueue<I>;
  private opened = false;
  private granted = 0;
  private sent = 0;
  private inSeq = 0;
  private upstreamDone = false;
  private endSent = false;
  private finished = false;
  private lastHeard = performance.now();
  private watchdog: NodeJS.Timeout | undefined;
  private waitingDownstream = false;

  constructor(
    private readonly config: ResolvedRemoteConfig,
    private readonly lease: Lease,
    specs: readonly NodeSpec[],
    private readonly sink: StreamSink<O>,
    /** The boundary downstream, if any (captured on subscribe); this stream is attached to it as a pullable source. */
    private readonly downstream?: Demand,
  ) {
    this.queue = new FlowQueue<I>({ size: config.window, overflow: config.overflow, node: REMOTE_NODE, label: `remote(${lease.address})` });
    this.gate = new DemandGate(() => this.granted - this.sent - this.queue.length > 0 && (this.downstream?.ready ?? true));
    this.downstream?.attachPullable();
    const metadata = new Metadata();
    if (config.token !== undefined) metadata.set('authorization', `Bearer ${config.token}`);
    this.call = lease.client.stream(metadata);
    this.call.on('data', (message: StreamMessage) => this.onMessage(message));
    this.call.on('error', (error: ServiceError) => this.fail(errorFromStatus(error, lease.address)));
    this.call.on('end', () => this.fail(new RemoteMediaError('PROTOCOL', `remote(${lease.address}): executor closed the stream without end or error`)));
    const nodes = specs.map((spec) => ({ type: spec.type, paramsJson: JSON.stringify(spec.params) }));
    this.call.write({ open: { nodes, window: config.window } });
    this.armWatchdog();
  }

  /** An item from upstream: sent at once if a credit is free and downstream has room, else queued under the overflow policy. */
  push(item: I): void {
    if (this.finished) return;
    if (this.queue.length === 0 && this.granted > this.sent && this.downstreamReady()) {
      this.send(item);
      return;
    }
    try {
      this.queue.offer(item, this.gate.hasPullableSource);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Upstream completed: `end` follows the last queued item. */
  end(): void {
    this.upstreamDone = true;
    this.sendEndIfDrained();
  }

  /** Fails the stream (upstream error, local error, lost executor) and cancels the call. Idempotent. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.release();
    this.call.cancel();
    this.sink.error(error);
  }

  /** Unsubscribe: cancels the call (the executor tears the chain down) and releases everything. Idempotent. */
  cancel(): void {
    if (this.finished) return;
    this.release();
    this.call.cancel();
  }

  private onMessage(message: StreamMessage): void {
    if (this.finished) return;
    this.lastHeard = performance.now();
    if (message.data !== undefined) {
      if (message.data.seq !== this.inSeq) {
        return this.fail(new RemoteMediaError('PROTOCOL', `remote(${this.lease.address}): data seq ${message.data.seq} out of order, expected ${this.inSeq}`));
      }
      this.inSeq++;
      let item: unknown;
      try {
        item = decodePayload(message.data.payload);
      } catch (e) {
        return this.fail(new RemoteMediaError('PROTOCOL', `remote(${this.lease.address}): undecodable item ${message.data.seq}: ${(e as Error).message}`));
      }
      this.sink.next(item as O);
      // If that filled the boundary downstream, its upstream gate (ours) reopens only once it has room again.
      if (!this.finished) this.downstreamReady();
    } else if (message.credit !== undefined) {
      this.opened = true;
      this.granted += message.credit.n;
      this.drain();
    } else if (message.end !== undefined) {
      this.release();
      this.sink.complete();
    } else if (message.error !== undefined) {
      this.release();
      this.sink.error(errorFromWire(message.error, this.lease.address));
    }
  }

  /** Sends queued items while credit is free and downstream has room, then `end` if due; wakes the upstream. */
  private drain(): void {
    while (this.queue.length > 0 && this.granted > this.sent && !this.finished && this.downstreamReady()) this.send(this.queue.shift() as I);
    this.sendEndIfDrained();
    this.gate.notify();
  }

  /** True when the boundary downstream (if any) can take more; otherwise {@link drain} runs once it can. */
  private downstreamReady(): boolean {
    if (this.downstream === undefined || this.downstream.ready) return true;
    if (!this.waitingDownstream) {
      this.waitingDownstream = true;
      void this.downstream.whenReady().then(() => {
        this.waitingDownstream = false;
        if (!this.finished) this.drain();
      });
    }
    return false;
  }

  private send(item: I): void {
    let payload: Buffer;
    try {
      payload = encodePayload(item);
    } catch (e) {
      return this.fail(e);
    }
    // Silence before this item was not the executor's fault: the deadline counts from the moment we wait again.
    if (this.sent === this.granted - this.config.window) this.lastHeard = performance.now();
    this.call.write({ data: { seq: this.sent, payload } });
    this.sent++;
  }

  private sendEndIfDrained(): void {
    if (!this.upstreamDone || this.endSent || !this.opened || this.queue.length > 0 || this.finished) return;
    this.endSent = true;
    this.lastHeard = performance.now();
    this.call.write({ end: {} });
    this.call.end();
  }

  /** True while the client expects a message: the open ack, credits for sent items, or the final end. */
  private get waiting(): boolean {
    return !this.opened || this.endSent || this.sent > this.granted - this.config.window;
  }

  private armWatchdog(): void {
    if (this.finished) return;
    const silence = performance.now() - this.lastHeard;
    if (this.waiting && silence >= this.config.deadlineMs) {
      this.fail(
        new RemoteMediaError('DEADLINE_EXCEEDED', `remote(${this.lease.address}): no answer from the executor for ${this.config.deadlineMs} ms (deadlineMs)`),
      );
      return;
    }
    const wait = this.waiting ? this.config.deadlineMs - silence : this.config.deadlineMs;
    this.watchdog = setTimeout(() => this.armWatchdog(), Math.max(1, wait));
    this.watchdog.unref();
  }

  private release(): void {
    this.finished = true;
    clearTimeout(this.watchdog);
    this.queue.close();
    this.gate.close();
    this.downstream?.detachPullable();
    this.lease.release();
  }
}
