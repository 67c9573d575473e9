#!/usr/bin/env python3
"""The predecessor's remote-execution design, as a baseline for bench/compare.ts.

One unary gRPC call per item, payloads pickled (Python's grpcio with generic handlers, no generated code):
  Process(pickle(frame dict)) -> pickle(frame dict + metadata): the same 3-node chain as the TypeScript workload
    (channel mix to mono, energy VAD over the 20 ms frame, pass-through), numpy for the math;
  Increment(pickle(n)) -> pickle(counter value): a "proxied" counter method, one call per invocation.

  python3 bench/baselines/python_grpc_executor.py serve            prints {"port": N} and serves until killed
  python3 bench/baselines/python_grpc_executor.py client PORT ITEMS LATENCY_ITEMS CONCURRENCY
                                                                   prints one JSON line of measurements
Debian packages: python3-grpcio, python3-numpy (run with /usr/bin/python3).
"""
import json
import pickle
import sys
import time
from concurrent import futures

import grpc
import numpy as np

SERVICE = "baseline.Executor"
SAMPLE_RATE = 16000
FRAME_SAMPLES = 320
THRESHOLD = 0.02


def channel_mix(frame):
    channels = frame["channels"]
    if channels == 1:
        return frame
    samples = frame["samples"].reshape(-1, channels).mean(axis=1).astype(np.float32)
    return {**frame, "samples": samples, "channels": 1}


def energy_vad(frame):
    rms = float(np.sqrt(np.mean(np.square(frame["samples"], dtype=np.float64))))
    return {**frame, "metadata": {"vad": {"speech": rms >= THRESHOLD, "energy": rms}}}


def pass_through(frame):
    return frame


class Executor:
    def __init__(self):
        self.counter = 0

    def process(self, frame, _context):
        return pass_through(energy_vad(channel_mix(frame)))

    def increment(self, by, _context):
        self.counter += by
        return self.counter


def serve():
    executor = Executor()
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Process": grpc.unary_unary_rpc_method_handler(executor.process, request_deserializer=pickle.loads, response_serializer=pickle.dumps),
            "Increment": grpc.unary_unary_rpc_method_handler(executor.increment, request_deserializer=pickle.loads, response_serializer=pickle.dumps),
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(json.dumps({"port": port}), flush=True)
    server.wait_for_termination()


def frame(i):
    t = (np.arange(FRAME_SAMPLES) + i * FRAME_SAMPLES) / SAMPLE_RATE
    samples = (0.25 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return {"samples": samples, "sampleRate": SAMPLE_RATE, "channels": 1, "pts": i * 20000}


def percentile(sorted_values, p):
    rank = min(len(sorted_values) - 1, max(0, int(np.ceil(p / 100 * len(sorted_values))) - 1))
    return sorted_values[rank]


def client(port, items, latency_items, concurrency):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=10)
    process = channel.unary_unary(f"/{SERVICE}/Process", request_serializer=pickle.dumps, response_deserializer=pickle.loads)
    increment = channel.unary_unary(f"/{SERVICE}/Increment", request_serializer=pickle.dumps, response_deserializer=pickle.loads)
    frames = [frame(i) for i in range(500)]
    for i in range(200):  # warm-up
        process(frames[i % 500])

    # Throughput, one call in flight (how the predecessor's client awaited each item).
    start = time.perf_counter()
    for i in range(items):
        out = process(frames[i % 500])
    sequential = items / (time.perf_counter() - start)
    assert "vad" in out["metadata"]

    # Throughput with `concurrency` calls in flight (futures), the most this design can pipeline.
    start = time.perf_counter()
    pending = []
    done = 0
    for i in range(items):
        pending.append(process.future(frames[i % 500]))
        if len(pending) >= concurrency:
            pending.pop(0).result()
            done += 1
    for f in pending:
        f.result()
    concurrent = items / (time.perf_counter() - start)

    latencies = []
    for i in range(latency_items):
        t0 = time.perf_counter()
        process(frames[i % 500])
        latencies.append((time.perf_counter() - t0) * 1e6)
    latencies.sort()

    counter_latencies = []
    for i in range(latency_items):
        t0 = time.perf_counter()
        increment(1)
        counter_latencies.append((time.perf_counter() - t0) * 1e6)
    counter_latencies.sort()
    counter_seconds = sum(counter_latencies) / 1e6

    print(json.dumps({
        "python": sys.version.split()[0],
        "grpcio": grpc.__version__,
        "numpy": np.__version__,
        "sequentialItemsPerSec": round(sequential),
        "concurrentItemsPerSec": round(concurrent),
        "concurrency": concurrency,
        "p50Us": round(percentile(latencies, 50)),
        "p99Us": round(percentile(latencies, 99)),
        "counterCallsPerSec": round(latency_items / counter_seconds),
        "counterP50Us": round(percentile(counter_latencies, 50)),
        "counterP99Us": round(percentile(counter_latencies, 99)),
    }), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
