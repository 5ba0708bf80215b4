"""A trained classifier: raw texts or feature sequences in, labels and probabilities out. The one prediction path:
training evaluates its run with it, ``zoo evaluate`` and ``zoo predict`` use it, and so does :func:`zoo.load`."""

from __future__ import annotations

import functools
import importlib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, ZooError
from .record import ModelSpec, RunRecord
from .rundir import CONFIG, LABELS, MODEL, RunDir

ENGINES = ("keras", "onnxruntime")


class Predictor:
    """What every prediction engine shares: ``labels``, ``spec`` (:class:`zoo.record.ModelSpec`), ``record``, and
    :meth:`predict`, :meth:`evaluate` and :meth:`read_inputs` on top of the engine's own :meth:`predict_proba`."""

    labels: list
    spec: ModelSpec
    record: RunRecord | None = None
    engine = ""

    @property
    def kind(self) -> str:
        return self.spec.kind

    def predict_proba(self, inputs: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        raise NotImplementedError

    def _validated(self, inputs: Sequence[Any]) -> list:
        """``inputs`` as a list of strings (text) or of float32 (timesteps, features) arrays, or one DataError."""
        if isinstance(inputs, (str, bytes)):
            raise DataError("predict() takes a list of texts (or arrays), not a single string: wrap it in [...].")
        if self.kind == "text":
            bad = next((i for i, x in enumerate(inputs) if not isinstance(x, str)), None)
            if bad is not None:
                raise DataError(f"this run was trained on text; input {bad} is {type(inputs[bad]).__name__}, not a "
                                "string.")
            return list(inputs)
        width, seqs = self.spec.num_features, []
        for i, s in enumerate(inputs):
            if isinstance(s, (str, bytes)):
                raise DataError(f"this run was trained on numeric sequences (timesteps, {width}); input {i} is text.")
            try:
                s = np.asarray(s, dtype="float32")
            except (TypeError, ValueError):
                raise DataError(f"input {i} is not numeric; expected an array of shape (timesteps, {width}).") \
                    from None
            if s.ndim != 2 or s.shape[1] != width or not len(s):
                raise DataError(f"input {i} has shape {s.shape}; expected (timesteps >= 1, {width}).")
            seqs.append(s)
        return seqs

    def predict(self, inputs: Sequence[Any], top_k: int = 1) -> list[dict[str, Any]]:
        """For each input: ``{"label": best, "probability": p, "top": [(label, p), ...]}`` (``top_k`` entries)."""
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ZooError(f"top_k must be a positive integer, got {top_k!r}.")
        probs = self.predict_proba(inputs)
        out = []
        for row in probs:
            order = np.argsort(-row)[:top_k]
            top = [(self.labels[i], float(row[i])) for i in order]
            out.append({"label": top[0][0], "probability": top[0][1], "top": top})
        return out

    def read_inputs(self, path: str | Path, options: Any = None, skipped: list[int] | None = None
                    ) -> tuple[list[int], list]:
        """``(rows, inputs)`` of a data file, labelled or not (labels are ignored), read with ``options`` (default:
        the run's own); ``rows`` are the lines or sample indices the inputs came from, and the lines of rows with an
        empty text go to ``skipped``."""
        from .batch import check_kind, iter_inputs
        from .config import DataOptions

        options = options or (self.record.train.data_options if self.record else None) or DataOptions()
        check_kind(self, path, options)
        skipped = [] if skipped is None else skipped
        pairs = list(iter_inputs(path, options, self.labels, skipped))
        if not pairs:
            raise DataError(f"{path}: no examples to predict" + (f" (the text of all {len(skipped)} rows is empty)."
                                                                 if skipped else "."))
        return [r for r, _ in pairs], [x for _, x in pairs]

    def evaluate(self, dataset: Any, split: str = "evaluation") -> dict[str, Any]:
        """Metrics (accuracy, macro-F1, per class, confusion matrix) on a labelled :class:`zoo.data.Dataset`.

        Labels the model never saw in training are an error naming the file and line.
        """
        from .data import LabelEncoder
        from .metrics import classification_metrics

        if dataset.kind != self.kind:
            raise DataError(f"{dataset.source} holds {dataset.kind} but this run was trained on {self.kind}.")
        y = LabelEncoder(self.labels).encode(dataset.y, dataset.source, dataset.rows)
        probs = self.predict_proba(dataset.x)
        metrics = classification_metrics(y, probs.argmax(axis=1), self.labels, split)
        metrics["source"] = dataset.source
        return metrics


class Classifier(Predictor):
    """A trained zoo model plus its labels, predicting with Keras; get one with :func:`zoo.load`.

    ``model`` is the saved ``keras.Model``: for text it takes raw strings (the tokenizer is inside it). ``spec``
    (:class:`zoo.record.ModelSpec`) says where the tokenizer and the network sit in it. Prediction tokenizes with
    a traced function, sorts the rows by length and, when ``spec.trim`` allows it, runs the network on batches cut
    to their longest row, through a :class:`zoo.inference.Runner` (``jit_compile``: its choice of XLA).
    """

    engine = "keras"

    def __init__(self, model: Any, labels: Sequence[Any], spec: ModelSpec, jit_compile: Any = "auto",
                 record: RunRecord | None = None):
        from .inference import check_jit_compile

        self.model = model
        self.labels = list(labels)
        self.spec = spec
        self.record = record
        self.jit_compile = check_jit_compile(jit_compile)
        layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"] if spec.parts else []
        if len(layers) != len(spec.parts):
            raise ZooError(f"the saved model has {len(layers)} parts after its input, config.json names "
                           f"{len(spec.parts)} ({', '.join(spec.parts)}); the run directory is damaged.")
        self.parts = dict(zip(spec.parts, layers))

    @functools.cached_property
    def network(self) -> Any:
        """What the runner calls: the network on token ids (text), or the whole model on padded features."""
        return self.parts["network"] if self.kind == "text" else self.model

    @functools.cached_property
    def runner(self) -> Any:
        """The :class:`zoo.inference.Runner` that predicts with :attr:`network` (made on first use)."""
        from .inference import Runner

        return Runner(self.network, self.jit_compile)

    @functools.cached_property
    def _tokenize(self) -> Any:
        import tensorflow as tf  # string tensors: Keras has no string dtype of its own

        # traced once: eager TextVectorization costs milliseconds a call
        return tf.function(self.parts["tokenizer"], input_signature=[tf.TensorSpec((None, 1), tf.string)])

    def _rows(self, inputs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The network's input rows (token ids or padded features) and each row's length before padding."""
        from .data import pad_features, token_lengths

        inputs = self._validated(inputs)
        if self.kind == "text":
            import tensorflow as tf

            tokens = self._tokenize(tf.constant([[t] for t in inputs], dtype=tf.string)).numpy()
            return tokens, token_lengths(tokens)
        rows = pad_features(inputs, self.spec.seq_len)
        return rows, np.minimum([len(s) for s in inputs], rows.shape[1])

    def predict_proba(self, inputs: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        """Class probabilities, shape ``(len(inputs), num_classes)``, columns in ``self.labels`` order.

        Rows run in batches of ``batch_size`` rows of similar length; where the network takes any length each batch
        is cut to its longest row rounded up to 8 (padding is masked: the probabilities are the whole model's).
        """
        if len(inputs) == 0:
            return np.zeros((0, len(self.labels)), dtype="float32")
        from .data import bucket_width

        rows, lengths = self._rows(inputs)
        variable = self.spec.trim and self.network.input.shape[1] is None
        order = np.argsort(lengths, kind="stable") if variable else np.arange(len(rows))
        probs = np.zeros((len(rows), len(self.labels)), dtype="float32")
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = bucket_width(lengths[idx].max(), rows.shape[1]) if variable else rows.shape[1]
            probs[idx] = self.runner(rows[idx, :width])
        return probs


# -- loading -----------------------------------------------------------------------------------------------------
def _custom_objects(spec: ModelSpec) -> dict[str, Any]:
    """The classes ``model.keras`` may need: the zoo's own layers and those the run's plugin declared (imported
    from the installed plugin package, whether or not the plugin is enabled)."""
    from . import layers

    objects = dict(layers.custom_objects())
    for name in spec.custom_objects:
        module, _, attr = name.partition(":")
        try:
            obj = functools.reduce(getattr, attr.split("."), importlib.import_module(module))
        except (ImportError, AttributeError) as e:
            raise ZooError(f"this run was built by plugin '{spec.plugin}' ({spec.package} {spec.version}), whose "
                           f"layer {name} cannot be imported ({type(e).__name__}: {e}); pip install "
                           f"'{spec.package}=={spec.version}'.") from None
        import keras

        objects[keras.saving.get_registered_name(obj)] = obj
        objects[attr.rpartition(".")[2]] = obj
    return objects


def _load_model(path: Path, spec: ModelSpec) -> Any:
    """``keras.models.load_model`` in safe mode, every failure one line."""
    from .backend import import_tensorflow

    import_tensorflow()
    import keras

    if not zipfile.is_zipfile(path):
        raise ZooError(f"{path}: damaged (not a complete .keras archive); train the run again.")
    custom = _custom_objects(spec)
    try:
        return keras.models.load_model(path, custom_objects=custom, safe_mode=True)
    except Exception as e:  # noqa: BLE001 - Keras raises many types here; each becomes one line
        text = str(e)
        if "Lambda" in text and "safe_mode" in text:
            raise ZooError(f"{path}: the model contains a Lambda layer (arbitrary Python code), which safe mode "
                           "refuses to load; zoo never loads code from a run. Retrain with a plugin that "
                           "defines a registered layer instead.") from None
        if "Could not locate" in text or "Unknown layer" in text:
            raise ZooError(f"{path}: uses a layer class this installation cannot find: it was built by plugin "
                           f"'{spec.plugin}' ({spec.package} {spec.version}); pip install "
                           f"'{spec.package}=={spec.version}', and the plugin must declare its layers under "
                           "`custom_objects` in its catalog.") from None
        first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
        raise ZooError(f"{path}: cannot load the model ({type(e).__name__}: {first[:300]}); the file may be damaged: "
                       "train the run again.") from None


def load(directory: str | Path, jit_compile: Any = "auto", engine: str = "keras") -> Classifier:
    """Load a run directory written by ``zoo train`` / :func:`zoo.train`.

    The model loads with ``keras.models.load_model`` in safe mode (no code is ever loaded from a run); a plugin's
    own layers come from the plugin's installed package. ``jit_compile``: see :class:`Classifier`.
    """
    from .files import regular_file
    from .inference import check_jit_compile

    jit_compile = check_jit_compile(jit_compile)
    if engine not in ENGINES:
        raise ZooError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if engine == "onnxruntime":
        from .engines import load_onnx

        return load_onnx(directory)
    run = RunDir(directory)
    run.require_finished()
    record = RunRecord.from_dict(run.read_json(CONFIG), str(run.path(CONFIG)))
    labels = run.read_json(LABELS)
    if not isinstance(labels, list) or len(labels) < 2:
        raise ZooError(f"{run.path(LABELS)}: expected a list of at least 2 labels; the run directory is damaged.")
    model = _load_model(regular_file(run.path(MODEL)), record.model)
    outputs = model.output_shape[-1]
    if outputs != len(labels):
        raise ZooError(f"{run.path(LABELS)} has {len(labels)} labels but the model outputs {outputs} classes; the "
                       "run directory is damaged: train it again.")
    return Classifier(model, labels, record.model, jit_compile, record)


def evaluate(directory: str | Path, data: str | Path, data_options: Any = None) -> dict[str, Any]:
    """Metrics of the run in ``directory`` on a labelled data file, read with ``data_options`` (default: the
    options the run was trained with)."""
    from .data import load_dataset

    clf = load(directory)
    options = data_options or (clf.record.train.data_options if clf.record else None)
    return clf.evaluate(load_dataset(data, options))
