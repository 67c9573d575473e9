/**
 * `remote(config, ...nodes)`: runs a chain of nodes on an executor over one bidirectional gRPC stream, as an
 * operator usable in any `pipe()`.
 *
 * @module
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidParamsError } from '../errors.js';
import { currentDemand, withDemand } from '../flow/demand.js';
import { isNodeOperator, type NodeSpec } from '../node.js';
import { acquire } from './channelPool.js';
import { ClientStream, REMOTE_NODE } from './clientStream.js';
import { resolveRemoteConfig, type RemoteConfig } from './config.js';

/** Anything that carries a node spec: every operator a node builder returns. */
export interface RemoteNode {
  readonly spec: NodeSpec;
}

/**
 * Runs `nodes` (in order, like `pipe(...nodes)`) on the executor at `config.address` and streams the results back.
 *
 * Guarantees: output order equals input order, and equals running the same nodes locally; stateful nodes flush on
 * complete and their output arrives before this operator completes; an executor-side failure errors with a
 * `RemoteMediaError` carrying `code`, `node` and `remoteStack`; unsubscribing cancels the call and the executor frees
 * the chain; a lost or silent executor errors within `deadlineMs` (code `UNAVAILABLE` / `DEADLINE_EXCEEDED`).
 *
 * Flow control: at most `window` items are in flight. A pullable source upstream (`fromWavFile`,
 * `fromAsyncIterable`) reads only while a credit is free; a push source fills a local queue of `window` items, then
 * meets `overflow` (`'block'` keeps it lossless up to `PUSH_SOURCE_LIMITS`, then `OVERFLOW`; choose a dropping
 * policy for live media).
 * Towards an async boundary downstream (`mapAsync`, `bounded`) it is a pullable source: it sends nothing more while
 * that boundary is full, so `'block'` there is lossless and takes at most `window` × the chain's fan-out extra items.
 *
 * Items travel as msgpack (typed arrays, Maps, Dates round-trip; an AudioFrame is sent as header + raw samples).
 * The stream opens on subscribe, so each subscription has its own chain state on the executor; connections are
 * pooled per address and closed when their last stream ends.
 *
 * On complete: sends end-of-stream and completes after the executor's flushed output. On error from upstream: cancels
 * the call and forwards the error. Error codes: as raised by the remote nodes, plus `UNAVAILABLE`, `DEADLINE_EXCEEDED`,
 * `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED` (executor limits), `PROTOCOL`, `OVERFLOW`, `INVALID_PARAMS` (bad config,
 * thrown by this call).
 *
 * @param config - Executor address(es), token, TLS, window, overflow, deadline; see {@link RemoteConfig}.
 * @param nodes - Node operators (results of node builders); plain RxJS operators cannot be sent.
 * @example
 * ```ts
 * fromWavFile('talk.wav').pipe(
 *   remote({ address: '127.0.0.1:50051' }, resample({ rate: 16000 }), energyVad(), vadTriggeredBuffer()),
 * ).subscribe((utterance) => console.log(utterance.pts));
 * ```
 */
export function remote<I = unknown, O = unknown>(config: RemoteConfig, ...nodes: readonly RemoteNode[]): OperatorFunction<I, O> {
  const resolved = resolveRemoteConfig(config);
  const specs = nodes.map((node, i) => {
    if (!isNodeOperator(node)) {
      throw new InvalidParamsError(REMOTE_NODE, `nodes[${i}]`, 'is not a node operator (no .spec): only registered nodes can run on an executor');
    }
    return node.spec;
  });
  return (source) =>
    new Observable<O>((subscriber) => {
      // The boundary downstream (if any) sees this stream as a pullable source: it stops sending while that one is full.
      const stream = new ClientStream<I, O>(resolved, acquire(resolved), specs, subscriber, currentDemand());
      const upstream = withDemand(stream.gate, () =>
        source.subscribe({
          next: (item) => stream.push(item),
          error: (e: unknown) => stream.fail(e),
          complete: () => stream.end(),
        }),
      );
      return () => {
        stream.cancel();
        upstream.unsubscribe();
      };
    });
}
