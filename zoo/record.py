"""What a run records about itself in ``config.json``: the training config, and the model's structure.

:class:`ModelSpec` is the contract between the trainer that saves a run and the :class:`zoo.classifier.Classifier`
that loads it: the input kind, the class count, the hyperparameters the network was built with, and where each
part sits in ``model.keras`` (``parts``). A text run's ``model.keras`` is ``Model(text, network(tokenizer(text)))``:
its layers after the input are, in order, the ``TextVectorization`` tokenizer and the network (a nested
``keras.Model``); ``parts`` names them in that order, so nothing is found by layer names. ``parts == ()`` means the
saved model is the network itself.

:class:`RunRecord` is the whole file: the :class:`zoo.config.TrainConfig`, the :class:`ModelSpec`, the data it
saw, the notes the run printed and the package versions. Runs written before this format (``config.json``
without ``zoo_run``) are read too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .config import DataOptions, TrainConfig
from .errors import ZooError

RUN_FORMAT = 2


@dataclass(frozen=True)
class ModelSpec:
    """The saved model's structure and provenance.

    >>> spec = ModelSpec("bilstm", "bilstm", "bilstm", "keras-zoo", "0.1.0", "text", 6, {"units": 64},
    ...                  ("tokenizer", "network"), trim=True, seq_len=56)
    >>> ModelSpec.from_dict(spec.to_dict()) == spec
    True
    """

    architecture: str  # the architecture built (a preset's base architecture)
    name: str  # the name trained: the architecture, or the preset
    plugin: str
    package: str
    version: str
    kind: str  # "text" (raw strings in) | "features" (float sequences in)
    num_classes: int
    hyperparameters: dict
    parts: tuple = ()  # the layers of model.keras after its input, in order; () = the model is the network
    trim: bool = False  # prediction may sort rows by length and cut batches to their longest row
    seq_len: int | None = None  # the tokenizer's output length, or the features' padded length (None: any)
    num_features: int | None = None  # the raw series' features, before any fold
    fold: int = 1  # numbers: timesteps the network reads as one step (the model's Fold part)
    center: bool = False  # numbers: each series' copy minus its own mean beside it (the model's Center part)
    custom_objects: tuple = ()  # "module:Class" names the plugin declared for loading its layers

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["parts"], out["custom_objects"] = list(self.parts), list(self.custom_objects)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelSpec":
        data = dict(data)
        data["parts"] = tuple(data.get("parts", ()))
        data["custom_objects"] = tuple(data.get("custom_objects", ()))
        return cls(**data)


@dataclass
class RunRecord:
    """``config.json``: the training config, the model spec, data sources and sizes, notes, versions."""

    train: TrainConfig
    model: ModelSpec
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    replicas: int = 1
    bucket: bool = False
    epochs_run: int = 0
    recipe: dict[str, Any] = field(default_factory=dict)  # zoo.recipe.Recipe: what zoo train chose from the data

    def to_dict(self) -> dict[str, Any]:
        return {"zoo_run": RUN_FORMAT, "train": self.train.to_dict(), "model": self.model.to_dict(),
                "recipe": self.recipe, "data": self.data, "notes": self.notes, "versions": self.versions,
                "replicas": self.replicas, "bucket": self.bucket, "epochs_run": self.epochs_run}

    @classmethod
    def from_dict(cls, data: Any, where: str = "config.json") -> "RunRecord":
        if not isinstance(data, dict):
            raise ZooError(f"{where}: expected a JSON object.")
        if "zoo_run" not in data:
            return _from_format_1(data, where)
        if data["zoo_run"] != RUN_FORMAT:
            raise ZooError(f"{where}: written by a newer zoo (run format {data['zoo_run']}; this zoo reads "
                           f"{RUN_FORMAT}); upgrade zoo to use this run.")
        try:
            return cls(train=TrainConfig.from_dict(data["train"], f"{where}: train"),
                       model=ModelSpec.from_dict(data["model"]), data=data.get("data", {}),
                       notes=list(data.get("notes", [])), versions=data.get("versions", {}),
                       replicas=data.get("replicas", 1), bucket=data.get("bucket", False),
                       epochs_run=data.get("epochs_run", 0), recipe=data.get("recipe", {}))
        except (KeyError, TypeError) as e:
            raise ZooError(f"{where}: damaged ({type(e).__name__}: {e}); train the run again.") from None


def _from_format_1(data: dict[str, Any], where: str) -> RunRecord:
    """A run written before the typed config (config.json keys at the top level)."""
    try:
        package, _, version = str(data.get("package", "")).partition(" ")
        kind = data["kind"]
        hp = data["hyperparameters"]
        files = data.get("data", {})
        options = DataOptions(**{k: files[k] for k in ("text_column", "label_column", "sep", "encoding", "format")
                                 if k in files})
        train = TrainConfig(data["name"], data=files.get("train") if not str(files.get("train", "")).startswith(
            "builtin:") else None, val=files.get("val"), test=files.get("test"), epochs=data["epochs"],
            batch_size=data["batch_size"], seed=data.get("seed"), class_weight=data.get("class_weight"),
            patience=data["patience"], lr_decay=data["lr_decay"], token_dropout=data["token_dropout"],
            label_smoothing=0.0, chrono=0, data_options=options)
        model = ModelSpec(architecture=data["architecture"], name=data["name"], plugin=data["plugin"],
                          package=package, version=version, kind=kind, num_classes=data["num_classes"],
                          hyperparameters=hp, parts=("tokenizer", "network") if kind == "text" else (),
                          trim=data.get("trim", kind == "features"), seq_len=hp.get("seq_len"),
                          num_features=hp.get("num_features"))
    except (KeyError, TypeError, ZooError) as e:
        raise ZooError(f"{where}: a run from an older zoo that this version cannot read ({e}); train it again.") \
            from None
    return RunRecord(train, model, data=files, versions=data.get("versions", {}),
                     replicas=data.get("replicas", 1), bucket=data.get("bucket", False),
                     epochs_run=data.get("epochs_run", 0))


__all__ = ["ModelSpec", "RUN_FORMAT", "RunRecord"]
