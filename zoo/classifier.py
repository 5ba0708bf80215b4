"""A trained classifier loaded from a run directory: raw texts or arrays in, labels and probabilities out."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, ZooError

RUN_FILES = ("model.keras", "labels.json", "config.json")


class Classifier:
    """A trained zoo model plus its label mapping; get one with :func:`zoo.load`.

    ``model`` is the underlying ``keras.Model``: for text it takes raw strings (the tokenizer is inside it).
    Prediction tokenizes with a traced function, sorts the rows by length and runs the network on batches trimmed
    to their longest row (when the network takes variable length and its plugin does not waive the
    ``variable_length`` check), through a :class:`zoo.inference.Runner`:
    ``jit_compile`` is its choice of XLA (``"auto"``: on a CPU, for batch shapes called often enough to repay the
    compilation).
    """

    def __init__(self, model: Any, labels: list, config: dict[str, Any], jit_compile: Any = "auto"):
        from .inference import check_jit_compile

        self.model = model
        self.labels = list(labels)
        self.config = config
        self.kind = config.get("kind", "text")
        self.jit_compile = check_jit_compile(jit_compile)
        self._tokenize: Any = None

    @functools.cached_property
    def network(self) -> Any:
        """The Keras network proper: for text, the model without its tokenizer (it takes token ids)."""
        if self.kind != "text":
            return self.model
        return next(layer for layer in self.model.layers if layer.name not in ("text", "tokenizer")
                    and type(layer).__name__ != "InputLayer")

    @functools.cached_property
    def runner(self) -> Any:
        """The :class:`zoo.inference.Runner` that predicts with :attr:`network` (made on first use)."""
        from .inference import Runner

        return Runner(self.network, self.jit_compile)

    def _rows(self, inputs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The network's input rows (token ids or padded features) and each row's length before padding."""
        if isinstance(inputs, (str, bytes)):
            raise DataError("predict() takes a list of texts (or arrays), not a single string: wrap it in [...].")
        from .data import pad_features, token_lengths

        if self.kind == "text":
            import tensorflow as tf  # string tensors: Keras has no string dtype of its own

            if self._tokenize is None:  # traced once: eager TextVectorization costs ~4 ms a call
                tokenizer = self.model.get_layer("tokenizer")
                self._tokenize = tf.function(tokenizer, input_signature=[tf.TensorSpec((None, 1), tf.string)])
            tokens = self._tokenize(tf.constant([[str(t)] for t in inputs], dtype=tf.string)).numpy()
            return tokens, token_lengths(tokens)
        seqs = [np.asarray(s, dtype="float32") for s in inputs]
        width = self.config["hyperparameters"]["num_features"]
        for i, s in enumerate(seqs):
            if s.ndim != 2 or s.shape[1] != width or not len(s):
                raise DataError(f"input {i} has shape {s.shape}; expected (timesteps >= 1, {width}).")
        rows = pad_features(seqs, self.config["hyperparameters"].get("seq_len"))
        return rows, np.minimum([len(s) for s in seqs], rows.shape[1])

    def predict_proba(self, inputs: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        """Class probabilities, shape ``(len(inputs), num_classes)``, columns in ``self.labels`` order.

        Rows are run in batches of ``batch_size`` rows of similar length; when the network takes variable length
        each batch is trimmed to its longest row rounded up to 8 (padding is masked, so the probabilities are the
        same as the whole model's).
        """
        if len(inputs) == 0:
            return np.zeros((0, len(self.labels)), dtype="float32")
        from .data import bucket_width

        rows, lengths = self._rows(inputs)
        variable = self.network.input.shape[1] is None and self.config.get("trim", True)
        order = np.argsort(lengths, kind="stable") if variable else np.arange(len(rows))
        probs = np.zeros((len(rows), len(self.labels)), dtype="float32")
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = bucket_width(lengths[idx].max(), rows.shape[1]) if variable else rows.shape[1]
            probs[idx] = self.runner(rows[idx, :width])
        return probs

    def predict(self, inputs: Sequence[Any], top_k: int = 1) -> list[dict[str, Any]]:
        """For each input: ``{"label": best, "probability": p, "top": [(label, p), ...]}`` (``top_k`` entries)."""
        if not isinstance(top_k, int) or top_k < 1:
            raise ZooError(f"top_k must be a positive integer, got {top_k!r}.")
        probs = self.predict_proba(inputs)
        out = []
        for row in probs:
            order = np.argsort(-row)[:top_k]
            top = [(self.labels[i], float(row[i])) for i in order]
            out.append({"label": top[0][0], "probability": top[0][1], "top": top})
        return out


def load(directory: str | Path, jit_compile: Any = "auto") -> Classifier:
    """Load a run directory written by ``zoo train`` / :func:`zoo.train`.

    The model loads with ``keras.models.load_model`` in safe mode; no custom code is needed to use it.
    ``jit_compile``: see :class:`Classifier` (``False`` never compiles with XLA, ``True`` compiles every batch
    shape on its first call).
    """
    from .inference import check_jit_compile

    jit_compile = check_jit_compile(jit_compile)
    directory = Path(directory)
    missing = [f for f in RUN_FILES if not (directory / f).is_file()]
    if missing:
        partial = directory.with_name(directory.name + ".partial")
        hint = f" An interrupted run is in {partial}: resume it with --resume." if partial.exists() else ""
        raise ZooError(f"{directory} is not a finished zoo run (missing {', '.join(missing)}).{hint}")
    import keras

    try:
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ZooError(f"{directory}: cannot read the run's labels.json/config.json ({e}).") from None
    model = keras.models.load_model(directory / "model.keras")
    return Classifier(model, labels, config, jit_compile)


def evaluate(directory: str | Path, data: Any, data_options: Any = None) -> dict[str, Any]:
    """Metrics of the run in ``directory`` on a labelled data file (same format options as training).

    Labels the model never saw in training are an error naming the file and line.
    """
    from .data import Dataset, LabelEncoder
    from .metrics import classification_metrics
    from .training import DataOptions

    clf = load(directory)
    if isinstance(data, Dataset):
        ds = data
    else:
        opts = data_options or DataOptions(**{k: v for k, v in clf.config.get("data", {}).items()
                                              if k in ("text_column", "label_column", "sep", "encoding", "format")})
        ds = opts.read(data)
    kind = "text" if clf.kind == "text" else "features"
    if ds.kind != kind:
        raise DataError(f"{ds.source} holds {ds.kind} but the model in {directory} was trained on {kind}.")
    y = LabelEncoder(clf.labels).encode(ds.y, ds.source, ds.rows)
    probs = clf.predict_proba(ds.x)
    metrics = classification_metrics(y, probs.argmax(axis=1), clf.labels, "evaluation")
    metrics["source"] = ds.source
    return metrics
