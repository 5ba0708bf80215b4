"""Running a trained network for prediction: traced once for every batch shape, and on a CPU compiled with XLA for
the shapes that are called often enough to repay the compilation.

Keras's ``predict_on_batch`` re-enters its data adapter on every call and ``model(x)`` runs eagerly: for one example
either costs milliseconds, most of it overhead. A ``tf.function`` traced once with an open batch and length costs a
fraction of that. XLA goes further on a CPU but compiles once per concrete shape, which takes a large fraction of a
second. So by default (``jit_compile="auto"``) a shape runs the traced graph until the time spent on it reaches the
cost of one compilation (the last one this runner timed; a guess before the first), and is compiled then: the
ski-rental rule, which with an exact estimate costs at most twice the better of "compile at once" and "never
compile". The compilation runs on a background thread while that shape's calls keep to the graph, so no
prediction waits for the compiler (a server's latency has no half-second stalls); ``background=False`` compiles
in the call that reaches the threshold instead. A compiled shape that runs slower than it did uncompiled goes back
to the graph, and at most ``MAX_COMPILED_SHAPES`` shapes are compiled (each executable stays in memory). Once XLA
has lost on ``GIVE_UP_AFTER`` shapes and won on none, no further shape is compiled: on this network and machine the
graph is the faster path. A one-off prediction never waits for a compiler; a server or a large file gets XLA for
the shapes it keeps meeting. On a GPU "auto" never compiles, so the LSTMs keep the cuDNN kernel (cuDNN ops cannot
be XLA-compiled).

Compiled shapes count rows in steps of ``ROW_STEP`` (a batch of 1 stays 1): a batch of 13 rows runs as 16, the
padding rows all-zero (fully masked) and dropped from the answer. A server's batches take every size from 1 to its
maximum; without this each size would be a shape of its own to compile, and the compilations would never end.

On a CPU the graph also runs a recurrent network's batch as two halves side by side (``parts``): a recurrence is a
loop of small steps, and one loop leaves cores idle between them, while two independent loops keep two cores busy.
A bidirectional layer already runs two loops, so it needs twice the cores. XLA runs one program at a time and gains
nothing from the split, so compiled shapes take the batch whole. The measurements behind these rules are in
``benchmarks/results/speed.md`` and the README's "Performance" section.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np

from .errors import ZooError

FIRST_COMPILE_ESTIMATE = 0.5  # seconds, until this runner has timed a compilation of its own
MAX_COMPILED_SHAPES = 64  # per runner; shapes beyond these run on the graph
GIVE_UP_AFTER = 2  # "auto" compiles no new shape once XLA was slower on this many and faster on none
ROW_STEP = 8  # compiled batch shapes round their rows up to a multiple of this (see the module docstring)
SPLIT_MIN_ROWS = 32  # batches with fewer rows run whole (a conservative bound: smaller halves gained less)


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


def _cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def sublayers(layer: Any) -> Any:
    """``layer`` and every layer inside it, each once, in a fixed order: a model's layers, a wrapper's
    (``Bidirectional``, ``TimeDistributed``), an RNN's cell, and the layers a custom layer holds as attributes (what
    Keras tracks for it), however deep."""
    seen: set[int] = set()

    def walk(node: Any) -> Any:
        if id(node) in seen:
            return
        seen.add(id(node))
        yield node
        inner = list(getattr(node, "layers", None) or []) + list(getattr(node, "_layers", None) or [])
        inner += [getattr(node, name, None) for name in ("layer", "forward_layer", "backward_layer")]
        for sub in inner:
            if sub is not None:
                yield from walk(sub)

    yield from walk(layer)


def parallel_parts(network: Any, cores: int | None = None, gpu: bool | None = None) -> int:
    """How many parts the graph splits a batch into: 2 for a recurrent network on a CPU with cores for two loops
    per recurrent layer (a bidirectional layer runs two already), else 1.

    >>> import keras
    >>> inputs = keras.Input((None, 3))
    >>> lstm = keras.Model(inputs, keras.layers.LSTM(4)(inputs))
    >>> bilstm = keras.Model(inputs, keras.layers.Bidirectional(keras.layers.LSTM(4))(inputs))
    >>> dense = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    >>> [parallel_parts(m, cores=2, gpu=False) for m in (lstm, bilstm, dense)]
    [2, 1, 1]
    >>> parallel_parts(bilstm, cores=4, gpu=False), parallel_parts(lstm, cores=1, gpu=False)
    (2, 1)
    >>> parallel_parts(lstm, cores=8, gpu=True)
    1
    """
    import keras

    layers = list(sublayers(network))
    if not any(isinstance(layer, keras.layers.RNN) for layer in layers):
        return 1
    if _has_gpu() if gpu is None else gpu:  # cuDNN wants the whole batch
        return 1
    loops = 2 if any(isinstance(layer, keras.layers.Bidirectional) for layer in layers) else 1
    return 2 if (_cpu_cores() if cores is None else cores) >= 2 * loops else 1


def compiled_rows(rows: int) -> int:
    """The row count of the compiled shape that runs a batch of ``rows`` rows.

    >>> [compiled_rows(n) for n in (1, 2, 8, 13, 64, 250)]
    [1, 8, 8, 16, 64, 256]
    """
    return rows if rows <= 1 else -(-rows // ROW_STEP) * ROW_STEP


def _pad_rows(x: np.ndarray, rows: int) -> np.ndarray:
    if len(x) == rows:
        return x
    return np.concatenate([x, np.zeros((rows - len(x), *x.shape[1:]), x.dtype)])


class Runner:
    """Calls ``network`` (a Keras model) for inference on NumPy batches and returns NumPy probabilities.

    ``jit_compile``: ``"auto"`` (XLA per shape once it pays off, CPU only), ``True`` (XLA for every shape from its
    first call) or ``False`` (the traced graph only). If XLA cannot compile the network (a layer without an XLA
    kernel), the runner warns once and keeps to the graph. ``parts``: see :func:`parallel_parts` (None: its
    choice for this machine); batches of at least ``SPLIT_MIN_ROWS`` rows run on the graph in that many parts.
    ``background``: under ``"auto"``, compile on a background thread (:meth:`wait` waits for it).
    """

    def __init__(self, network: Any, jit_compile: Any = "auto", parts: int | None = None, background: bool = True):
        import tensorflow as tf

        jit_compile = check_jit_compile(jit_compile)
        spec = tf.TensorSpec((None, *network.input.shape[1:]), network.input.dtype)

        def call(x: Any) -> Any:
            return network(x, training=False)

        self.parts = parallel_parts(network) if parts is None else parts
        if isinstance(self.parts, bool) or not isinstance(self.parts, int) or self.parts < 1:
            raise ZooError(f"parts must be a positive integer, got {parts!r}.")

        def call_in_parts(x: Any) -> Any:  # independent subgraphs: TensorFlow runs them concurrently
            bounds = [tf.shape(x)[0] * i // self.parts for i in range(self.parts + 1)]
            return tf.concat([network(x[a:b], training=False) for a, b in zip(bounds, bounds[1:])], axis=0)

        self.network = network
        self.jit_compile = jit_compile
        self._graph = tf.function(call, input_signature=[spec])
        self._graph_parts = tf.function(call_in_parts, input_signature=[spec]) if self.parts > 1 else None
        use_xla = jit_compile is True or (jit_compile == "auto" and not _has_gpu())
        self._xla = tf.function(call, input_signature=[spec], jit_compile=True) if use_xla else None
        self.compile_estimate = 0.0 if jit_compile is True else FIRST_COMPILE_ESTIMATE
        # per batch shape: [seconds, calls] on the traced graph and compiled (the compiling call not counted)
        self.graph: dict[tuple, list] = {}
        self.xla: dict[tuple, list] = {}
        self.compiled: dict[tuple, float] = {}  # batch shape -> seconds its compilation (first XLA call) took
        self.rejected: set[tuple] = set()  # "auto": shapes XLA turned out slower on; they stay on the graph
        self.kept: set[tuple] = set()  # "auto": shapes XLA turned out at least as fast on
        self._traced: set = set()  # the graph functions called so far (the first call of each traces it)
        self._dtype = spec.dtype.as_numpy_dtype
        self.background = background and jit_compile == "auto"
        self._compiling: dict[tuple, Any] = {}  # shape -> Future of its background compilation (seconds)
        self._compiler: Any = None  # the background thread's executor, made on first use

    def _use_xla(self, shape: tuple) -> bool:
        if self._xla is None or shape in self.rejected:
            return False
        if len(self.rejected) >= GIVE_UP_AFTER and not self.kept:  # XLA lost every shape it was tried on
            return shape in self.compiled
        if shape in self.compiled or shape in self._compiling:
            return True
        if len(self.compiled) + len(self._compiling) >= MAX_COMPILED_SHAPES:  # each executable stays in memory
            return False
        return self.graph.get(shape, [0.0])[0] >= self.compile_estimate

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self._dtype)
        shape = (compiled_rows(len(x)), *x.shape[1:])
        if not self._use_xla(shape) or (self.background and not self._compiled_in_background(shape, x)):
            return self._run_graph(x, shape)
        try:
            start = time.perf_counter()
            out = self._xla(_pad_rows(x, shape[0])).numpy()[:len(x)]
        except Exception as e:  # noqa: BLE001 - the compiler refused, or the input is bad: the graph tells which
            out = self._run_graph(x, shape)  # bad input raises here, with the graph's own error; XLA stays on
            self._xla_failed(e)
            return out
        self._record(shape, time.perf_counter() - start)
        return out

    def _xla_failed(self, error: Exception) -> None:
        self._xla = None
        warnings.warn(f"XLA could not compile {self.network.name} ({type(error).__name__}); predicting without "
                      f"it. Pass jit_compile=False to skip the attempt.", stacklevel=3)

    def _compiled_in_background(self, shape: tuple, x: np.ndarray) -> bool:
        """Whether ``shape`` is compiled; a shape due for compilation is handed to the background thread."""
        if shape in self.compiled:
            return True
        job = self._compiling.get(shape)
        if job is None:
            if self._compiler is None:
                from concurrent.futures import ThreadPoolExecutor

                self._compiler = ThreadPoolExecutor(1, thread_name_prefix="zoo-xla")
            sample = np.array(_pad_rows(x, shape[0]))  # its own copy: the caller may reuse its array meanwhile
            self._compiling[shape] = self._compiler.submit(self._compile, sample)
            return False
        if not job.done():
            return False
        del self._compiling[shape]
        try:
            self._record(shape, job.result())
        except Exception as e:  # noqa: BLE001 - the compiler refused: the graph it is
            self._xla_failed(e)
            return False
        return True

    def _compile(self, x: np.ndarray) -> float:
        start = time.perf_counter()
        self._xla(x).numpy()
        return time.perf_counter() - start

    def wait(self) -> None:
        """Wait for the background compilations under way (their shapes run compiled from the next call)."""
        for job in list(self._compiling.values()):
            try:
                job.result()
            except Exception:  # noqa: BLE001 - reported by the next call of that shape
                pass

    def _run_graph(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        graph = self._graph_parts if self._graph_parts is not None and len(x) >= SPLIT_MIN_ROWS else self._graph
        start = time.perf_counter()
        out = graph(x).numpy()
        if graph in self._traced:  # the first call traces the function: a one-time cost, not this shape's
            stats = self.graph.setdefault(shape, [0.0, 0])
            stats[0] += time.perf_counter() - start
            stats[1] += 1
        self._traced.add(graph)
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
        if self.jit_compile == "auto" and stats[1] == 3 and graph:
            (self.rejected if stats[0] / 3 > graph[0] / graph[1] else self.kept).add(shape)


__all__ = ["Runner", "check_jit_compile", "compiled_rows", "parallel_parts"]
