"""zoo.serving.Batcher: concurrent submissions share model calls; a lone request does not wait for company."""

import asyncio
import time

import numpy as np

from zoo.serving import Batcher


def _predict(calls):
    def predict(inputs):
        calls.append(len(inputs))
        time.sleep(0.02)  # a model call takes a while: requests pile up meanwhile
        return np.array([[float(x), 1.0 - float(x)] for x in inputs])
    return predict


def _serve(coroutine):
    async def main():
        return await coroutine()
    return asyncio.run(main())


def test_a_lone_request_runs_at_once_however_long_max_wait_is():
    calls = []

    async def lone():
        batcher = Batcher(_predict(calls), max_batch=64, max_wait_ms=2000)
        batcher.start()
        start = time.perf_counter()
        out = await batcher.submit([0.25])
        elapsed = time.perf_counter() - start
        await batcher.stop()
        return out, elapsed

    out, elapsed = _serve(lone)
    assert out.tolist() == [[0.25, 0.75]] and calls == [1]
    assert elapsed < 1.0  # far below the 2 s it would wait for company


def test_concurrent_requests_share_model_calls_and_get_their_own_rows():
    calls = []

    async def many():
        batcher = Batcher(_predict(calls), max_batch=16, max_wait_ms=20)
        batcher.start()
        outs = await asyncio.gather(*(batcher.submit([i / 100, i / 100]) for i in range(40)))
        await batcher.stop()
        return outs

    outs = _serve(many)
    for i, out in enumerate(outs):
        assert out[:, 0].tolist() == [i / 100, i / 100]
    assert sum(calls) == 80 and len(calls) < 40 and max(calls) <= 16
