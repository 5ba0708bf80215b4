"""The typed training configuration: every training option once, with its type, default, help and check.

:class:`TrainConfig` is the single description of a training run. The ``zoo train`` flags are generated from its
fields (:func:`add_arguments`), ``zoo.train(...)`` takes the same names as keywords, and ``config.json`` stores
:meth:`TrainConfig.to_dict`, which :meth:`TrainConfig.from_dict` reads back into the same type (``--resume``
compares the two as objects). :class:`DataOptions` is the same for how data files are read.

Nothing here imports TensorFlow.

>>> config = TrainConfig("bilstm", data="train.txt", epochs=5)
>>> config.epochs, config.batch_size, config.schedule, config.data_options.encoding
(5, 32, 'auto', 'utf-8')
>>> TrainConfig.from_dict(config.to_dict()) == config
True
>>> TrainConfig("bilstm", epochs=0)
Traceback (most recent call last):
...
zoo.errors.ZooError: epochs must be an integer >= 1, got 0 (--epochs).
"""

from __future__ import annotations

import argparse
import dataclasses
import numbers
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import defaults
from .errors import ZooError
from .rundir import STAGING_SUFFIX

FORMATS = ("csv", "tsv", "jsonl", "lines", "npz")  # zoo.data.READERS has a reader for each
DISTRIBUTE = ("none", "mirrored", "multiworker")
CLASS_WEIGHTS = ("balanced",)
MAX_SEED = 2**32 - 1  # NumPy's and Keras's seed range


# -- field checks: each returns None or what is wrong ------------------------------------------------------------
def _int(lo: int, hi: int | None = None, nullable: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if v is None and nullable:
            return None
        ok = isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)
        return None if ok else f"an integer >= {lo}" + (f" and <= {hi}" if hi is not None else "")
    return check


def _float(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool)
        ok = ok and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
        return None if ok else f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    return check


def _float_or_none(lo: float, hi: float) -> Callable[[Any], str | None]:
    inner = _float(lo, hi)

    def check(v: Any) -> str | None:
        return None if v is None else inner(v)
    return check


def _choice(choices: Iterable[str], nullable: bool = False) -> Callable[[Any], str | None]:
    choices = tuple(choices)

    def check(v: Any) -> str | None:
        return None if v in choices or (v is None and nullable) else "one of " + ", ".join(choices)
    return check


def _text(nullable: bool = False, nonempty: bool = True) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if v is None and nullable:
            return None
        ok = isinstance(v, (str, os.PathLike)) and (not nonempty or bool(str(v)))
        return None if ok else "a non-empty string"
    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def option(default: Any = None, help: str = "", *, check: Callable[[Any], str | None] | None = None,
           flag: str | None = None, metavar: str | None = None, cli: bool = True, factory: Any = None,
           parse: Callable[[str], Any] | None = None, choices: Iterable[str] | None = None,
           negative: str | None = None) -> Any:
    """A dataclass field with what the CLI and the validation need in its metadata."""
    meta = {"help": help, "check": check, "flag": flag, "metavar": metavar, "cli": cli, "parse": parse,
            "choices": tuple(choices) if choices is not None else None, "negative": negative}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _flag(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _validate(obj: Any) -> None:
    for f in dataclasses.fields(obj):
        check = f.metadata.get("check")
        value = getattr(obj, f.name)
        problem = check(value) if check else None
        if problem:
            where = f" ({_flag(f)})" if f.metadata.get("cli", True) else ""
            raise ZooError(f"{f.name} must be {problem}, got {value!r}{where}.")


def _from_dict(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ZooError(f"{where}: expected a mapping of {cls.__name__} fields, got {type(data).__name__}.")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ZooError(f"{where}: unknown {cls.__name__} field(s) {', '.join(unknown)}; "
                       f"known: {', '.join(sorted(names))}.")
    return cls(**data)


@dataclass(frozen=True)
class DataOptions:
    """How data files are read (see :func:`zoo.data.load_dataset`).

    >>> DataOptions(sep="")
    Traceback (most recent call last):
    ...
    zoo.errors.ZooError: sep must be a non-empty string, got '' (--sep).
    """

    text_column: str = option("text", "CSV/TSV/JSONL column holding the text", check=_text())
    label_column: str = option("label", "CSV/TSV/JSONL column holding the label", check=_text())
    sep: str | None = option(None, "separator of TEXT<SEP>LABEL lines (default: detected among tab ; | ,)",
                             check=_text(nullable=True))
    encoding: str = option("utf-8", "text encoding of the data files, e.g. latin-1", check=_text())
    format: str | None = option(None, "the file format, instead of the one its extension implies",
                                check=_choice(FORMATS, nullable=True), choices=FORMATS)
    allow_pickle: bool = option(False, "read .npz object arrays, which NumPy stores as pickles: a pickle can run "
                                       "any code, so only for files you trust", check=_bool)

    def __post_init__(self) -> None:
        _validate(self)
        if self.text_column == self.label_column:
            raise ZooError(f"--text-column and --label-column are both {self.text_column!r}: the model would "
                           "learn the label from itself; name two different columns.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "data options") -> "DataOptions":
        return _from_dict(cls, data, where)


def _hyperparameters(v: Any) -> str | None:
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return None
    return "a mapping of hyperparameter names to values"


def _names(v: Any) -> str | None:
    return None if isinstance(v, tuple) and all(isinstance(x, str) for x in v) else "a tuple of names"


@dataclass(frozen=True)
class TrainConfig:
    """Every option of a training run. ``zoo train`` flags, ``zoo.train`` keywords and ``config.json`` all come
    from these fields; values are checked on construction (a :class:`ZooError` names the field and its flag)."""

    architecture: str = option(None, "architecture, alias or preset", check=_text(), cli=False)
    data: str | None = option(None, "training file (.csv .tsv .jsonl .npz or TEXT<SEP>LABEL lines); none: the "
                                    "built-in Japanese Vowels data set", check=_text(nullable=True), metavar="FILE")
    val: str | None = option(None, "validation file (default: a stratified 10%% of --data)",
                             check=_text(nullable=True), metavar="FILE")
    test: str | None = option(None, "test file; metrics.json reports it when given", check=_text(nullable=True),
                              metavar="FILE")
    out: str | None = option(None, "run directory to create (default: runs/NAME, numbered if taken)",
                             check=_text(nullable=True), metavar="DIR")
    steps: int | None = option(None, "optimizer steps to train for, rounded up to whole epochs (default: from the "
                                     "data; see the README's training recipe)", check=_int(1, nullable=True))
    epochs: int | None = option(None, "epochs to train for (default: the step budget's); an epoch is a validation "
                                      "and a checkpoint, at least 32 steps", check=_int(1, nullable=True))
    batch_size: int = option(defaults.BATCH_SIZE, "training batch size", check=_int(1))
    seed: int | None = option(None, "make the run repeatable (on a CPU)", check=_int(0, MAX_SEED, nullable=True))
    class_weight: str | None = option(None, "weight classes inversely to their frequency",
                                      check=_choice(CLASS_WEIGHTS, nullable=True), choices=CLASS_WEIGHTS)
    hyperparameters: dict = option(help="override a hyperparameter (repeatable)", check=_hyperparameters,
                                   flag="--set", metavar="KEY=VALUE", factory=dict)
    preset: str | None = option(None, "apply the hyperparameters of a preset file (zoo tune writes one)",
                                check=_text(nullable=True), metavar="FILE.yaml")
    seq_len: int | None = option(None, "timesteps per example (default: from the data's token lengths)",
                                 check=_int(1, nullable=True))
    patience: int | None = option(None, "epochs without a validation-loss improvement before stopping (default: "
                                        "1,000 steps' worth, at least 3)", check=_int(1, nullable=True))
    schedule: str = option("auto", "learning rate: plateau (on a validation plateau, back to the best weights "
                                   "and times --lr-decay, at most 3 times), cosine (warm-up, then cosine decay "
                                   "over the step budget), constant, or auto: plateau with validation data, cosine "
                                   "without", check=_choice(defaults.SCHEDULES), choices=defaults.SCHEDULES)
    lr_decay: float = option(defaults.LR_DECAY, "plateau schedule: scale the learning rate by this on a plateau "
                                                "(1 disables)", check=_float(0, 1, lo_open=True), metavar="FACTOR")
    ema: float = option(0.0, "keep a moving average of the weights with this momentum per step (0.99: about the "
                             "last 100 steps); validation, the best weights and the saved model then use the "
                             "average; 0 turns it off", check=_float(0, 0.9999), metavar="MOMENTUM")
    val_split: float | None = option(None, "fraction of --data held out for validation when there is no --val "
                                           "(default: 0.1, or none under 1,000 training rows: then the run trains on "
                                           "every row for the whole budget)", check=_float_or_none(0, 0.5),
                                     metavar="FRACTION")
    standardize: bool = option(True, "numeric features: shift and scale each feature by its training mean and "
                                     "standard deviation, inside the saved model", check=_bool,
                               negative="--no-standardize")
    center: bool = option(True, "numeric features: beside each series, give the network the series minus its own "
                                "mean (per feature, over its real steps), so a class told apart by shape rather "
                                "than level is learned from a copy without the level, inside the saved model",
                          check=_bool, negative="--no-center")
    fold: int | None = option(None, "numeric features: feed the network every FOLD consecutive timesteps as one "
                                    "(FOLD times the features), so a long series is fewer, wider steps (default: "
                                    "from the data, at most 64 steps for most rows; 1 turns it off)",
                              check=_int(1, 4096, nullable=True), metavar="FOLD")
    label_smoothing: float = option(defaults.LABEL_SMOOTHING, "train toward 1 - RATE on the true class and RATE "
                                                              "spread evenly over every class (label smoothing; the "
                                                              "loss stays categorical cross-entropy); 0 turns it off",
                                    check=_float(0, 1, hi_open=True), metavar="RATE")
    embeddings: str | None = option(None, "text: start the word embeddings from the pretrained vectors in FILE "
                                          "(GloVe's or word2vec's text format, .gz too; words the training texts "
                                          "lack join the vocabulary with their vectors); embed_dim follows the "
                                          "vectors", check=_text(nullable=True), metavar="FILE")
    token_dropout: float = option(defaults.TOKEN_DROPOUT, "text: replace this fraction of training tokens by the "
                                                          "unknown-word id each epoch (word dropout)",
                                  check=_float(0, 1, hi_open=True), metavar="RATE")
    chrono: int | None = option(None, "draw every LSTM layer's forget-gate and every GRU layer's update-gate "
                                      "biases for memories of 1 to STEPS steps (chrono initialization) instead of "
                                      "Keras's (default: from the data, where the rows are longer than 64 steps; 0 "
                                      "turns it off)",
                                check=_int(0, 1_000_000, nullable=True), metavar="STEPS")
    bucket: bool = option(True, "batch rows of similar length together, each batch cut to its longest row (a "
                                "variable-length network)", check=_bool, negative="--no-bucket")
    distribute: str = option("none", "tf.distribute strategy: mirrored (local GPUs or CPU devices) or "
                                     "multiworker (cluster from TF_CONFIG)", check=_choice(DISTRIBUTE),
                             choices=DISTRIBUTE)
    callbacks: tuple = option((), "training callbacks from plugins, by name", check=_names, cli=False)
    data_options: DataOptions = option(help="how data files are read", factory=DataOptions, cli=False)

    def __post_init__(self) -> None:
        # paths are kept as strings: JSON and comparisons
        for name in ("data", "val", "test", "out", "preset", "embeddings"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
        if isinstance(self.callbacks, list):
            object.__setattr__(self, "callbacks", tuple(self.callbacks))
        if isinstance(self.data_options, dict):
            object.__setattr__(self, "data_options", DataOptions.from_dict(self.data_options))
        _validate(self)
        if self.data is None and (self.val is not None or self.test is not None):
            raise ZooError("--val/--test need --data: the built-in data set brings its own test split.")
        for key in ("input", "num_features"):
            if key in self.hyperparameters:
                raise ZooError(f"'{key}' is set from the data (text -> tokens, .npz -> features); do not set it.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``config.json`` stores under ``train``)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["callbacks"] = list(self.callbacks)
        out["data_options"] = self.data_options.to_dict()
        out["hyperparameters"] = dict(self.hyperparameters)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "training config") -> "TrainConfig":
        return _from_dict(cls, data, where)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def differences(self, other: "TrainConfig", ignore: Iterable[str] = ()) -> list[str]:
        """The names of the fields (``data_options.*`` expanded) whose values differ from ``other``'s."""
        a, b = self.to_dict(), other.to_dict()
        a.update({f"data_options.{k}": v for k, v in a.pop("data_options").items()})
        b.update({f"data_options.{k}": v for k, v in b.pop("data_options").items()})
        return [k for k in a if k not in ignore and a[k] != b.get(k)]


def default_out(name: str, root: str = "runs") -> str:
    """``runs/NAME``, or ``runs/NAME-2``, ``-3``... when taken (finished or interrupted)."""
    base = os.path.join(root, name)
    out, i = base, 1
    while os.path.lexists(out) or os.path.lexists(out + STAGING_SUFFIX):
        i += 1
        out = f"{base}-{i}"
    return out


# -- the command line, generated from the fields -----------------------------------------------------------------
def _add_field(parser: Any, f: dataclasses.Field, dest: str) -> None:
    meta = f.metadata
    default = f.default if f.default is not dataclasses.MISSING else None
    help_text = meta["help"] + (f" (default: {default})" if default not in (None, (), {}) and
                                not isinstance(default, bool) else "")
    if meta.get("negative"):
        parser.add_argument(meta["negative"], dest=dest, action="store_false", default=argparse.SUPPRESS,
                            help=f"turn off (on by default): {meta['help']}")
        return
    if isinstance(default, bool):
        parser.add_argument(_flag(f), dest=dest, action="store_true", default=argparse.SUPPRESS, help=help_text)
        return
    kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS, "help": help_text,
                              "metavar": meta.get("metavar") or f.name.upper()}
    if meta.get("choices"):
        kwargs["choices"] = meta["choices"]
        kwargs.pop("metavar")
    if f.name == "hyperparameters":
        kwargs["action"] = "append"
    else:
        kwargs["type"] = {"int": int, "float": float}.get(str(f.type).split(" ")[0], str)
    parser.add_argument(_flag(f), **kwargs)


def add_arguments(parser: Any, cls: type, group_title: str | None = None, prefix: str = "",
                  exclude: Iterable[str] = ()) -> None:
    """Add one flag per CLI field of ``cls`` (a :class:`TrainConfig` or :class:`DataOptions`) to ``parser``,
    except the fields named in ``exclude``.

    Flags left out of a command line keep the dataclass default (argparse stores nothing for them).
    """
    target = parser.add_argument_group(group_title) if group_title else parser
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli", True) and f.name not in exclude:
            _add_field(target, f, prefix + f.name)


def data_options_from_args(args: argparse.Namespace, base: DataOptions | None = None) -> DataOptions:
    """The data options a command line gave, on top of ``base`` (default: the defaults)."""
    given = {f.name: getattr(args, "data." + f.name) for f in dataclasses.fields(DataOptions)
             if hasattr(args, "data." + f.name)}
    base = base or DataOptions()
    return dataclasses.replace(base, **given) if given else base


def train_options_from_args(args: argparse.Namespace, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The :class:`TrainConfig` fields a command line gave (``--set`` already parsed), data options included."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
              if f.metadata.get("cli", True) and hasattr(args, f.name)}
    if hasattr(args, "callbacks"):  # --callback NAME and the plugins' --NAME flags
        values["callbacks"] = tuple(dict.fromkeys(args.callbacks))
    return {**values, "hyperparameters": hyperparameters, "data_options": data_options_from_args(args)}


def train_config_from_args(args: argparse.Namespace, hyperparameters: dict[str, Any]) -> TrainConfig:
    """A :class:`TrainConfig` from ``zoo train``'s parsed arguments (``--set`` already parsed)."""
    return TrainConfig(args.name, **train_options_from_args(args, hyperparameters))


__all__ = ["DataOptions", "TrainConfig", "add_arguments", "data_options_from_args", "default_out",
           "train_config_from_args", "train_options_from_args"]
