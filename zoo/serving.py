"""``zoo serve``: a trained run behind an HTTP JSON API (FastAPI on uvicorn: ``pip install "keras-zoo[serve]"``).

``GET /health``, ``GET /v1/metadata`` (architecture, labels, input kind, versions, metrics), ``POST /v1/predict``
(``{"inputs": [...], "top_k": 1}``), and the OpenAPI docs at ``/docs``. Concurrent requests are batched together:
a :class:`Batcher` collects them for up to ``max_wait_ms`` after the first, or until ``max_batch`` rows, and runs
them through the model as one batch on one worker thread, so many clients cost far fewer model calls than
requests. It waits only while requests come concurrently (the last batch held more than one): a lone client's
request runs at once. Bad requests get a 4xx with one message; the server keeps running. On SIGTERM uvicorn stops
accepting connections and the requests already in flight are answered before it exits.
"""

import asyncio  # (no `from __future__ import annotations`: FastAPI reads the endpoints' annotations at runtime)
import concurrent.futures
import gc
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ZooError

MAX_BODY_BYTES = 8 * 2**20  # a larger request body is refused with 413 before it is parsed
MAX_ROWS = 1024  # inputs per request


@dataclass
class _Job:
    inputs: list
    future: asyncio.Future = field(repr=False)


class Batcher:
    """Runs ``predict(inputs) -> probabilities`` on batches gathered from concurrent :meth:`submit` calls."""

    def __init__(self, predict: Any, max_batch: int = 64, max_wait_ms: float = 5.0):
        self.predict = predict
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoo-predict")
        self.batches = 0  # model calls made (what batching saves)
        self.concurrent = False  # whether the last batch held more than one request: only then wait for more
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=True)

    async def submit(self, inputs: list) -> np.ndarray:
        job = _Job(inputs, asyncio.get_running_loop().create_future())
        await self.queue.put(job)
        return await job.future

    async def _gather(self) -> list[_Job]:
        jobs = [await self.queue.get()]
        rows = len(jobs[0].inputs)
        deadline = asyncio.get_running_loop().time() + (self.max_wait if self.concurrent else 0)
        while rows < self.max_batch:
            timeout = deadline - asyncio.get_running_loop().time()
            try:
                job = self.queue.get_nowait() if timeout <= 0 else await asyncio.wait_for(self.queue.get(), timeout)
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                break
            jobs.append(job)
            rows += len(job.inputs)
        self.concurrent = len(jobs) > 1
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._gather()
            inputs = [x for job in jobs for x in job.inputs]
            try:
                probs = await loop.run_in_executor(self.executor, self.predict, inputs)
                self.batches += 1
            except Exception as e:  # noqa: BLE001 - every waiting request gets the error, the server lives on
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(e)
                continue
            start = 0
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(probs[start:start + len(job.inputs)])
                start += len(job.inputs)


def check_request(body: Any, kind: str, num_features: int | None, max_rows: int) -> tuple[list, int]:
    """The inputs and ``top_k`` of a predict request, or a ``(status, message)`` :class:`RequestError`."""
    if not isinstance(body, dict):
        raise RequestError(400, 'the body must be a JSON object like {"inputs": [...], "top_k": 1}.')
    unknown = sorted(set(body) - {"inputs", "top_k"})
    if unknown:
        raise RequestError(422, f"unknown field(s) {', '.join(unknown)}; the fields are inputs and top_k.")
    inputs, top_k = body.get("inputs"), body.get("top_k", 1)
    if not isinstance(inputs, list):
        raise RequestError(422, "inputs must be a list of " + ("texts." if kind == "text" else
                                                                 f"sequences (lists of {num_features}-number rows)."))
    if not inputs:
        raise RequestError(422, "inputs is empty; send at least one input.")
    if len(inputs) > max_rows:
        raise RequestError(413, f"{len(inputs)} inputs in one request; at most {max_rows}.")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise RequestError(422, f"top_k must be a positive integer, got {json.dumps(top_k)}.")
    if kind == "text":
        bad = next((i for i, x in enumerate(inputs) if not isinstance(x, str)), None)
        if bad is not None:
            raise RequestError(422, f"this model takes texts; inputs[{bad}] is not a string.")
        return inputs, top_k
    return [_sequence(x, i, num_features) for i, x in enumerate(inputs)], top_k


def _sequence(x: Any, i: int, num_features: int | None) -> np.ndarray:
    if isinstance(x, str):
        raise RequestError(422, f"this model takes numeric sequences of shape (timesteps, {num_features}); "
                                f"inputs[{i}] is text.")
    try:
        a = np.asarray(x, dtype="float32")
    except (TypeError, ValueError):
        raise RequestError(422, f"inputs[{i}] is not a rectangular array of numbers.") from None
    if a.ndim != 2 or a.shape[1] != num_features or not len(a):
        raise RequestError(422, f"inputs[{i}] has shape {list(a.shape)}; expected (timesteps >= 1, "
                                f"{num_features}).")
    if not np.isfinite(a).all():
        raise RequestError(422, f"inputs[{i}] holds NaN or infinity.")
    return a


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def metadata(classifier: Any, engine: str) -> dict[str, Any]:
    """What ``GET /v1/metadata`` answers: the model, its labels and input, versions and metrics."""
    record, spec = classifier.record, classifier.spec
    return {"architecture": spec.architecture, "name": spec.name, "plugin": spec.plugin, "package": spec.package,
            "package_version": spec.version, "labels": classifier.labels, "input": spec.kind,
            "num_features": spec.num_features, "seq_len": spec.seq_len, "engine": engine,
            "versions": record.versions if record else {}, "metrics": getattr(classifier, "metrics", None)}


def create_app(classifier: Any, *, engine: str = "keras", max_batch: int = 64, max_wait_ms: float = 5.0,
               max_rows: int = MAX_ROWS, max_body_bytes: int = MAX_BODY_BYTES, batching: bool = True) -> Any:
    """The FastAPI application serving ``classifier``. ``batching=False`` calls the model once per request (the
    naive server the benchmark compares with)."""
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    batcher = Batcher(classifier.predict_proba, max_batch, max_wait_ms)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title=f"zoo: {classifier.spec.name}", lifespan=lifespan,
                  description=f"{classifier.spec.architecture} classifier over {len(classifier.labels)} labels")
    app.state.batcher = batcher
    counts = {"requests": 0, "direct": 0}  # what /v1/metadata reports under "served"

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/v1/metadata")
    async def meta() -> dict:
        return {**metadata(classifier, engine), "served": {"requests": counts["requests"],
                                                          "model_calls": batcher.batches + counts["direct"]}}

    @app.post("/v1/predict", openapi_extra=_predict_schema(classifier))
    async def predict(request: Request) -> Any:
        try:
            inputs, top_k = check_request(await _json_body(request, max_body_bytes), classifier.kind,
                                          classifier.spec.num_features, max_rows)
            counts["requests"] += 1
            if batching:
                probs = await batcher.submit(inputs)
            else:
                counts["direct"] += 1
                probs = await asyncio.get_running_loop().run_in_executor(None, classifier.predict_proba, inputs)
        except RequestError as e:
            return JSONResponse({"error": str(e)}, status_code=e.status)
        except ZooError as e:
            return JSONResponse({"error": str(e)}, status_code=422)
        return {"predictions": _predictions(probs, classifier.labels, min(top_k, len(classifier.labels)))}

    return app


def _predict_schema(classifier: Any) -> dict:
    """The request body's JSON schema, for the OpenAPI docs (the body is parsed by :func:`check_request`)."""
    item = {"type": "string"} if classifier.kind == "text" else {
        "type": "array", "items": {"type": "array", "items": {"type": "number"},
                                   "minItems": classifier.spec.num_features,
                                   "maxItems": classifier.spec.num_features}}
    example = ["some text"] if classifier.kind == "text" else [[[0.0] * (classifier.spec.num_features or 1)]]
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["inputs"],
        "properties": {"inputs": {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_ROWS},
                       "top_k": {"type": "integer", "minimum": 1, "default": 1}}},
        "example": {"inputs": example, "top_k": 1}}}}}


async def _json_body(request: Any, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the request body is {int(declared):,} bytes; at most {limit:,}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(413, f"the request body is over {limit:,} bytes.")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RequestError(400, f"the body is not valid JSON ({getattr(e, 'msg', e)}).") from None


def _predictions(probs: np.ndarray, labels: list, top_k: int) -> list[dict[str, Any]]:
    out = []
    for row in probs:
        order = np.argsort(-row)[:top_k]
        out.append({"label": labels[order[0]], "probability": float(row[order[0]]),
                    "top": [{"label": labels[i], "probability": float(row[i])} for i in order]})
    return out


def serve(directory: str, *, host: str = "127.0.0.1", port: int = 8000, engine: str = "keras",
          max_batch: int = 64, max_wait_ms: float = 5.0, batching: bool = True) -> None:
    """Load the run in ``directory`` and serve it until interrupted (SIGINT/SIGTERM drain in-flight requests)."""
    try:
        import uvicorn
    except ImportError:
        raise ZooError('zoo serve needs FastAPI and uvicorn: pip install "keras-zoo[serve]".') from None
    if not 1 <= max_batch <= 65536 or not 0 <= max_wait_ms <= 10_000 or math.isnan(max_wait_ms):
        raise ZooError("--max-batch must be in 1..65536 and --max-wait-ms in 0..10000.")
    from .classifier import load

    classifier = load(directory, engine=engine)
    classifier.metrics = _read_metrics(directory)
    classifier.predict_proba([classifier_example(classifier)])  # trace the graph before the first request
    gc.collect()
    gc.freeze()  # the model's many long-lived objects leave the collector's view: no full collection stalls requests
    app = create_app(classifier, engine=engine, max_batch=max_batch, max_wait_ms=max_wait_ms, batching=batching)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)


def classifier_example(classifier: Any) -> Any:
    return "warm up" if classifier.kind == "text" else np.ones((8, classifier.spec.num_features), "float32")


def _read_metrics(directory: str) -> dict | None:
    from .rundir import METRICS, RunDir

    try:
        return RunDir(directory).read_json(METRICS)
    except ZooError:
        return None


__all__ = ["Batcher", "check_request", "create_app", "metadata", "serve"]
