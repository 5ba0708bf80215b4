"""Preparing a training run: the architecture and its presets, the data read and split, the hyperparameters
resolved from both (checked once), and the network's inputs encoded. Nothing here builds a network; only
:func:`encode_inputs` needs TensorFlow (for the tokenizer)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import recipe
from .config import TrainConfig
from .data import Dataset, LabelEncoder, load_dataset, pad_features, stratified_split
from .errors import DataError, ZooError


@dataclass
class Splits:
    """The training data read and split: raw inputs and class ids per split, the labels, and the sources."""

    kind: str  # "text" | "features"
    labels: list
    train: Dataset
    y_train: np.ndarray
    val: Dataset | None  # None: too little data to hold any out (see zoo.recipe)
    y_val: np.ndarray | None
    test: Dataset | None
    validation: str = "file"  # "file" | "split" | "none"
    notes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def evaluation(self) -> tuple[Dataset, str]:
        """The split the run reports: the test split, else validation, else (with neither) the training data."""
        if self.test is not None:
            return self.test, "test"
        return (self.val, "validation") if self.val is not None else (self.train, "training")


# -- the architecture ------------------------------------------------------------------------------------
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


# -- the data --------------------------------------------------------------------------------------------
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
    """Read the splits and encode the labels; with no validation file, hold out a stratified split (every class
    kept) when there is data enough to judge by, else keep every row for training (see :mod:`zoo.recipe`)."""
    notes: list[str] = []
    train, val, test = _read_splits(config, notes)
    notes += [ds.skipped_note() for ds in (train, val, test) if ds is not None and ds.skipped_note()]
    enc = LabelEncoder.fit(train.y, train.source)
    y = enc.encode(train.y, train.source, train.rows)
    validation, y_val = "file", None
    if val is None:
        fraction = config.val_split if config.val_split is not None else \
            recipe.VAL_FRACTION if len(train) >= recipe.SMALL_DATA else 0.0
        if fraction > 0:
            tr, va = stratified_split(y, fraction, 0 if config.seed is None else config.seed)
            val = _subset(train, va, f"{fraction:.0%} of {train.source}")
            train, y, y_val, validation = _subset(train, tr, train.source), y[tr], y[va], "split"
            notes.append(f"no validation file: holding out a stratified {len(va)} of {len(tr) + len(va)} training "
                         "examples")
        else:
            validation = "none"
            notes.append(f"{len(train)} training examples and no validation file: training on all of them for the "
                         f"whole budget, no early stopping (under {recipe.SMALL_DATA:,} a held-out split is too "
                         "small to judge by; --val-split 0.1 holds one out)")
    else:
        y_val = enc.encode(val.y, val.source, val.rows)
    if test is not None:
        enc.encode(test.y, test.source, test.rows)  # unknown labels fail now, not after training
    return Splits(train.kind, enc.labels, train, y, val, y_val, test, validation, notes)


# -- pretrained word vectors -----------------------------------------------------------------------------
def read_pretrained(config: TrainConfig, arch: Any, overrides: dict[str, Any], splits: Splits,
                    notes: list[str]) -> Any:
    """The vocabulary and vectors ``--embeddings`` gives (:mod:`zoo.vectors`), or None without it; checked against
    the data and the architecture before anything is trained."""
    if config.embeddings is None:
        return None
    if splits.kind != "text":
        raise ZooError(f"--embeddings gives word vectors, but {splits.train.source} holds numeric series; drop "
                       "--embeddings.")
    if "vocab_size" not in arch.schema:
        raise ZooError(f"--embeddings: '{arch.name}' has no vocab_size hyperparameter, so its Embedding cannot be "
                       "sized to the vectors' vocabulary; train it without --embeddings.")
    checked = {k: arch.schema[k].validate(overrides[k], arch.name) for k in ("vocab_size", "embed_dim")
               if k in overrides and k in arch.schema}  # the user's values, checked before they are used
    from . import vectors

    cap = checked.get("vocab_size", recipe.VOCAB_CAP + recipe.RESERVED_IDS) - recipe.RESERVED_IDS
    if cap < 1:
        raise _no_word_id(checked["vocab_size"])
    counts = Counter(w for t in splits.train.x for w in recipe.words(t))
    pretrained, read_notes = vectors.vocabulary(counts, config.embeddings, cap=cap)
    dim = checked.get("embed_dim")
    if dim is not None and dim != pretrained.dim:
        given = "--set embed_dim" if "embed_dim" in config.hyperparameters else "the preset's embed_dim"
        raise ZooError(f"{given}={dim} but the vectors in {config.embeddings} have {pretrained.dim} dimensions; "
                       "leave embed_dim unset with --embeddings (it follows the vectors) or pass vectors of "
                       f"{dim}.")
    notes += read_notes
    return pretrained


def _no_word_id(vocab_size: int) -> ZooError:
    return ZooError(f"vocab_size={vocab_size} leaves no id for a word (0 is padding, 1 the unknown word); set "
                    "vocab_size to 3 or more.")


# -- hyperparameters, checked once -----------------------------------------------------------------------
def resolve_hyperparameters(arch: Any, overrides: dict[str, Any], splits: Splits, config: TrainConfig,
                            notes: list[str], pretrained: Any = None) -> Any:
    """The architecture's defaults, the user's overrides, and what the data sets (input mode, feature count, and
    for text the sequence length and vocabulary: :mod:`zoo.recipe`; with ``pretrained`` vectors their vocabulary
    and dimension), validated against the schema in one pass."""
    overrides = dict(overrides)
    if pretrained is not None:
        overrides["vocab_size"] = pretrained.vocab_size
        if "embed_dim" in arch.schema and "embed_dim" not in overrides:
            overrides["embed_dim"] = pretrained.dim
            notes.append(f"embed_dim {pretrained.dim}: the dimension of the --embeddings vectors ({arch.name}'s "
                         f"catalog default is {arch.defaults.get('embed_dim')})")
    pooling = "pooling" not in overrides and "max" in (getattr(arch.schema.get("pooling"), "choices", None) or ())
    if splits.kind == "text":
        overrides["input"] = "tokens"
        if config.fold not in (None, 1):
            notes.append(f"--fold {config.fold} ignored: it folds numeric series, and this data is text")
        tokens = [recipe.words(t) for t in splits.train.x]
        if config.seq_len is not None:
            overrides["seq_len"] = config.seq_len
        elif "seq_len" not in overrides:
            lengths = [len(t) for t in tokens]
            overrides["seq_len"] = chosen = recipe.choose_seq_len(lengths)
            covered = np.mean(np.asarray(lengths) <= chosen)
            why = (f"covers {recipe.SEQ_LEN_QUANTILE:.0%} of the training texts (at most {recipe.SEQ_LEN_CAP}"
                   if covered >= recipe.SEQ_LEN_QUANTILE else
                   f"the cap; it covers {covered:.0%} of the training texts whole, the rest are cut to their first "
                   f"{chosen} tokens ({recipe.SEQ_LEN_QUANTILE:.0%} would need "
                   f"{recipe.covering_length(lengths)}")
            notes.append(f"seq_len {chosen}: {why}; {arch.name}'s catalog default is {arch.defaults.get('seq_len')}); "
                         "override with --seq-len")
        if "vocab_size" in arch.schema and "vocab_size" not in overrides:
            overrides["vocab_size"] = recipe.choose_vocab_size(Counter(w for t in tokens for w in t))
            notes.append(f"vocab_size {overrides['vocab_size']}: the words seen at least {recipe.MIN_WORD_COUNT} times "
                         f"in training (at most {recipe.VOCAB_CAP:,}) plus padding and unknown; override with --set "
                         "vocab_size=N")
        seq_len = overrides["seq_len"]  # set above: --seq-len, the user's, or the recipe's
        steps = recipe.covering_length([min(len(t), seq_len or len(t)) for t in tokens])
    else:
        size = _fold_size(splits, config)
        seq_len = overrides.get("seq_len", config.seq_len)  # None: variable length, padding masked
        width = int(splits.train.x[0].shape[1]) * (1 + bool(config.center))
        overrides.update(input="features", num_features=width * size,
                         seq_len=None if seq_len is None else -(-seq_len // size))
        if size > 1:
            longest = min(max(len(s) for s in splits.train.x), seq_len or np.inf)
            rounded = (f"; seq_len {seq_len} rounded up to {overrides['seq_len'] * size}, a multiple of the fold"
                       if seq_len and seq_len % size else "")
            notes.append(f"fold {size}: the network reads every {size} consecutive timesteps as one step of "
                         f"{size} x {width} features ({longest} timesteps -> {-(-longest // size)} steps; at most "
                         f"{recipe.MAX_STEPS} for {recipe.SEQ_LEN_QUANTILE:.0%} of the training rows){rounded}; the "
                         "saved model takes the series as given; --fold 1 turns it off")
        steps = -(-recipe.covering_length([min(len(s), seq_len or len(s)) for s in splits.train.x]) // size)
    if pooling and recipe.choose_pooling(steps) == "max":
        overrides["pooling"] = "max"
        notes.append(f"pooling max: the network reads {steps} steps for {recipe.SEQ_LEN_QUANTILE:.0%} of the training "
                     f"rows, more than {recipe.POOL_STEPS}, so the head reads each feature's maximum over them rather "
                     f"than the final states; --set pooling=last keeps {arch.name}'s catalog default")
    hp = arch.hyperparameters(**overrides)
    if splits.kind == "text" and hp.get("vocab_size") is not None and hp.vocab_size <= recipe.RESERVED_IDS:
        raise _no_word_id(hp.vocab_size)
    return hp


def _fold_size(splits: Splits, config: TrainConfig) -> int:
    """How many timesteps of a numeric series the network reads as one (:func:`zoo.recipe.choose_fold`), or the
    user's ``--fold``."""
    if config.fold is not None:
        return config.fold
    seq_len = config.seq_len if config.seq_len is not None else config.hyperparameters.get("seq_len")
    return recipe.choose_fold([min(len(s), seq_len or len(s)) for s in splits.train.x])  # as the network sees them


@dataclass
class Encoded:
    """The network's inputs, and the preprocessing the saved model applies before the network."""

    x_train: np.ndarray
    x_val: np.ndarray | None
    tokenizer: Any = None  # text: the adapted TextVectorization
    statistics: tuple | None = None  # numbers: the training (mean, std) per feature, or None (not standardized)
    fold: int = 1  # numbers: timesteps per network step (zoo.recipe.choose_fold)
    center_scale: np.ndarray | None = None  # numbers: the centred copy's scale (zoo.recipe.center), or None

    @property
    def center(self) -> bool:
        return self.center_scale is not None


def encode_inputs(splits: Splits, hp: Any, config: TrainConfig, notes: list[str],
                  vocabulary: tuple[str, ...] | None = None) -> Encoded:
    """Token ids from a tokenizer adapted to the training texts (or given ``vocabulary``: the pretrained vectors'),
    or right-padded features, standardized, with their centred copy beside them and folded as ``config`` says
    (``hp`` is the network's, from :func:`resolve_hyperparameters`: twice the features with the copy, ``fold``
    times with the fold, a ``fold``-th of the steps)."""
    if splits.kind == "text":
        import keras

        tokenizer = keras.layers.TextVectorization(max_tokens=hp.vocab_size, output_sequence_length=hp.seq_len,
                                                   vocabulary=None if vocabulary is None else list(vocabulary),
                                                   name="tokenizer")
        if vocabulary is None:
            tokenizer.adapt(np.array(splits.train.x, dtype=object))
        ids = [np.asarray(tokenizer(np.array(ds.x, dtype=object))) if ds is not None else None
               for ds in (splits.train, splits.val)]
        return Encoded(ids[0], ids[1], tokenizer=tokenizer)
    statistics = recipe.feature_statistics(splits.train.x) if config.standardize else None
    fold, center = _fold_size(splits, config), config.center
    if statistics is not None:
        notes.append("features standardized with the training mean and standard deviation of each (inside the "
                     "saved model, which takes raw units); --no-standardize turns it off")
    scaled = [None if ds is None else [(s - statistics[0]) / statistics[1] for s in ds.x] if statistics else ds.x
              for ds in (splits.train, splits.val)]
    scale = recipe.center_scale(scaled[0]) if center else None
    if center:
        notes.append("centred copy: beside each series the network reads it minus its own mean (per feature, scaled "
                     "by the training series' spread about their means; inside the saved model)")
    seq_len = None if hp.seq_len is None else hp.seq_len * fold
    x = []
    for seqs in scaled:
        padded = None if seqs is None else pad_features(seqs, seq_len)
        x.append(None if seqs is None else recipe.fold(recipe.center(padded, scale) if center else padded, fold))
    return Encoded(x[0], x[1], statistics=statistics, fold=fold, center_scale=scale)


__all__ = ["Encoded", "Splits", "encode_inputs", "prepare_data", "read_pretrained", "resolve_architecture",
           "resolve_hyperparameters"]
