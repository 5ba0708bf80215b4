"""``zoo train``: data in, a trained, evaluated and saved classifier out.

:func:`train_run` is a short pipeline of named steps, each testable alone: resolve the architecture and presets,
read and split the data, resolve the hyperparameters, encode the inputs, build the network, fit it, evaluate it
through the same :class:`zoo.classifier.Classifier` that ``zoo.load`` returns, save the run and publish it. The
run directory (:class:`zoo.rundir.RunDir`) owns the files, the lock, the checkpoints and the atomic publish.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Classifier
from .config import TrainConfig, default_out
from . import recipe
from .data import targets, token_lengths
from .preparation import (Encoded, Splits, encode_inputs, prepare_data, read_pretrained, resolve_architecture,
                          resolve_hyperparameters)
from .errors import ZooError
from .record import RUN_FORMAT, ModelSpec, RunRecord
from .rundir import CONFIG, CONFUSION, CURVES, HISTORY, LABELS, METRICS, MODEL, RunDir


@dataclass
class Run:
    """The result of :func:`train`: where it was written, its metrics and history, and the classifier."""

    out: Path | None  # None on a multi-worker run's non-chief worker, which writes no run
    architecture: str
    hyperparameters: dict[str, Any]
    labels: list
    metrics: dict[str, Any]
    history: dict[str, list[float]]
    classifier: Classifier | None = field(repr=False)
    notes: list[str] = field(default_factory=list)
    record: RunRecord | None = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        return self.classifier.model

    def predict(self, inputs: Any, top_k: int = 1) -> list[dict[str, Any]]:
        return self.classifier.predict(inputs, top_k=top_k)


# -- TensorFlow and the network ------------------------------------------------------------------
def _seed(seed: int | None) -> None:
    from .backend import import_tensorflow

    import_tensorflow()
    if seed is None:
        return
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def make_strategy(distribute: str) -> Any:
    """The ``tf.distribute`` strategy for ``--distribute`` (None for none)."""
    if distribute == "none":
        return None
    import tensorflow as tf

    if distribute == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief(distribute: str) -> bool:
    """Whether this process writes the run: always, except on a multi-worker run's non-chief workers (read from
    ``TF_CONFIG`` without TensorFlow: the chief is task ``chief``, or worker 0 when the cluster has none)."""
    if distribute != "multiworker":
        return True
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ZooError("--distribute multiworker reads the cluster from the TF_CONFIG environment variable, which is "
                       "not set; see the README's multi-worker recipe.")
    try:
        tf_config = json.loads(raw)
        task, cluster = tf_config.get("task", {}), tf_config["cluster"]
        kind, index = task.get("type"), int(task.get("index", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ZooError("TF_CONFIG is not valid: expected JSON like {\"cluster\": {\"worker\": [\"host:port\", ...]}, "
                       "\"task\": {\"type\": \"worker\", \"index\": 0}}.") from None
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)


def build_network(arch: Any, hp: Any, num_classes: int, bucket: bool, strategy: Any) -> Any:
    """The compiled network. With ``bucket`` it takes any length (batches are cut to their longest row); the saved
    tokenizer still pads to ``seq_len``."""
    from .builder import build_model

    network_hp = hp.replace(seq_len=None) if bucket else hp
    if strategy is None:
        return build_model(arch, num_classes, network_hp)
    with strategy.scope():
        return build_model(arch, num_classes, network_hp)


def load_pretrained(network: Any, pretrained: Any, name: str) -> None:
    """Start ``network``'s word embeddings from ``pretrained`` (:func:`zoo.vectors.load_into`); an architecture
    without an ``Embedding`` of one row per token id and one column per vector dimension cannot take them."""
    from .vectors import load_into

    if not load_into(network, pretrained):
        raise ZooError(f"--embeddings: '{name}' has no Embedding layer of {pretrained.vocab_size} x {pretrained.dim} "
                       f"(vocab_size x the vectors' dimension) to start from the vectors; it needs hyperparameters "
                       "vocab_size and embed_dim that size its Embedding, or train it without --embeddings.")


def gated_cells(network: Any) -> list[Any]:
    """Every LSTM and GRU cell inside ``network`` (:func:`zoo.inference.sublayers`: models, ``Bidirectional`` and
    other wrappers, a custom layer's own layers): LSTM and GRU layers and RNN layers of such cells, stacked cells
    included, each once, in a fixed order."""
    import keras

    from .inference import sublayers

    found: dict[int, Any] = {}
    for layer in sublayers(network):
        if isinstance(layer, keras.layers.RNN):
            for cell in getattr(layer.cell, "cells", [layer.cell]):
                if isinstance(cell, (keras.layers.LSTMCell, keras.layers.GRUCell)) and cell.use_bias:
                    found.setdefault(id(cell), cell)
    return list(found.values())


def init_memory(network: Any, span: int, seed: int | None) -> int:
    """Chrono-initialize every LSTM and GRU cell of ``network`` for memories of up to ``span`` steps
    (:func:`zoo.recipe.chrono_biases`): an LSTM's forget-gate biases and, as their negatives, its input-gate
    biases; a GRU's update-gate biases, the gate that keeps its state (``h = z * h_prev + (1 - z) * candidate``).
    Returns how many cells. The draw follows ``seed`` (0 when None), so every worker of a multi-worker run draws
    the same biases."""
    import keras

    cells = gated_cells(network)
    rng = np.random.default_rng(seed or 0)
    for cell in cells:
        bias = np.array(keras.ops.convert_to_numpy(cell.bias))
        u = cell.units
        keep, closed = recipe.chrono_biases(u, span, rng)
        if isinstance(cell, keras.layers.LSTMCell):  # Keras's gate order: input, forget, candidate, output
            bias[u:2 * u], bias[:u] = keep, closed
        else:  # GRU: update, reset, candidate; with reset_after a row of input and a row of recurrent biases
            (bias[0] if bias.ndim == 2 else bias)[:u] = keep
        cell.bias.assign(bias)
    return len(cells)


def network_lengths(splits: Splits, encoded: Encoded) -> np.ndarray:
    """Each training row's length in the network's steps (a text's tokens; a series' timesteps over the fold): for
    bucketing and for the chrono rule."""
    if splits.kind == "text":
        return token_lengths(encoded.x_train)
    return -(-np.array([len(s) for s in splits.train.x]) // encoded.fold)


def chrono_span(lengths: np.ndarray, encoded: Encoded, chosen: int | None) -> int:
    """The span to chrono-initialize for: ``chosen`` (``--chrono``), else the recipe's rule on the rows as the
    network reads them (cut to the input width); 0 or 1 keeps Keras's biases."""
    if chosen is not None:
        return chosen
    return recipe.choose_chrono(np.minimum(lengths, encoded.x_train.shape[1]))


def chrono_initialize(network: Any, span: int, seed: int | None, chosen: int | None, notes: list[str]) -> int:
    """:func:`init_memory` where ``span`` asks for it, with its note; the number of cells it set."""
    if span <= 1:
        return 0
    cells = init_memory(network, span, seed)
    notes.append(_chrono_note(cells, span, chosen))
    return cells


def _chrono_note(cells: int, span: int, chosen: int | None) -> str:
    if not cells:
        return ("chrono initialization skipped: this architecture has no LSTM or GRU layer"
                + (f" (--chrono {chosen} ignored)" if chosen else ""))
    why = f" (the length of {recipe.SEQ_LEN_QUANTILE:.0%} of the training rows as the network reads them)"
    return (f"chrono initialization: the forget (LSTM) and update (GRU) gates of {cells} recurrent cell(s) drawn "
            f"for memories of 1 to {span} steps{why if chosen is None else ''}; --chrono 0 keeps Keras's biases")


def use_schedule(network: Any, budget: recipe.Budget, schedule: str, strategy: Any, ema: float = 0.0,
                 label_smoothing: float = 0.0) -> float:
    """Recompile ``network`` with the recipe's learning-rate schedule, with ``ema`` > 0 a moving average of the
    weights kept by the optimizer, and with ``label_smoothing`` > 0 categorical cross-entropy toward smoothed
    one-hot targets (the caller then passes one-hot targets); returns the peak learning rate."""
    import keras

    # under mixed_float16 compile wraps the optimizer in a LossScaleOptimizer: configure the one inside (compile
    # wraps the new one again)
    optimizer = getattr(network.optimizer, "inner_optimizer", network.optimizer)
    peak = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if schedule == "cosine" or ema or label_smoothing:
        config = {**optimizer.get_config(), "learning_rate": recipe.learning_rate_schedule(peak, budget, schedule)}
        if ema:
            config.update(use_ema=True, ema_momentum=ema, ema_overwrite_frequency=None)
        loss = (keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing) if label_smoothing
                else network.loss)
        with strategy.scope() if strategy is not None else _no_scope():
            network.compile(optimizer=type(optimizer).from_config(config), loss=loss, metrics=["accuracy"])
    return peak


def _no_scope() -> Any:
    import contextlib

    return contextlib.nullcontext()


def assemble(network: Any, encoded: Encoded, name: str) -> tuple[Any, tuple[str, ...]]:
    """The model a run saves and its parts: raw strings in for text (tokenizer, then network), raw features in
    for numbers (standardize, center and fold where the run does, then network), the network itself otherwise."""
    import keras

    if encoded.tokenizer is not None:
        raw = keras.Input(shape=(1,), dtype="string", name="text")
        return keras.Model(raw, network(encoded.tokenizer(raw)), name=f"{name}_classifier"), ("tokenizer", "network")
    if encoded.statistics is None and encoded.fold == 1 and not encoded.center:
        return network, ()
    from .keras_layers import Center, Fold, Standardize

    steps, width = network.input.shape[1:]
    raw = keras.Input(shape=(None if steps is None else steps * encoded.fold,
                             width // encoded.fold // (1 + encoded.center)), dtype="float32", name="features")
    x, parts = raw, []
    if encoded.statistics is not None:
        x, parts = Standardize(*encoded.statistics, name="standardize")(x), ["standardize"]
    if encoded.center:
        x, parts = Center(encoded.center_scale, name="center")(x), [*parts, "center"]
    if encoded.fold > 1:
        x, parts = Fold(encoded.fold, name="fold")(x), [*parts, "fold"]
    return keras.Model(raw, network(x), name=f"{name}_classifier"), (*parts, "network")


def model_spec(arch: Any, hp: Any, splits: Splits, parts: tuple, trim: bool, encoded: Encoded) -> ModelSpec:
    """What a saved run records of its model; the features' count and length are the raw series', before any
    centred copy or fold."""
    return ModelSpec(
        architecture=arch.preset_of or arch.name, name=arch.name, plugin=arch.plugin, package=arch.package,
        version=arch.version, kind=splits.kind, num_classes=splits.num_classes, hyperparameters=dict(hp),
        parts=parts, trim=trim, seq_len=None if hp.seq_len is None else hp.seq_len * encoded.fold,
        num_features=None if splits.kind == "text" else int(splits.train.x[0].shape[1]), fold=encoded.fold,
        center=encoded.center, custom_objects=tuple(getattr(arch, "custom_objects", ()) or ()))


# -- fit -------------------------------------------------------------------------------------------------
def _class_weights(config: TrainConfig, y: np.ndarray, num_classes: int) -> dict[int, float] | None:
    if config.class_weight != "balanced":
        return None
    counts = np.bincount(y, minlength=num_classes)
    return {i: float(len(y) / (num_classes * c)) for i, c in enumerate(counts) if c}


def _budget_note(budget: recipe.Budget, schedule: str, peak: float, lr_decay: float, ema: float,
                 label_smoothing: float) -> str:
    passes = f", {budget.passes_per_epoch} passes over the data each" if budget.passes_per_epoch > 1 else ""
    lr = {"cosine": f"learning rate warmed up over {budget.warmup_steps} steps to {peak:g}, then cosine decay to "
                    f"{recipe.FLOOR:.0%} of it",
          "plateau": f"learning rate warmed up over {budget.warmup_steps} steps to {peak:g}, then on a validation "
                     f"plateau back to the best weights and times {lr_decay:g} (at most 3 times)"}.get(
        schedule, f"learning rate warmed up over {budget.warmup_steps} steps to {peak:g}, then constant")
    stop = (f"early stopping after {budget.patience} epochs without improvement" if budget.patience
            else "no early stopping")
    average = (f"validation and the saved model use the weights' moving average (momentum {ema:g} per step)" if ema
               else "no moving average of the weights")
    smoothing = f"label smoothing {label_smoothing:g}" if label_smoothing else "no label smoothing"
    return (f"budget: {budget.steps} steps in {budget.epochs} epochs of {budget.steps_per_epoch}{passes}; {lr}; "
            f"{stop}; {average}; {smoothing}; override with --steps, --epochs, --schedule, --patience, --ema, "
            f"--label-smoothing")


def fit(network: Any, batches: Any, validation: tuple | None, config: TrainConfig, budget: recipe.Budget,
        schedule: str, run_dir: RunDir, callbacks: list, class_weight: dict | None, verbose: int | str,
        notes: list[str]) -> dict[str, Any]:
    """Train on ``batches`` (:class:`zoo.fitting.EpochBatches`) for the budget's epochs with a checkpoint every
    epoch, resuming from the latest one if there is one; returns the loop's state (history, best epoch, ...)."""
    from .fitting import EpochLoop

    loop = EpochLoop(network, run_dir, budget.patience, config.lr_decay if schedule == "plateau" else 1.0,
                     warmup_steps=budget.warmup_steps if schedule in ("plateau", "constant") else 0)
    done = loop.resume()
    if done:
        notes.append(f"resumed after epoch {done}")
    if done < budget.epochs and not loop.stopped and config.distribute == "multiworker":
        from .fitting import fit_multiworker

        fit_multiworker(network, batches, validation, budget.epochs, done, [loop.callback(), *callbacks],
                        class_weight)
    elif done < budget.epochs and not loop.stopped:
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        network.fit(batches.dataset(first_epoch=done), validation_data=validation, epochs=budget.epochs,
                    initial_epoch=done, class_weight=class_weight, callbacks=[loop.callback(), *callbacks],
                    shuffle=False, verbose=verbose)  # EpochBatches orders the rows
    else:
        loop.restore_best()
    return loop.state


# -- evaluate and save -----------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    """Python's and the key packages' versions, as a run records them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("keras-zoo", "keras", "tensorflow", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def evaluate_run(classifier: Classifier, splits: Splits, state: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The run's metrics, through the same prediction path as ``zoo evaluate``."""
    dataset, split = splits.evaluation()
    metrics = classifier.evaluate(dataset, split)
    metrics.update(best_epoch=state["best_epoch"], epochs_run=state["epoch"], train_seconds=round(seconds, 1))
    return metrics


def save_run(run_dir: RunDir, classifier: Classifier, record: RunRecord, metrics: dict, history: dict) -> None:
    """Write every file of the run into its staging directory."""
    from .card import write_model_card
    from .plots import plot_confusion_matrix, plot_history

    try:
        classifier.model.save(run_dir.stage(MODEL))
    except OSError as e:
        raise ZooError(f"cannot write {run_dir.stage(MODEL)}: {e.strerror or e}.") from None
    run_dir.write_json(LABELS, classifier.labels)
    run_dir.write_json(CONFIG, record.to_dict())
    run_dir.write_json(HISTORY, history)
    run_dir.write_json(METRICS, metrics)
    name = record.model.name
    plot_history(history, run_dir.stage(CURVES), title=f"{name}: training curves")
    plot_confusion_matrix(metrics["confusion_matrix"], classifier.labels, run_dir.stage(CONFUSION),
                          title=f"{name} on {metrics['split']}: accuracy {metrics['accuracy']:.3f}")
    write_model_card(run_dir.staging, record, classifier.labels, metrics, classifier.model.count_params(),
                     run_name=str(run_dir.out))


def _check_resumable(run_dir: RunDir, config: TrainConfig) -> None:
    staged = run_dir.staged_config()
    if staged is None:
        return
    if "train" not in staged:
        raise ZooError(f"{run_dir.staging} was interrupted under an older zoo version and cannot be resumed; pass "
                       "--overwrite to start over.")
    changed = config.differences(TrainConfig.from_dict(staged["train"], f"{run_dir.staging}/config.json"),
                                 ignore=("callbacks",))
    if changed:
        raise ZooError(f"--resume with different settings than the interrupted run ({', '.join(changed)}); use the "
                       "same command, or --overwrite to start over.")


# -- the pipeline ------------------------------------------------------------------------------------------------
def train(architecture: str, data: str | Path | None = None, *, resume: bool = False, overwrite: bool = False,
          verbose: int | str = "auto", **options: Any) -> Run:
    """Train ``architecture`` on ``data`` (a file; None = the built-in data set) and save the run.

    ``options`` are :class:`zoo.config.TrainConfig` fields (``out``, ``val``, ``test``, ``epochs``, ``seed``,
    ``hyperparameters``, ``data_options``...; see the README); ``resume`` continues an interrupted run,
    ``overwrite`` replaces an existing run. Returns a :class:`Run`.
    """
    if "overrides" in options:  # the name before the typed config
        options["hyperparameters"] = {**options.pop("overrides"), **options.get("hyperparameters", {})}
    try:
        config = TrainConfig(architecture, data=data, **options)
    except TypeError as e:
        raise ZooError(f"zoo.train(): {e}; the options are TrainConfig's fields (see zoo.config).") from None
    return train_run(config, resume=resume, overwrite=overwrite, verbose=verbose)


def train_run(config: TrainConfig, *, resume: bool = False, overwrite: bool = False,
              verbose: int | str = "auto") -> Run:
    """Run the pipeline for ``config``: see the module docstring for its steps."""
    start = time.perf_counter()
    arch, overrides = resolve_architecture(config)
    if config.out is None:
        config = config.replace(out=os.path.join("runs", arch.name) if resume else default_out(arch.name))
    chief = is_chief(config.distribute)
    run_dir = RunDir(config.out).acquire(resume=resume, overwrite=overwrite) if chief else RunDir.scratch()
    with run_dir:
        if resume:
            _check_resumable(run_dir, config)
        run_dir.write_json(CONFIG, {"zoo_run": RUN_FORMAT, "train": config.to_dict()})  # what --resume compares
        splits = prepare_data(config)
        notes = run_dir.notes + splits.notes
        pretrained = read_pretrained(config, arch, overrides, splits, notes)
        hp = resolve_hyperparameters(arch, overrides, splits, config, notes, pretrained)
        return _train_network(config, arch, hp, splits, run_dir, chief, notes, start, verbose, pretrained)


def _train_network(config: TrainConfig, arch: Any, hp: Any, splits: Splits, run_dir: RunDir, chief: bool,
                   notes: list[str], start: float, verbose: int | str, pretrained: Any = None) -> Run:
    _seed(config.seed)
    strategy = make_strategy(config.distribute)  # before any other TensorFlow op (multi-worker needs that)
    encoded = encode_inputs(splits, hp, config, notes, pretrained.vocabulary if pretrained is not None else None)
    # batches of similar lengths cut to their longest row, for a network that takes any length and masks padding
    bucket = config.bucket and strategy is None and arch.masks_padding and (splits.kind == "text" or
                                                                            hp.seq_len is None)
    lengths = network_lengths(splits, encoded)
    network = build_network(arch, hp, splits.num_classes, bucket, strategy)
    if pretrained is not None:
        load_pretrained(network, pretrained, arch.name)
    span = chrono_span(lengths, encoded, config.chrono)
    cells = chrono_initialize(network, span, config.seed, config.chrono, notes)
    budget = recipe.choose_budget(len(splits.train), config.batch_size, splits.val is not None, config.steps,
                                  config.epochs, config.patience)
    schedule = recipe.resolve_schedule(config.schedule, splits.val is not None)
    peak = use_schedule(network, budget, schedule, strategy, config.ema, config.label_smoothing)
    notes.append(_budget_note(budget, schedule, peak, config.lr_decay, config.ema, config.label_smoothing))
    from .fitting import EpochBatches

    # the sparse loss has no smoothing: smoothed, it is categorical cross-entropy on one-hot rows
    labels = "categorical" if config.label_smoothing else hp.labels
    batches = EpochBatches(encoded.x_train, targets(splits.y_train, splits.num_classes, labels),
                           config.batch_size, config.seed, bucket, config.token_dropout if encoded.tokenizer else 0.0,
                           passes=budget.passes_per_epoch, lengths=lengths)
    validation = None if splits.val is None else (encoded.x_val, targets(splits.y_val, splits.num_classes, labels))
    state = fit(network, batches, validation, config, budget, schedule, run_dir,
                _plugin_callbacks(config, run_dir, chief, hp),
                _class_weights(config, splits.y_train, splits.num_classes), verbose, notes)
    model, parts = assemble(network, encoded, arch.name)
    trim = (bucket or hp.seq_len is None) and arch.masks_padding
    classifier = Classifier(model, splits.labels, model_spec(arch, hp, splits, parts, trim, encoded))
    if not chief:
        return Run(None, arch.name, dict(hp), splits.labels, {}, state["history"], classifier, notes)
    metrics = evaluate_run(classifier, splits, state, time.perf_counter() - start)
    chosen = recipe.Recipe(budget, schedule, splits.validation, hp.seq_len if splits.kind == "text" else None,
                           hp.get("vocab_size") if splits.kind == "text" else None, encoded.statistics is not None,
                           encoded.fold, encoded.center, span if cells else None,
                           pretrained.summary() if pretrained is not None else None)
    record = RunRecord(config, classifier.spec, data=_data_summary(splits), notes=notes, versions=versions(),
                       replicas=strategy.num_replicas_in_sync if strategy is not None else 1, bucket=bucket,
                       epochs_run=state["epoch"], recipe=chosen.to_dict())
    classifier.record = record
    save_run(run_dir, classifier, record, metrics, state["history"])
    out = run_dir.publish()
    return Run(out, arch.name, dict(hp), splits.labels, metrics, state["history"], classifier, notes, record)


def _data_summary(splits: Splits) -> dict[str, Any]:
    return {name: {"source": ds.source, "examples": len(ds)} for name, ds in
            (("train", splits.train), ("val", splits.val), ("test", splits.test)) if ds is not None}


def _plugin_callbacks(config: TrainConfig, run_dir: RunDir, chief: bool, hp: Any) -> list:
    """The training callbacks plugins provide, by the names in ``config.callbacks`` (``zoo train --NAME``)."""
    if not config.callbacks:
        return []
    from .callbacks import CallbackContext
    from .registry import default_registry

    context = CallbackContext(run_dir=run_dir.staging, config={"hyperparameters": dict(hp),
                                                               "train": config.to_dict()},
                              architecture=config.architecture, seed=config.seed, is_chief=chief)
    return default_registry().make_callbacks(list(config.callbacks), context)


__all__ = ["Run", "Splits", "train", "train_run", "versions"]
