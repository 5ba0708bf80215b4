"""``zoo train``: data in, a trained, evaluated and saved classifier out.

A run trains in ``OUT.partial/`` (checkpointed every epoch, so ``resume=True`` continues an interrupted run) and
is renamed to ``OUT`` only once every file is written: a directory named ``OUT`` is always a complete run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Classifier
from .data import (Dataset, LabelEncoder, bucket_width, choose_seq_len, load_dataset, pad_features,
                   stratified_split, token_lengths)
from . import defaults
from .defaults import SEQ_LEN_CAP, VAL_FRACTION
from .errors import DataError, ZooError
from .metrics import classification_metrics


@dataclass
class DataOptions:
    """How to read data files (see :func:`zoo.data.load_dataset`)."""

    text_column: str = "text"
    label_column: str = "label"
    sep: str | None = None
    encoding: str = "utf-8"
    format: str | None = None

    def read(self, path: str | Path) -> Dataset:
        return load_dataset(path, text_column=self.text_column, label_column=self.label_column, sep=self.sep,
                            encoding=self.encoding, format=self.format)


@dataclass
class Run:
    """The result of :func:`train`: where it was written, its metrics and history, and the classifier."""

    out: Path
    architecture: str
    hyperparameters: dict[str, Any]
    labels: list
    metrics: dict[str, Any]
    history: dict[str, list[float]]
    classifier: Classifier = field(repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> Any:
        return self.classifier.model

    def predict(self, inputs: Any, top_k: int = 1) -> list[dict[str, Any]]:
        return self.classifier.predict(inputs, top_k=top_k)


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _text_word_counts(texts: list[str]) -> list[int]:
    import re

    strip = re.compile(r"[!\"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~']")  # TextVectorization's default standardize
    return [len(strip.sub("", t.lower()).split()) for t in texts]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("keras-zoo", "keras", "tensorflow", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _load_splits(data, val, test, opts: DataOptions, notes: list[str]) -> tuple[Dataset, Dataset | None, Dataset | None]:
    if data is None:
        from .datasets import DEFAULT, load_builtin

        if val is not None or test is not None:
            raise ZooError("--val/--test need --data: the built-in dataset brings its own test split.")
        train_ds, test_ds = load_builtin(DEFAULT)
        notes.append(f"no --data given: training on the built-in '{DEFAULT}' dataset "
                     f"({len(train_ds)} train / {len(test_ds)} test)")
        return train_ds, None, test_ds
    train_ds = data if isinstance(data, Dataset) else opts.read(data)
    val_ds = val if isinstance(val, Dataset) or val is None else opts.read(val)
    test_ds = test if isinstance(test, Dataset) or test is None else opts.read(test)
    for ds in (val_ds, test_ds):
        if ds is not None and ds.kind != train_ds.kind:
            raise DataError(f"{ds.source} holds {ds.kind} but the training data {train_ds.source} holds "
                            f"{train_ds.kind}; use the same kind of data for every split.")
        if ds is not None and ds.kind == "features" and ds.x[0].shape[1] != train_ds.x[0].shape[1]:
            raise DataError(f"{ds.source} has {ds.x[0].shape[1]} features per timestep, the training data has "
                            f"{train_ds.x[0].shape[1]}.")
    return train_ds, val_ds, test_ds


def _strategy(distribute: str | None) -> Any:
    if distribute in (None, "none"):
        return None
    import tensorflow as tf

    if distribute == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        cpus = tf.config.list_logical_devices("CPU")
        devices = [d.name for d in gpus] or [d.name for d in cpus]
        return tf.distribute.MirroredStrategy(devices=devices)
    if distribute == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ZooError("--distribute multiworker reads the cluster from the TF_CONFIG environment variable, "
                           "which is not set; see https://www.tensorflow.org/guide/distributed_training.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ZooError(f"Unknown --distribute {distribute!r}; use none, mirrored or multiworker.")


@dataclass
class Prepared:
    """Training data read, labels encoded, split, and hyperparameters resolved from the data."""

    train_ds: Dataset
    val_ds: Dataset | None
    test_ds: Dataset | None
    encoder: LabelEncoder
    x_train: list
    y_train: np.ndarray
    x_val: list
    y_val: np.ndarray
    x_test: list | None
    y_test: np.ndarray | None
    overrides: dict[str, Any]
    hp: Any
    notes: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.encoder.labels)

    def make_vectorizer(self, vocab_size: int | None = None) -> Any:
        """A TextVectorization adapted to the training texts (None for features)."""
        if self.train_ds.kind != "text":
            return None
        import keras

        vectorizer = keras.layers.TextVectorization(max_tokens=vocab_size or self.hp.vocab_size,
                                                    output_sequence_length=self.hp.seq_len, name="tokenizer")
        vectorizer.adapt(np.array(self.x_train, dtype=object))
        return vectorizer

    def encode(self, x: list, vectorizer: Any) -> np.ndarray:
        """Token ids (text) or right-padded float arrays (features) for the network."""
        if vectorizer is not None:
            return np.asarray(vectorizer(np.array(x, dtype=object)))
        return pad_features(x, self.hp.seq_len)  # seq_len None: pad to this set's longest, the model masks it


def prepare_data(arch: Any, data: Any, val: Any, test: Any, opts: DataOptions, seed: int | None,
                 seq_len: int | None, overrides: dict[str, Any]) -> Prepared:
    """Read the splits, encode labels, hold out validation if needed, set input/seq_len from the data."""
    notes: list[str] = []
    overrides = dict(overrides)
    train_ds, val_ds, test_ds = _load_splits(data, val, test, opts, notes)
    notes += [ds.skipped_note() for ds in (train_ds, val_ds, test_ds) if ds is not None and ds.skipped_note()]
    enc = LabelEncoder.fit(train_ds.y, train_ds.source)
    y_train = enc.encode(train_ds.y, train_ds.source, train_ds.rows)
    x_train = list(train_ds.x)
    if val_ds is None:
        tr, va = stratified_split(y_train, VAL_FRACTION, 0 if seed is None else seed)
        x_val, y_val = [x_train[i] for i in va], y_train[va]
        x_train, y_train = [x_train[i] for i in tr], y_train[tr]
        notes.append(f"no validation file: holding out a stratified {len(va)} of {len(tr) + len(va)} training "
                     "examples")
    else:
        x_val, y_val = list(val_ds.x), enc.encode(val_ds.y, val_ds.source, val_ds.rows)
    x_test = y_test = None
    if test_ds is not None:
        x_test, y_test = list(test_ds.x), enc.encode(test_ds.y, test_ds.source, test_ds.rows)
    if train_ds.kind == "text":
        overrides["input"] = "tokens"
        if seq_len is not None:
            overrides["seq_len"] = seq_len
        elif "seq_len" not in overrides:
            cap = arch.defaults.get("seq_len") or SEQ_LEN_CAP
            overrides["seq_len"] = choose_seq_len(_text_word_counts(x_train), cap)
            notes.append(f"seq_len {overrides['seq_len']} (99th percentile of training token counts, capped at "
                         f"{cap}); override with --seq-len")
    else:
        overrides.update(input="features", num_features=int(x_train[0].shape[1]))
        overrides.setdefault("seq_len", seq_len)  # None: variable length, padding masked
    hp = arch.hyperparameters(**overrides)
    return Prepared(train_ds, val_ds, test_ds, enc, x_train, y_train, x_val, y_val, x_test, y_test, overrides, hp,
                    notes)


def _token_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                   pool: int = 16) -> list[np.ndarray]:
    """One epoch's batches of row indices, grouped by the rows' ``lengths``: shuffle, sort each pool of ``pool``
    batches by length, cut it into batches, shuffle the batch order. Rows of a batch then have similar lengths, so
    trimming the batch to its longest row (rounded up to 8) skips most of the padding the recurrence would step
    over."""
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _train_input(x: np.ndarray, y: np.ndarray, batch_size: int, token_dropout: float, seed: int | None,
                 bucket: bool = False, first_epoch: int = 0) -> Any:
    """A shuffled, prefetched tf.data pipeline.

    ``bucket`` (token input only): batches of similar-length rows, each trimmed to its longest row, so the network
    must take variable length. ``token_dropout``: each epoch replaces that fraction of the real tokens by the
    out-of-vocabulary id (word dropout: the model cannot lean on any single word).
    """
    import tensorflow as tf

    if bucket:
        epoch = [first_epoch]
        lengths = token_lengths(x)

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            # with a seed, a repeatable order per epoch (resume included)
            rng = np.random.default_rng(None if seed is None else [seed, epoch[0]])
            epoch[0] += 1
            for idx in _token_batches(lengths, batch_size, rng):
                width = bucket_width(lengths[idx].max(), x.shape[1])
                yield x[idx, :width], y[idx]

        ds = tf.data.Dataset.from_generator(batches, output_signature=(
            tf.TensorSpec((None, None), tf.as_dtype(x.dtype)), tf.TensorSpec((None, *y.shape[1:]), y.dtype)))
        ds = ds.apply(tf.data.experimental.assert_cardinality(-(-len(x) // batch_size)))
    else:
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    if token_dropout > 0:
        def drop(tokens: Any, labels: Any) -> Any:
            hit = tf.random.uniform(tf.shape(tokens), seed=seed) < token_dropout
            return tf.where(hit & (tokens > 1), tf.ones_like(tokens), tokens), labels  # 0 padding, 1 OOV

        ds = ds.map(drop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


class _RunState:
    """Per-epoch checkpoint + early stopping that survive an interruption (weights, history, patience)."""

    def __init__(self, directory: Path, patience: int, lr_decay: float):
        import keras

        self.dir = directory
        self.patience = patience
        self.lr_decay = lr_decay
        self.base_lr = 0.0
        self.state = {"epoch": 0, "history": {}, "best": None, "best_epoch": None, "wait": 0, "lr_scale": 1.0}
        outer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                outer.epoch_end(self.model, epoch, logs or {})

            def on_train_end(self, logs: dict | None = None) -> None:
                best = outer.dir / "best.weights.h5"
                if best.exists():
                    self.model.load_weights(best)

        self.callback = Callback()

    def attach(self, model: Any) -> None:
        """Remember the freshly compiled model's learning rate: decays scale this base rate."""
        self.base_lr = float(np.asarray(model.optimizer.learning_rate))

    def resume(self, model: Any) -> int:
        path = self.dir / "state.json"
        if not path.exists():
            return 0
        self.state = json.loads(path.read_text(encoding="utf-8"))
        model.load_weights(self.dir / "last.weights.h5")
        self._set_lr(model)
        return int(self.state["epoch"])

    def _set_lr(self, model: Any) -> None:
        # weights files carry the optimizer's learning rate too: always set it from the base rate and the scale
        model.optimizer.learning_rate.assign(self.base_lr * self.state.get("lr_scale", 1.0))

    def epoch_end(self, model: Any, epoch: int, logs: dict) -> None:
        s = self.state
        for k, v in logs.items():
            s["history"].setdefault(k, []).append(float(v))
        loss = float(logs.get("val_loss", logs.get("loss", np.inf)))
        tmp = self.dir / "tmp.weights.h5"
        if s["best"] is None or loss < s["best"]:
            s["best"], s["best_epoch"], s["wait"] = loss, epoch + 1, 0
            model.save_weights(tmp)
            os.replace(tmp, self.dir / "best.weights.h5")
        else:
            s["wait"] += 1
            if self.lr_decay < 1.0 and s["wait"] < self.patience:
                # a plateau: go back to the best weights and take smaller steps from there
                model.load_weights(self.dir / "best.weights.h5")
                s["lr_scale"] *= self.lr_decay
                self._set_lr(model)
        model.save_weights(tmp)
        os.replace(tmp, self.dir / "last.weights.h5")
        s["epoch"] = epoch + 1
        _write_json(self.dir / "state.json", s)  # written last: it marks the epoch as complete
        if s["wait"] >= self.patience:
            model.stop_training = True


def train(
    architecture: str,
    data: str | Path | Dataset | None = None,
    *,
    out: str | Path,
    val: str | Path | Dataset | None = None,
    test: str | Path | Dataset | None = None,
    epochs: int = defaults.EPOCHS,
    batch_size: int = defaults.BATCH_SIZE,
    seed: int | None = None,
    class_weight: str | None = None,
    overrides: dict[str, Any] | None = None,
    preset: str | Path | None = None,
    seq_len: int | None = None,
    patience: int = defaults.PATIENCE,
    lr_decay: float = defaults.LR_DECAY,
    token_dropout: float = defaults.TOKEN_DROPOUT,
    bucket: bool = True,
    resume: bool = False,
    overwrite: bool = False,
    distribute: str | None = None,
    data_options: DataOptions | None = None,
    verbose: int | str = "auto",
) -> Run:
    """Train ``architecture`` on ``data`` (a file or :class:`Dataset`; None = the built-in dataset) into ``out``.

    Returns a :class:`Run`. ``out`` receives model.keras, labels.json, config.json, metrics.json, history.json,
    training_curves.png and confusion_matrix.png. See the README for every option.
    """
    from .registry import default_registry

    start = time.perf_counter()
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    if epochs < 1 or batch_size < 1 or patience < 1:
        raise ZooError("epochs, batch_size and patience must be positive integers.")
    if not 0 <= token_dropout < 1:
        raise ZooError(f"token_dropout must be in [0, 1), got {token_dropout}.")
    if not 0 < lr_decay <= 1:
        raise ZooError(f"lr_decay must be in (0, 1] (1 disables it), got {lr_decay}.")
    if class_weight not in (None, "balanced"):
        raise ZooError(f"Unknown class weighting {class_weight!r}; the option is 'balanced'.")
    if out.exists() and not overwrite:
        raise ZooError(f"{out} already exists; choose another --out or pass --overwrite to replace it.")
    if partial.exists() and not resume:
        raise ZooError(f"An interrupted run is in {partial}: pass --resume to continue it, or delete it.")
    if resume and not (partial / "state.json").exists():
        raise ZooError(f"Nothing to resume: {partial} has no checkpoint. Run without --resume.")

    # -- architecture and hyperparameters (checked before any data is read or TensorFlow imported)
    arch = default_registry().get(architecture)
    hp_overrides: dict[str, Any] = {}
    if preset is not None:
        from .catalog import load_presets

        presets = load_presets(preset)
        chosen = [p for p in presets.values() if arch.name in (p.name, p.architecture)] or list(presets.values())
        if len(chosen) != 1:
            raise ZooError(f"{preset} has {len(presets)} presets; pass one of them as the architecture name.")
        if chosen[0].architecture != (arch.preset_of or arch.name):
            raise ZooError(f"{preset}: preset '{chosen[0].name}' is for '{chosen[0].architecture}', not "
                           f"'{arch.name}'.")
        hp_overrides.update(chosen[0].hyperparameters)
    hp_overrides.update(overrides or {})
    for key in ("input", "num_features"):
        if key in hp_overrides:
            raise ZooError(f"'{key}' is set from the data (text -> tokens, .npz -> features); do not set it.")
    arch.hyperparameters(**hp_overrides)  # validate early

    # -- data
    prep = prepare_data(arch, data, val, test, data_options or DataOptions(), seed, seq_len, hp_overrides)
    notes, enc, hp, num_classes = prep.notes, prep.encoder, prep.hp, prep.num_classes
    train_ds, val_ds, test_ds = prep.train_ds, prep.val_ds, prep.test_ds
    opts = data_options or DataOptions()
    config = {
        "architecture": arch.preset_of or arch.name, "name": arch.name, "plugin": arch.plugin,
        "package": f"{arch.package} {arch.version}", "kind": train_ds.kind, "num_classes": num_classes,
        "hyperparameters": dict(hp), "overrides": prep.overrides,
        "data": {"train": train_ds.source, "val": val_ds.source if val_ds else None,
                 "test": test_ds.source if test_ds else None, **vars(opts)},
        "epochs": epochs, "batch_size": batch_size, "seed": seed, "class_weight": class_weight,
        "patience": patience, "lr_decay": lr_decay, "token_dropout": token_dropout, "distribute": distribute,
        "versions": _versions(),
    }
    if resume:
        old = json.loads((partial / "config.json").read_text(encoding="utf-8"))
        changed = [k for k in ("architecture", "hyperparameters", "data", "batch_size", "seed") if old.get(k) != config[k]]
        if changed:
            raise ZooError(f"--resume with different settings than the interrupted run ({', '.join(changed)}); "
                           f"use the same command, or delete {partial} to start over.")

    # -- TensorFlow from here on
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
        try:
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        except (ImportError, AttributeError):
            pass
    partial.mkdir(parents=True, exist_ok=True)
    _write_json(partial / "config.json", config)
    _write_json(partial / "labels.json", enc.labels)

    vectorizer = prep.make_vectorizer()
    xt, xv = prep.encode(prep.x_train, vectorizer), prep.encode(prep.x_val, vectorizer)
    y_train, y_val = prep.y_train, prep.y_val

    def targets(y: np.ndarray) -> np.ndarray:
        return np.eye(num_classes, dtype="float32")[y] if hp.labels == "categorical" else y

    weights = None
    if class_weight == "balanced":
        counts = np.bincount(y_train, minlength=num_classes)
        weights = {i: float(len(y_train) / (num_classes * c)) for i, c in enumerate(counts) if c}

    strategy = _strategy(distribute)
    config["replicas"] = strategy.num_replicas_in_sync if strategy is not None else 1
    # length bucketing needs a network that takes any length (the saved model still gets seq_len-long tokens)
    bucket = bool(bucket and vectorizer is not None and strategy is None and "variable_length" not in arch.waivers)
    config["bucket"] = bucket
    build_overrides = {**prep.overrides, "seq_len": None} if bucket else prep.overrides
    # prediction may sort rows by length and trim each batch to its longest row: only for a variable-length network
    # whose output does not depend on padding (its plugin does not waive the variable_length check)
    config["trim"] = build_overrides.get("seq_len") is None and "variable_length" not in arch.waivers
    if strategy is not None:
        with strategy.scope():
            network = arch.build(num_classes, **build_overrides)
    else:
        network = arch.build(num_classes, **build_overrides)

    state = _RunState(partial, patience, lr_decay)
    state.attach(network)
    initial_epoch = state.resume(network) if resume else 0
    if resume:
        notes.append(f"resumed after epoch {initial_epoch}")
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    if initial_epoch < epochs and state.state["wait"] < patience:
        train_input = _train_input(xt, targets(y_train), batch_size, token_dropout if vectorizer else 0.0,
                                   seed, bucket=bucket, first_epoch=initial_epoch)
        network.fit(train_input, validation_data=(xv, targets(y_val)), epochs=epochs, initial_epoch=initial_epoch,
                    shuffle=False, class_weight=weights, callbacks=[state.callback], verbose=verbose)
    elif (partial / "best.weights.h5").exists():
        network.load_weights(partial / "best.weights.h5")

    # -- evaluate on the test split (or validation when there is none)
    if test_ds is not None:
        x_eval, y_eval, split = prep.encode(prep.x_test, vectorizer), prep.y_test, "test"
    else:
        x_eval, y_eval, split = xv, y_val, "validation"
    probs = network.predict(x_eval, batch_size=256, verbose=0)
    metrics = classification_metrics(y_eval, probs.argmax(axis=1), enc.labels, split)
    metrics["source"] = test_ds.source if test_ds is not None else f"{VAL_FRACTION:.0%} of {train_ds.source}"
    metrics["best_epoch"] = state.state["best_epoch"]
    metrics["epochs_run"] = state.state["epoch"]
    metrics["train_seconds"] = round(time.perf_counter() - start, 1)

    # -- the end-to-end model: raw strings in for text, padded features in otherwise
    if vectorizer is not None:
        raw = keras.Input(shape=(1,), dtype="string", name="text")
        model = keras.Model(raw, network(vectorizer(raw)), name=f"{arch.name}_classifier")
    else:
        model = network
    model.save(partial / "model.keras")
    history = state.state["history"]
    config["epochs_run"] = state.state["epoch"]
    _write_json(partial / "config.json", config)
    _write_json(partial / "history.json", history)
    _write_json(partial / "metrics.json", metrics)
    from .plots import plot_confusion_matrix, plot_history

    plot_history(history, partial / "training_curves.png", title=f"{arch.name}: training curves")
    plot_confusion_matrix(metrics["confusion_matrix"], enc.labels, partial / "confusion_matrix.png",
                          title=f"{arch.name} on {split}: accuracy {metrics['accuracy']:.3f}")
    for name in ("state.json", "last.weights.h5", "best.weights.h5"):
        (partial / name).unlink(missing_ok=True)

    # -- publish atomically: OUT appears only complete
    if out.exists():
        trash = out.with_name(out.name + ".old")
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(out, trash)
        os.replace(partial, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(partial, out)
    classifier = Classifier(model, enc.labels, config)
    return Run(out, arch.name, dict(hp), enc.labels, metrics, history, classifier, notes)
