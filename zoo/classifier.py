"""A trained classifier loaded from a run directory: raw texts or arrays in, labels and probabilities out."""

from __future__ import annotations

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
    """

    def __init__(self, model: Any, labels: list, config: dict[str, Any]):
        self.model = model
        self.labels = list(labels)
        self.config = config
        self.kind = config.get("kind", "text")

    def _inputs(self, inputs: Sequence[Any]) -> Any:
        if isinstance(inputs, (str, bytes)):
            raise DataError("predict() takes a list of texts (or arrays), not a single string: wrap it in [...].")
        if self.kind == "text":
            import tensorflow as tf  # string tensors: Keras has no string dtype of its own

            return tf.constant([[str(t)] for t in inputs], dtype=tf.string)
        from .data import pad_features

        seqs = [np.asarray(s, dtype="float32") for s in inputs]
        width = self.config["hyperparameters"]["num_features"]
        for i, s in enumerate(seqs):
            if s.ndim != 2 or s.shape[1] != width:
                raise DataError(f"input {i} has shape {s.shape}; expected (timesteps, {width}).")
        return pad_features(seqs, self.config["hyperparameters"].get("seq_len"))

    def predict_proba(self, inputs: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        """Class probabilities, shape ``(len(inputs), num_classes)``, columns in ``self.labels`` order."""
        if len(inputs) == 0:
            return np.zeros((0, len(self.labels)), dtype="float32")
        x = self._inputs(inputs)
        if self.kind == "text" and self.config.get("bucket"):
            return self._predict_bucketed(x, batch_size)
        if len(inputs) <= batch_size:  # one batch: skip predict()'s per-call set-up (about 50 ms)
            return np.asarray(self.model.predict_on_batch(x))
        return np.asarray(self.model.predict(x, batch_size=batch_size, verbose=0))

    def _predict_bucketed(self, texts: Any, batch_size: int) -> np.ndarray:
        """Tokenize, then run the (variable-length) network on batches of similar length, each trimmed to its
        longest row rounded up to 8: the same probabilities as the whole model, without stepping over padding."""
        tokenizer = self.model.get_layer("tokenizer")
        network = next(layer for layer in self.model.layers if layer.name not in ("text", "tokenizer")
                       and type(layer).__name__ != "InputLayer")
        from .data import bucket_width, token_lengths

        tokens = np.asarray(tokenizer(texts))
        lengths = token_lengths(tokens)
        order = np.argsort(lengths, kind="stable")
        probs = np.zeros((len(tokens), len(self.labels)), dtype="float32")
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = bucket_width(lengths[idx].max(), tokens.shape[1])
            probs[idx] = np.asarray(network.predict_on_batch(tokens[idx, :width]))
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


def load(directory: str | Path) -> Classifier:
    """Load a run directory written by ``zoo train`` / :func:`zoo.train`.

    The model loads with ``keras.models.load_model`` in safe mode; no custom code is needed to use it.
    """
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
    return Classifier(model, labels, config)


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
