"""Running a trained network for prediction: traced once for every batch shape, and on a CPU compiled with XLA for
the shapes that are called often enough to repay the compilation.

Keras's ``predict_on_batch`` re-enters its data adapter on every call and ``model(x)`` runs eagerly: for one example
either costs milliseconds, most of it overhead. A ``tf.function`` traced once with an open batch and length costs a
fraction of that. XLA goes further on a CPU (measured on 2 cores: single-example latency 2-4x lower, batches of 256
up to 1.5x faster, the same probabilities to 1e-7), but compiles once per concrete shape, 0.3-0.9 s each. So by
default (``jit_compile="auto"``) a shape runs the traced graph until the time spent on it reaches the cost of one
compilation (the last one this runner timed; a guess before the first), and is compiled then: the ski-rental rule,
which with an exact estimate costs at most twice the better of "compile at once" and "never compile". A compiled
shape that runs slower than it did uncompiled goes back to the graph, and at most ``MAX_COMPILED_SHAPES`` shapes are
compiled (each executable stays in memory). A one-off prediction never waits for a compiler; a server or a large
file gets XLA for the shapes it keeps meeting. On a GPU "auto" never compiles, so the LSTMs keep the cuDNN kernel
(cuDNN ops cannot be XLA-compiled).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from .errors import ZooError

FIRST_COMPILE_ESTIMATE = 0.5  # seconds, until this runner has timed a compilation of its own
MAX_COMPILED_SHAPES = 64  # per runner; shapes beyond these run on the graph


def check_jit_compile(value: Any) -> Any:
    """``"auto"``, ``True`` or ``False`` (also spelled as strings, as on a command line)."""
    if isinstance(value, str):
        value = {"true": True, "false": False, "auto": "auto"}.get(value.lower(), value)
    if value == "auto" or isinstance(value, bool):
        return value
    raise ZooError(f"jit_compile must be 'auto', True or False, got {value!r}.")


def _has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


class Runner:
    """Calls ``network`` (a Keras model) for inference on NumPy batches and returns NumPy probabilities.

    ``jit_compile``: ``"auto"`` (XLA per shape once it pays off, CPU only), ``True`` (XLA for every shape from its
    first call) or ``False`` (the traced graph only). If XLA cannot compile the network (a layer without an XLA
    kernel), the runner warns once and keeps to the graph.
    """

    def __init__(self, network: Any, jit_compile: Any = "auto"):
        import tensorflow as tf

        jit_compile = check_jit_compile(jit_compile)
        spec = tf.TensorSpec((None, *network.input.shape[1:]), network.input.dtype)

        def call(x: Any) -> Any:
            return network(x, training=False)

        self.network = network
        self.jit_compile = jit_compile
        self._graph = tf.function(call, input_signature=[spec])
        use_xla = jit_compile is True or (jit_compile == "auto" and not _has_gpu())
        self._xla = tf.function(call, input_signature=[spec], jit_compile=True) if use_xla else None
        self.compile_estimate = 0.0 if jit_compile is True else FIRST_COMPILE_ESTIMATE
        # per batch shape: [seconds, calls] on the traced graph and compiled (the compiling call not counted)
        self.graph: dict[tuple, list] = {}
        self.xla: dict[tuple, list] = {}
        self.compiled: dict[tuple, float] = {}  # batch shape -> seconds its compilation (first XLA call) took
        self.rejected: set[tuple] = set()  # "auto": shapes XLA turned out slower on; they stay on the graph
        self._traced = False
        self._dtype = spec.dtype.as_numpy_dtype

    def _use_xla(self, shape: tuple) -> bool:
        if self._xla is None or shape in self.rejected:
            return False
        if shape in self.compiled:
            return True
        if len(self.compiled) >= MAX_COMPILED_SHAPES:  # every executable stays in memory: bound them
            return False
        return self.graph.get(shape, [0.0])[0] >= self.compile_estimate

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self._dtype)
        shape = tuple(x.shape)
        if not self._use_xla(shape):
            return self._run_graph(x, shape)
        try:
            start = time.perf_counter()
            out = self._xla(x).numpy()
        except Exception as e:  # noqa: BLE001 - the compiler refused, or the input is bad: the graph tells which
            out = self._run_graph(x, shape)  # bad input raises here, with the graph's own error; XLA stays on
            self._xla = None
            warnings.warn(f"XLA could not compile {self.network.name} ({type(e).__name__}); predicting without "
                          f"it. Pass jit_compile=False to skip the attempt.", stacklevel=2)
            return out
        self._record(shape, time.perf_counter() - start)
        return out

    def _run_graph(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        start = time.perf_counter()
        out = self._graph(x).numpy()
        if self._traced:  # the first call traces the function: a one-time cost, not this shape's
            stats = self.graph.setdefault(shape, [0.0, 0])
            stats[0] += time.perf_counter() - start
            stats[1] += 1
        self._traced = True
        return out

    def _record(self, shape: tuple, seconds: float) -> None:
        if shape not in self.compiled:
            self.compiled[shape] = seconds
            if self.jit_compile == "auto":
                self.compile_estimate = seconds
            return
        stats = self.xla.setdefault(shape, [0.0, 0])
        stats[0] += seconds
        stats[1] += 1
        graph = self.graph.get(shape)
        # "auto" keeps XLA only where it is faster: judged on a few calls against the graph's mean
        if self.jit_compile == "auto" and stats[1] == 3 and graph and stats[0] / 3 > graph[0] / graph[1]:
            self.rejected.add(shape)


__all__ = ["Runner", "check_jit_compile"]
