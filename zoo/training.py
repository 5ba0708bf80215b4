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
from .data import Dataset, LabelEncoder, choose_seq_len, load_dataset, pad_features, stratified_split, targets
from .defaults import SEQ_LEN_CAP, VAL_FRACTION
from .errors import DataError, ZooError
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


@dataclass
class Splits:
    """The training data read and split: raw inputs and class ids per split, the labels, and the sources."""

    kind: str  # "text" | "features"
    labels: list
    train: Dataset
    y_train: np.ndarray
    val: Dataset
    y_val: np.ndarray
    test: Dataset | None
    notes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def evaluation(self) -> tuple[Dataset, str]:
        """The split the run reports: the test split when there is one, else validation."""
        return (self.test, "test") if self.test is not None else (self.val, "validation")


# -- step 1: the architecture ------------------------------------------------------------------------------------
def resolve_architecture(config: TrainConfig) -> tuple[Any, dict[str, Any]]:
    """The architecture and the hyperparameter overrides from its preset file and ``--set`` (not yet checked)."""
    from .registry import default_registry

    arch = default_registry().get(config.architecture)
    overrides: dict[str, Any] = {}
    if config.preset is not None:
        from .catalog import load_presets

        presets = load_presets(config.preset)
        chosen = [p for p in presets.values() if arch.name in (p.name, p.architecture)] or list(presets.values())
        if len(chosen) != 1:
            raise ZooError(f"{config.preset} has {len(presets)} presets; pass one of them as the architecture name.")
        if chosen[0].architecture != (arch.preset_of or arch.name):
            raise ZooError(f"{config.preset}: preset '{chosen[0].name}' is for '{chosen[0].architecture}', not "
                           f"'{arch.name}'.")
        overrides.update(chosen[0].hyperparameters)
    overrides.update(config.hyperparameters)
    return arch, overrides


# -- step 2: the data --------------------------------------------------------------------------------------------
def _read_splits(config: TrainConfig, notes: list[str]) -> tuple[Dataset, Dataset | None, Dataset | None]:
    if config.data is None:
        from .datasets import DEFAULT, load_builtin

        train, test = load_builtin(DEFAULT)
        notes.append(f"no --data given: training on the built-in '{DEFAULT}' data set ({len(train)} train / "
                     f"{len(test)} test)")
        return train, None, test
    read = [load_dataset(p, config.data_options) if p is not None else None
            for p in (config.data, config.val, config.test)]
    train = read[0]
    for ds in read[1:]:
        if ds is not None and ds.kind != train.kind:
            raise DataError(f"{ds.source} holds {ds.kind} but the training data {train.source} holds {train.kind}; "
                            "use the same kind of data for every split.")
        if ds is not None and ds.kind == "features" and ds.x[0].shape[1] != train.x[0].shape[1]:
            raise DataError(f"{ds.source} has {ds.x[0].shape[1]} features per timestep, the training data has "
                            f"{train.x[0].shape[1]}.")
    return train, read[1], read[2]


def _subset(ds: Dataset, index: np.ndarray, source: str) -> Dataset:
    return Dataset(ds.kind, [ds.x[i] for i in index], [ds.y[i] for i in index], source, [ds.rows[i] for i in index])


def prepare_data(config: TrainConfig) -> Splits:
    """Read the splits, encode labels, hold out a stratified validation split when no file gives one."""
    notes: list[str] = []
    train, val, test = _read_splits(config, notes)
    notes += [ds.skipped_note() for ds in (train, val, test) if ds is not None and ds.skipped_note()]
    enc = LabelEncoder.fit(train.y, train.source)
    y = enc.encode(train.y, train.source, train.rows)
    if val is None:
        tr, va = stratified_split(y, VAL_FRACTION, 0 if config.seed is None else config.seed)
        val = _subset(train, va, f"{VAL_FRACTION:.0%} of {train.source}")
        train, y_train, y_val = _subset(train, tr, train.source), y[tr], y[va]
        notes.append(f"no validation file: holding out a stratified {len(va)} of {len(tr) + len(va)} training "
                     "examples")
    else:
        y_train, y_val = y, enc.encode(val.y, val.source, val.rows)
    if test is not None:
        enc.encode(test.y, test.source, test.rows)  # unknown labels fail now, not after training
    return Splits(train.kind, enc.labels, train, y_train, val, y_val, test, notes)


def _word_counts(texts: list[str]) -> list[int]:
    """Token counts under TextVectorization's default standardization (lower case, punctuation stripped)."""
    import re

    strip = re.compile(r"[!\"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~']")
    return [len(strip.sub("", t.lower()).split()) for t in texts]


# -- step 3: hyperparameters, checked once -----------------------------------------------------------------------
def resolve_hyperparameters(arch: Any, overrides: dict[str, Any], splits: Splits, config: TrainConfig,
                            notes: list[str]) -> Any:
    """The architecture's defaults, the user's overrides, and what the data sets (input mode, sequence length,
    feature count), validated against the schema in one pass."""
    overrides = dict(overrides)
    if splits.kind == "text":
        overrides["input"] = "tokens"
        if config.seq_len is not None:
            overrides["seq_len"] = config.seq_len
        elif "seq_len" not in overrides:
            cap = arch.defaults.get("seq_len") or SEQ_LEN_CAP
            overrides["seq_len"] = choose_seq_len(_word_counts(splits.train.x), cap)
            notes.append(f"seq_len {overrides['seq_len']} (99th percentile of training token counts, capped at "
                         f"{cap}); override with --seq-len")
    else:
        overrides.update(input="features", num_features=int(splits.train.x[0].shape[1]))
        overrides.setdefault("seq_len", config.seq_len)  # None: variable length, padding masked
    return arch.hyperparameters(**overrides)


# -- step 4: TensorFlow, inputs and the network ------------------------------------------------------------------
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


def make_tokenizer(splits: Splits, hp: Any) -> Any:
    """A TextVectorization adapted to the training texts (None for features)."""
    if splits.kind != "text":
        return None
    import keras

    tokenizer = keras.layers.TextVectorization(max_tokens=hp.vocab_size, output_sequence_length=hp.seq_len,
                                               name="tokenizer")
    tokenizer.adapt(np.array(splits.train.x, dtype=object))
    return tokenizer


def encode(x: list, tokenizer: Any, hp: Any) -> np.ndarray:
    """Token ids (text) or right-padded float arrays (features) for the network."""
    if tokenizer is not None:
        return np.asarray(tokenizer(np.array(x, dtype=object)))
    return pad_features(x, hp.seq_len)  # seq_len None: pad to this set's longest, the model masks it


def build_network(arch: Any, hp: Any, splits: Splits, bucket: bool, strategy: Any) -> tuple[Any, ModelSpec]:
    """The compiled network and the spec of the model the run saves. With ``bucket`` the network takes any
    length (batches are cut to their longest row); the saved tokenizer still pads to ``seq_len``."""
    from .builder import build_model

    network_hp = hp.replace(seq_len=None) if bucket else hp
    if strategy is not None:
        with strategy.scope():
            network = build_model(arch, splits.num_classes, network_hp)
    else:
        network = build_model(arch, splits.num_classes, network_hp)
    spec = ModelSpec(
        architecture=arch.preset_of or arch.name, name=arch.name, plugin=arch.plugin, package=arch.package,
        version=arch.version, kind=splits.kind, num_classes=splits.num_classes, hyperparameters=dict(hp),
        parts=("tokenizer", "network") if splits.kind == "text" else (),
        trim=network_hp.seq_len is None and arch.masks_padding, seq_len=hp.seq_len,
        num_features=hp.get("num_features"), custom_objects=tuple(getattr(arch, "custom_objects", ()) or ()))
    return network, spec


def assemble(network: Any, tokenizer: Any, name: str) -> Any:
    """The model a run saves: raw strings in for text (tokenizer, then network), the network itself otherwise."""
    if tokenizer is None:
        return network
    import keras

    raw = keras.Input(shape=(1,), dtype="string", name="text")
    return keras.Model(raw, network(tokenizer(raw)), name=f"{name}_classifier")


# -- step 5: fit -------------------------------------------------------------------------------------------------
def _class_weights(config: TrainConfig, y: np.ndarray, num_classes: int) -> dict[int, float] | None:
    if config.class_weight != "balanced":
        return None
    counts = np.bincount(y, minlength=num_classes)
    return {i: float(len(y) / (num_classes * c)) for i, c in enumerate(counts) if c}


def fit(network: Any, batches: Any, validation: tuple, config: TrainConfig, run_dir: RunDir, callbacks: list,
        class_weight: dict | None, verbose: int | str, notes: list[str]) -> dict[str, Any]:
    """Train on ``batches`` (:class:`zoo.fitting.EpochBatches`) with a checkpoint every epoch, resuming from the
    latest one if there is one; returns the loop's state (history, best epoch, epochs run)."""
    from .fitting import EpochLoop

    loop = EpochLoop(network, run_dir, config.patience, config.lr_decay)
    done = loop.resume()
    if done:
        notes.append(f"resumed after epoch {done}")
    if done < config.epochs and not loop.stopped and config.distribute == "multiworker":
        from .fitting import fit_multiworker

        fit_multiworker(network, batches, validation, config.epochs, done, [loop.callback(), *callbacks],
                        class_weight)
    elif done < config.epochs and not loop.stopped:
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        network.fit(batches.dataset(first_epoch=done), validation_data=validation, epochs=config.epochs,
                    initial_epoch=done, class_weight=class_weight, callbacks=[loop.callback(), *callbacks],
                    shuffle=False, verbose=verbose)  # EpochBatches orders the rows
    else:
        loop.restore_best()
    return loop.state


# -- step 6: evaluate and save -----------------------------------------------------------------------------------
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
        hp = resolve_hyperparameters(arch, overrides, splits, config, notes)
        return _train_network(config, arch, hp, splits, run_dir, chief, notes, start, verbose)


def _train_network(config: TrainConfig, arch: Any, hp: Any, splits: Splits, run_dir: RunDir, chief: bool,
                   notes: list[str], start: float, verbose: int | str) -> Run:
    _seed(config.seed)
    strategy = make_strategy(config.distribute)  # before any other TensorFlow op (multi-worker needs that)
    tokenizer = make_tokenizer(splits, hp)
    # length bucketing needs a network that takes any length and masks its padding
    bucket = config.bucket and tokenizer is not None and strategy is None and arch.masks_padding
    network, spec = build_network(arch, hp, splits, bucket, strategy)
    from .fitting import EpochBatches

    batches = EpochBatches(encode(splits.train.x, tokenizer, hp), targets(splits.y_train, splits.num_classes,
                                                                          hp.labels),
                           config.batch_size, config.seed, bucket, config.token_dropout if tokenizer else 0.0)
    validation = (encode(splits.val.x, tokenizer, hp), targets(splits.y_val, splits.num_classes, hp.labels))
    state = fit(network, batches, validation, config, run_dir, _plugin_callbacks(config, run_dir, chief),
                _class_weights(config, splits.y_train, splits.num_classes), verbose, notes)
    classifier = Classifier(assemble(network, tokenizer, arch.name), splits.labels, spec)
    if not chief:
        return Run(None, arch.name, dict(hp), splits.labels, {}, state["history"], classifier, notes)
    metrics = evaluate_run(classifier, splits, state, time.perf_counter() - start)
    data = {name: {"source": ds.source, "examples": len(ds)} for name, ds in
            (("train", splits.train), ("val", splits.val), ("test", splits.test)) if ds is not None}
    record = RunRecord(config, spec, data=data, notes=notes, versions=versions(),
                       replicas=strategy.num_replicas_in_sync if strategy is not None else 1, bucket=bucket,
                       epochs_run=state["epoch"])
    classifier.record = record
    save_run(run_dir, classifier, record, metrics, state["history"])
    out = run_dir.publish()
    return Run(out, arch.name, dict(hp), splits.labels, metrics, state["history"], classifier, notes, record)


def _plugin_callbacks(config: TrainConfig, run_dir: RunDir, chief: bool) -> list:
    """The training callbacks plugins provide, by the names in ``config.callbacks``."""
    if not config.callbacks:
        return []
    from .registry import default_registry

    registry = default_registry()
    if not hasattr(registry, "make_callbacks"):
        raise ZooError("this zoo has no training-callback plugins.")
    from .callbacks import CallbackContext

    context = CallbackContext(run_dir=run_dir.staging, config={"train": config.to_dict()},
                              architecture=config.architecture, seed=config.seed, is_chief=chief)
    return registry.make_callbacks(list(config.callbacks), context)


__all__ = ["Run", "Splits", "train", "train_run", "versions"]
