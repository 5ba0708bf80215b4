"""zoo: a plugin-based model zoo of Keras sequence classifiers.

Every architecture, built-in or third-party, ends in a softmax head sized to the class count and is trained with
categorical cross-entropy (or its sparse twin). Listing and discovery never import TensorFlow.

>>> import zoo
>>> zoo.list_architectures("*lstm")
['bilstm', 'lstm', 'stacked_lstm']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import (
    CatalogError,
    ContractError,
    DataError,
    HyperparameterError,
    PluginError,
    UnknownArchitectureError,
    ZooError,
    ZooWarning,
)
from .callbacks import CallbackContext
from .hookspecs import ENTRY_POINT_GROUP, hookimpl
from .hyperparameters import Hyperparameters
from .layers import sequence_inputs, softmax_head
from .registry import Architecture, Registry, default_registry

__version__ = "0.1.0"

BUILTIN_CATALOG = Path(__file__).with_name("registry.yaml")
"""Path of the catalog of the built-in architectures (the project's ``registry.yaml``)."""


def list_architectures(pattern: str | None = None) -> list[str]:
    """Sorted names of every available architecture (and preset), optionally filtered by a glob.

    >>> list_architectures("bi*")
    ['bilstm']
    """
    return default_registry().names(pattern)


def list_callbacks() -> list[str]:
    """Sorted names of the training callbacks plugins provide (``zoo train --NAME`` adds one to a run).

    >>> "tensorboard" in list_callbacks()
    True
    """
    return [c.name for c in default_registry().callbacks()]


def get(name: str) -> Architecture:
    """The architecture entry for a name, alias or preset name.

    >>> arch = get("bidirectional")
    >>> arch.name, arch.summary
    ('bilstm', 'Embedding -> Bidirectional(LSTM) -> Dense softmax')
    >>> get("bilstn")
    Traceback (most recent call last):
    ...
    zoo.errors.UnknownArchitectureError: No architecture named 'bilstn'. Did you mean 'bilstm'? Run `zoo list` to see all ...
    """
    return default_registry().get(name)


def build(name: str, num_classes: int, **overrides: Any) -> Any:
    """Build a compiled ``keras.Model``: the architecture's defaults, overridden by ``overrides``.

    >>> model = build("bilstm", num_classes=6, units=32)
    >>> model.output_shape, model.loss
    ((None, 6), 'categorical_crossentropy')
    """
    return get(name).build(num_classes, **overrides)


def train(architecture: str, data: Any = None, **options: Any) -> Any:
    """Train, evaluate and save a classifier; returns a ``Run`` (see :func:`zoo.training.train`).

    ``data`` is a file path (CSV, TSV, JSONL, TEXT<SEP>LABEL lines or .npz) or None for the built-in data set. The
    options are :class:`zoo.config.TrainConfig`'s fields (``out``, ``val``, ``test``, ``epochs``, ``seed``,
    ``hyperparameters``, ...) plus ``resume`` and ``overwrite``::

        run = zoo.train("bilstm", "train.csv", test="test.csv", out="runs/bilstm", seed=0)
        run.metrics["accuracy"], run.predict(["what a lovely day"])
    """
    from .training import train as _train

    return _train(architecture, data, **options)


def compare(names: Any = None, data: Any = None, **options: Any) -> Any:
    """Train several architectures (default: every installed one) over ``seeds`` seeds and rank them; returns a
    ``Leaderboard`` (see :func:`zoo.comparison.compare`)::

        board = zoo.compare(["lstm", "bilstm"], "train.csv", test="test.csv", seeds=3, out="runs/cmp")
        print(board.markdown())
    """
    from .comparison import compare as _compare

    return _compare(names, data, **options)


def export(directory: str | Path, format: str, out: str | Path, **options: Any) -> Any:
    """Export a run as ``"savedmodel"``, ``"onnx"`` or ``"litert"`` into ``out``, checked against the run first;
    returns an ``ExportResult`` with the largest difference found (see :mod:`zoo.exporting`)::

        zoo.export("runs/bilstm", "onnx", "export/bilstm-onnx").max_difference
    """
    from .exporting import export as _export

    return _export(directory, format, out, **options)


def load(directory: str | Path, jit_compile: Any = "auto", engine: str = "keras") -> Any:
    """Load a run directory written by :func:`train` / ``zoo train`` as a ``Classifier``::

        clf = zoo.load("runs/bilstm")
        clf.predict(["what a lovely day"], top_k=2)   # [{"label": ..., "probability": ..., "top": [...]}]

    ``jit_compile``: ``"auto"`` compiles a batch shape with XLA (on a CPU) once the time spent predicting it
    uncompiled reaches the cost of compiling it; ``True`` compiles every shape at once, ``False`` never.
    ``engine="onnxruntime"`` predicts with ONNX Runtime instead (the same API; ``directory`` may then also be an
    ONNX export, which loads without TensorFlow).
    """
    from .classifier import load as _load

    return _load(directory, jit_compile, engine)


def evaluate(directory: str | Path, data: Any, **kwargs: Any) -> dict:
    """Metrics (accuracy, macro_f1, per class, confusion matrix) of a trained run on a labelled data file."""
    from .classifier import evaluate as _evaluate

    return _evaluate(directory, data, **kwargs)


__all__ = [
    "Architecture",
    "BUILTIN_CATALOG",
    "CallbackContext",
    "CatalogError",
    "ContractError",
    "DataError",
    "ENTRY_POINT_GROUP",
    "HyperparameterError",
    "Hyperparameters",
    "PluginError",
    "Registry",
    "UnknownArchitectureError",
    "ZooError",
    "ZooWarning",
    "build",
    "compare",
    "default_registry",
    "evaluate",
    "export",
    "get",
    "hookimpl",
    "list_architectures",
    "list_callbacks",
    "load",
    "sequence_inputs",
    "softmax_head",
    "train",
]
