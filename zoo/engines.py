"""The ONNX Runtime prediction engine: ``zoo.load(PATH, engine="onnxruntime")``, the same API as the Keras
:class:`zoo.classifier.Classifier`.

``PATH`` is an ONNX export (``zoo export RUN --format onnx``: ``model.onnx`` and ``preprocessing.json``), which
this engine runs without importing TensorFlow at all, or a run directory, whose network it converts in memory
first. Text is tokenized here in Python exactly as the run's ``TextVectorization`` does it (ASCII lower-casing,
ASCII punctuation stripped, split on ASCII whitespace, unknown words -> 1, padding 0); features are standardized
with the run's statistics. Rows are sorted by length and each batch is cut to its longest row (ONNX's LSTM runs
every row to the batch's longest). A batch of 32 rows or more runs on two single-threaded session calls at once,
which keeps two cores busy where one recurrence would not: as two halves, or, above ``CHUNK_ROWS`` rows, as chunks
of at most that many rows, two at a time, each cut to its own longest row (a session call needs less memory, so
ONNX Runtime's arena, grown on a fresh process's first batches, stays small, and sorted rows skip more padding). A
smaller batch (a single example above all) runs on a second session with two intra-op threads that spin between
steps where that is faster, which halves a large model's latency (a 256-unit LSTM's) and would slow a small
one's: the engine times a 64-step row on each session when it loads and keeps the faster.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Predictor
from .errors import ZooError
from .recipe import center, fold, tokens
from .record import ModelSpec

ONNX_MODEL = "model.onnx"
PREPROCESSING = "preprocessing.json"
PREPROCESSING_FORMAT = "zoo-preprocessing/1"
SPLIT_MIN_ROWS = 32
CHUNK_ROWS = 64  # a session call's rows at most: less memory per call, and each chunk cut to its own width


class TextTokenizer:
    """The run's ``TextVectorization`` in Python: the same ids for every text, no TensorFlow.

    >>> TextTokenizer(["", "[UNK]", "fine", "i"], 4)(["I'm FINE!", ""]).tolist()
    [[1, 2, 0, 0], [0, 0, 0, 0]]
    """

    def __init__(self, vocabulary: list[str], sequence_length: int | None):
        self.index = {token.encode("utf-8"): i for i, token in enumerate(vocabulary) if i >= 2}
        self.sequence_length = sequence_length

    def ids(self, text: str) -> list[int]:
        get = self.index.get
        return [get(token, 1) for token in tokens(text)]

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self.ids(t) for t in texts]
        width = self.sequence_length or max((len(r) for r in rows), default=1) or 1
        out = np.zeros((len(rows), width), "int32")
        for i, row in enumerate(rows):
            row = row[:width]
            out[i, :len(row)] = row
        return out


def _session(model: bytes | str, threads: int = 1) -> Any:
    """A CPU session: one thread (big batches run as parallel parts instead) or ``threads`` spinning ones."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ZooError('the onnxruntime engine needs ONNX Runtime: pip install "keras-zoo[onnx]".') from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False  # batches are cut to their own widths: no plan per shape
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if threads > 1 else "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OnnxClassifier(Predictor):
    """Predicts with ONNX Runtime from an ONNX network and the run's preprocessing (see the module docstring)."""

    engine = "onnxruntime"

    def __init__(self, model: bytes | str, preprocessing: dict[str, Any], record: Any = None):
        if preprocessing.get("format") != PREPROCESSING_FORMAT:
            raise ZooError(f"{PREPROCESSING}: not a zoo preprocessing file (format {preprocessing.get('format')!r}); "
                           "export the run again.")
        self.preprocessing = preprocessing
        self.labels = list(preprocessing["labels"])
        self.spec = ModelSpec.from_dict(preprocessing["model"])
        self.record = record
        self.session = _session(model)
        self.input = self.session.get_inputs()[0].name
        self._fixed_length = isinstance(self.session.get_inputs()[0].shape[1], int)
        tokenizer = preprocessing.get("tokenizer")
        self.tokenizer = TextTokenizer(tokenizer["vocabulary"], tokenizer["sequence_length"]) if tokenizer else None
        scale = preprocessing.get("standardize")
        self.statistics = (np.asarray(scale["mean"], "float32"), np.asarray(scale["std"], "float32")) if scale \
            else None
        centred = preprocessing.get("center") or {}
        self.center_scale = np.asarray(centred["scale"], "float32") if centred.get("scale") else None
        self.parts = min(2, _cores())
        self.small_session = self._faster(self.session, _session(model, self.parts)) if self.parts > 1 \
            else self.session
        self._pool: ThreadPoolExecutor | None = None

    def _faster(self, *sessions: Any) -> Any:
        """The session that runs one 64-step row fastest (median of five, after one warm-up)."""
        meta = sessions[0].get_inputs()[0]
        steps = meta.shape[1] if isinstance(meta.shape[1], int) else 64
        row = np.ones([1, steps] + [d if isinstance(d, int) else 1 for d in meta.shape[2:]],
                      "int32" if "int" in meta.type else "float32")
        times = []
        for session in sessions:
            session.run(None, {self.input: row})
            runs = []
            for _ in range(5):
                start = time.perf_counter()
                session.run(None, {self.input: row})
                runs.append(time.perf_counter() - start)
            times.append(sorted(runs)[2])
        return sessions[times.index(min(times))]

    def _features(self, seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Standardized (padding kept at zero), with its centred copy and folded where the run does that, all-zero
        steps dropped as Keras's Masking skips them, padded."""
        kept, size = [], self.spec.fold
        for s in seqs:
            real = (s != 0).any(axis=1)
            if self.statistics is not None:
                s = np.where(real[:, None], (s - self.statistics[0]) / self.statistics[1], 0).astype("float32")
                real = (s != 0).any(axis=1)
            if self.center_scale is not None or size > 1:  # as the saved model: the steps as given, cut to
                s = s[: self.spec.seq_len or len(s)]          # the length, then centred and folded
                if self.center_scale is not None:
                    s = center(s[None], self.center_scale)[0]
                s = fold(s[None], size)[0]
                real = (s != 0).any(axis=1)
            kept.append(s[real][: self.spec.seq_len] if self.spec.seq_len else s[real])
        lengths = np.array([len(s) for s in kept])
        width = self.spec.num_features * size * (1 + self.spec.center)
        rows = np.zeros((len(kept), max(1, int(lengths.max())), width), "float32")
        for i, s in enumerate(kept):
            rows[i, :len(s)] = s
        return rows, lengths

    def _run(self, x: np.ndarray) -> np.ndarray:
        if self.parts < 2 or len(x) < SPLIT_MIN_ROWS:
            return self.small_session.run(None, {self.input: x})[0]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.parts, thread_name_prefix="zoo-onnx")
        pieces = max(self.parts, -(-len(x) // CHUNK_ROWS))
        bounds = [len(x) * i // pieces for i in range(pieces + 1)]
        futures = [self._pool.submit(self._run_chunk, x[a:b]) for a, b in zip(bounds, bounds[1:])]
        return np.concatenate([f.result() for f in futures])

    def _run_chunk(self, x: np.ndarray) -> np.ndarray:
        """One session call on ``x`` cut after its last step that is not padding (all zeros) in every row: the
        network masks padding, so the cut changes nothing but the steps the recurrence runs."""
        steps = (x != 0).reshape(len(x), x.shape[1], -1).any(axis=(0, 2))
        width = max(1, int(np.flatnonzero(steps)[-1]) + 1) if steps.any() else 1
        if width < x.shape[1] and not self._fixed_length:
            x = np.ascontiguousarray(x[:, :width])
        return self.session.run(None, {self.input: x})[0]

    def predict_proba(self, inputs: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        """Class probabilities, shape ``(len(inputs), num_classes)``, columns in ``self.labels`` order."""
        inputs = self._validated(inputs)
        if not inputs:
            return np.zeros((0, len(self.labels)), dtype="float32")
        if self.tokenizer is not None:
            rows = self.tokenizer(inputs)
            lengths = (rows != 0).sum(axis=1)
        else:
            rows, lengths = self._features(inputs)
        fixed = self.session.get_inputs()[0].shape[1]
        order = np.argsort(lengths, kind="stable")
        probs = np.zeros((len(rows), len(self.labels)), dtype="float32")
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = fixed if isinstance(fixed, int) else max(1, int(lengths[idx].max()))
            probs[idx] = self._run(np.ascontiguousarray(rows[idx, :width]))
        return probs


def read_preprocessing(directory: Path) -> dict[str, Any]:
    from .files import regular_file

    path = regular_file(directory / PREPROCESSING)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ZooError(f"{path}: cannot read it ({e}); export the run again.") from None


def load_onnx(path: str | Path) -> OnnxClassifier:
    """An ONNX export directory (no TensorFlow needed), or a run directory converted in memory."""
    path = Path(path)
    if (path / ONNX_MODEL).is_file():
        return OnnxClassifier(str(path / ONNX_MODEL), read_preprocessing(path))
    from .classifier import load
    from .exporting import onnx_artifacts

    classifier = load(path)
    model, preprocessing = onnx_artifacts(classifier)
    return OnnxClassifier(model.SerializeToString(), preprocessing, classifier.record)


__all__ = ["OnnxClassifier", "TextTokenizer", "load_onnx"]
