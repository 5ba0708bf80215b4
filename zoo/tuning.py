"""``zoo tune``: hyperparameter search with KerasTuner over the ranges each architecture declares.

The searchable hyperparameters are those with a ``search`` entry in the catalog (a list of values, or a mapping
with ``min``, ``max`` and optionally ``step`` or ``log``). The best values are written as a preset YAML file
that ``zoo train NAME --preset FILE`` accepts.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import defaults
from .errors import ZooError
from .training import DataOptions, prepare_data

STRATEGIES = ("random", "grid", "hyperband")
FROM_DATA = ("input", "num_features", "seq_len")
TOKENS_ONLY = ("vocab_size", "embed_dim")


@dataclass
class TuneResult:
    best: dict[str, Any]
    best_score: float
    trials: int
    out: Path
    preset: str


def search_space(arch: Any, fixed: dict[str, Any], kind: str) -> dict[str, Any]:
    """The catalog's ``search`` entries the tuner explores, minus values fixed by the user or set by the data.

    >>> import zoo
    >>> sorted(search_space(zoo.get("bilstm"), {"units": 32}, "text"))
    ['embed_dim', 'learning_rate', 'vocab_size']
    """
    space = {}
    for name, param in arch.schema.items():
        if param.search is None or name in fixed or name in FROM_DATA:
            continue
        if kind == "features" and name in TOKENS_ONLY:
            continue
        space[name] = param
    return space


def _define(hp: Any, param: Any) -> Any:
    s = param.search
    if isinstance(s, list):
        if param.type == "list[int]":  # KerasTuner choices are scalars: encode lists as "256,128"
            return [int(v) for v in hp.Choice(param.name, [",".join(map(str, v)) for v in s]).split(",")]
        return hp.Choice(param.name, s)
    if param.type == "int":
        return hp.Int(param.name, int(s["min"]), int(s["max"]), step=int(s.get("step", 1)),
                      sampling="log" if s.get("log") else "linear")
    return hp.Float(param.name, float(s["min"]), float(s["max"]), step=s.get("step"),
                    sampling="log" if s.get("log") else "linear")


def tune(
    architecture: str,
    data: Any,
    *,
    val: Any = None,
    trials: int = 10,
    strategy: str = "random",
    epochs: int = 5,
    batch_size: int = defaults.BATCH_SIZE,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    out: str | Path = "preset.yaml",
    data_options: DataOptions | None = None,
) -> TuneResult:
    """Search hyperparameters on ``data`` (validation: ``val`` or a stratified 10%) and write the best preset."""
    from .registry import default_registry

    if strategy not in STRATEGIES:
        raise ZooError(f"Unknown search strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
    if trials < 1 or epochs < 1:
        raise ZooError("--trials and --epochs must be positive integers.")
    try:
        import keras_tuner as kt
    except ImportError:
        raise ZooError("zoo tune needs KerasTuner: pip install 'keras-zoo[tune]' (or keras-tuner).") from None
    arch = default_registry().get(architecture)
    fixed = dict(overrides or {})
    arch.hyperparameters(**fixed)
    prep = prepare_data(arch, data, val, None, data_options or DataOptions(), seed, None, fixed)
    space = search_space(arch, fixed, prep.train_ds.kind)
    if not space:
        raise ZooError(f"'{arch.name}' declares nothing to search (no `search` entries left to explore).")

    import keras

    keras.utils.set_random_seed(seed)
    max_vocab = max([*(arch.schema["vocab_size"].search or []), prep.hp.vocab_size]) \
        if "vocab_size" in space else None
    vectorizer = prep.make_vectorizer(vocab_size=max_vocab)
    xt, xv = prep.encode(prep.x_train, vectorizer), prep.encode(prep.x_val, vectorizer)
    n = prep.num_classes
    yt, yv = prep.y_train, prep.y_val
    labels_mode = prep.hp.labels
    if labels_mode == "categorical":
        yt, yv = np.eye(n, dtype="float32")[yt], np.eye(n, dtype="float32")[yv]

    class HyperModel(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            chosen = {name: _define(hp, p) for name, p in space.items()}
            return arch.build(n, **prep.overrides, **chosen)

        def fit(self, hp: Any, model: Any, x: Any, y: Any, validation_data: Any, **kw: Any) -> Any:
            if "vocab_size" in space:  # ids past this trial's vocabulary become the OOV id, as a smaller vocab would
                v = hp.get("vocab_size")
                x = np.where(x >= v, 1, x)
                validation_data = (np.where(validation_data[0] >= v, 1, validation_data[0]), validation_data[1])
            return model.fit(x, y, validation_data=validation_data, **kw)

    with tempfile.TemporaryDirectory(prefix="zoo-tune-") as tmp:
        common = dict(objective="val_loss", directory=tmp, project_name=arch.name, seed=seed, overwrite=True)
        if strategy == "random":
            tuner = kt.RandomSearch(HyperModel(), max_trials=trials, **common)
        elif strategy == "grid":
            tuner = kt.GridSearch(HyperModel(), max_trials=trials, **common)
        else:
            tuner = kt.Hyperband(HyperModel(), max_epochs=epochs, factor=3, hyperband_iterations=1, **common)
        tuner.search(xt, yt, validation_data=(xv, yv), epochs=epochs, batch_size=batch_size, verbose=0)
        best_hp = tuner.get_best_hyperparameters(1)[0]
        done = [t for t in tuner.oracle.trials.values() if t.score is not None]
        best_trial = min(done, key=lambda t: t.score)
    best = {name: _define(best_hp, p) for name, p in space.items()}
    best = {k: (v.item() if hasattr(v, "item") else v) for k, v in best.items()}
    hyperparameters = {**{k: v for k, v in fixed.items()}, **best}

    import yaml

    out = Path(out)
    preset = f"{arch.name}-tuned"
    doc = {"presets": {preset: {
        "architecture": arch.preset_of or arch.name,
        "summary": f"zoo tune ({strategy}, {len(done)} trials) on {prep.train_ds.source}: "
                   f"val_loss {best_trial.score:.4f}",
        "hyperparameters": hyperparameters,
    }}}
    tmp_out = out.with_name(out.name + ".tmp")
    tmp_out.write_text("# Written by `zoo tune`; use with `zoo train NAME --preset FILE`.\n"
                       + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    os.replace(tmp_out, out)
    return TuneResult(best, float(best_trial.score), len(done), out, preset)


__all__ = ["TuneResult", "search_space", "tune"]
