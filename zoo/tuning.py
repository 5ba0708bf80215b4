"""``zoo tune``: hyperparameter search with KerasTuner over the ranges each architecture declares.

The searchable hyperparameters are those with a ``search`` entry in the catalog (a list of values, or a mapping
with ``min``, ``max`` and optionally ``step`` or ``log``). The best values are written as a preset YAML file
that ``zoo train NAME --preset FILE`` accepts.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import defaults, recipe
from .config import DataOptions, TrainConfig
from .data import targets
from .errors import ZooError
from .files import atomic_write
from .preparation import encode_inputs, prepare_data, read_pretrained, resolve_architecture, resolve_hyperparameters

STRATEGIES = ("random", "grid", "hyperband")
FROM_DATA = ("input", "num_features", "seq_len")
TOKENS_ONLY = ("vocab_size", "embed_dim")
RANKING_ROWS = int(recipe.SMALL_DATA * recipe.VAL_FRACTION)  # fewer validation rows rank trials by noise


@dataclass
class TuneResult:
    best: dict[str, Any]
    best_score: float
    trials: int
    out: Path
    preset: str
    notes: list[str]  # the recipe's choices the trials trained with, as zoo train prints them


def search_space(arch: Any, fixed: dict[str, Any], kind: str) -> dict[str, Any]:
    """The catalog's ``search`` entries the tuner explores, minus values fixed by the user or set by the data.

    >>> import zoo
    >>> sorted(search_space(zoo.get("bilstm"), {"units": 32}, "text"))
    ['embed_dim', 'learning_rate', 'pooling', 'vocab_size']
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


HEADER = "# Written by `zoo tune`; use with `zoo train NAME --preset FILE`.\n"


def _check_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    written_by_tune = out.is_file() and out.read_text(encoding="utf-8", errors="replace").startswith(HEADER)
    if not written_by_tune:
        raise ZooError(f"{out} exists and was not written by zoo tune; choose another --out.")
    if not overwrite:
        raise ZooError(f"{out} already exists; choose another --out or pass --overwrite to replace it.")


def _ranking_note(rows: int, validation: str) -> str:
    """What a validation set of ``rows`` (under ``RANKING_ROWS``) means for the ranking; ``validation`` is
    ``"split"`` when tune held the rows out of ``--data`` (where zoo train would have held none out).

    >>> _ranking_note(4, "split")
    'the trials are ranked on 4 ... settings apart (zoo train holds none out under 1,000 training rows); pass a ...'
    >>> _ranking_note(45, "file")
    'the trials are ranked on 45 validation examples, too few to tell close settings apart; pass a --val file ...'
    """
    why = f" (zoo train holds none out under {recipe.SMALL_DATA:,} training rows)" if validation == "split" else ""
    return (f"the trials are ranked on {rows} validation examples, too few to tell close settings apart{why}; pass a "
            f"--val file with {RANKING_ROWS} or more")


def _vocab_search(param: Any, words: int, chosen: int) -> tuple[Any, str, int]:
    """The catalog's ``vocab_size`` search cut to what a training set of ``words`` distinct words can fill (more
    ids than words plus padding and unknown build the same tokenizer and a larger, unused embedding), with the note
    saying so (``chosen``: what zoo train alone would pick) and the largest value left.

    >>> from zoo.hyperparameters import Param
    >>> param = Param("vocab_size", "int", search=[5000, 10000, 20000])
    >>> search, note, largest = _vocab_search(param, 7000, 4100)
    >>> search.search, largest
    ([5000, 7002], 7002)
    >>> print(note)
    vocab_size searched over 5000, 7002 (the catalog's 10000, 20000 cut to the 7,000 distinct training words plus ...
    >>> _vocab_search(Param("vocab_size", "int", search={"min": 100, "max": 9000, "step": 100}), 50, 30)[0].search
    {'min': 52, 'max': 52, 'step': 100}
    """
    full = words + recipe.RESERVED_IDS
    s = param.search
    if isinstance(s, dict):
        cut = {**s, "min": min(int(s["min"]), full), "max": min(int(s["max"]), full)}
        shown, largest = f"{cut['min']} to {cut['max']}", cut["max"]
        over = f"range {s['min']} to {s['max']}" if int(s["max"]) > full else ""
    else:
        cut = list(dict.fromkeys(min(int(v), full) for v in s))
        shown, largest = ", ".join(map(str, cut)), max(cut)
        over = ", ".join(str(v) for v in s if int(v) > full)
    why = (f"the catalog's {over} cut to the {words:,} distinct training words plus padding and unknown, the most "
           "ids this data fills; ") if over else ""
    note = (f"vocab_size searched over {shown} ({why}zoo train alone would choose {chosen} from the data); fix it "
            "with --set vocab_size=N")
    return replace(param, search=cut), note, largest


def _trial_model(hp: Any, arch: Any, space: dict[str, Any], num_classes: int, fixed: dict[str, Any], span: int,
                 seed: int, notes: list[str], pretrained: Any = None) -> Any:
    """One trial's compiled network: the searched values on top of the fixed ones, its embeddings started from
    ``pretrained`` vectors where given and its recurrent gates chrono-initialized for ``span`` steps as ``zoo train``
    would (0: Keras's biases), the note added to ``notes``."""
    from .training import chrono_initialize, load_pretrained

    chosen = {name: _define(hp, p) for name, p in space.items()}
    model = arch.build(num_classes, **fixed, **chosen)
    if pretrained is not None:
        load_pretrained(model, pretrained, arch.name)
    chrono_initialize(model, span, seed, None, notes)
    return model


def _trial_fit(hp: Any, model: Any, x: Any, y: Any, validation_data: Any, **kwargs: Any) -> Any:
    """Fit one trial; token ids past the trial's vocabulary become the unknown-word id, as a smaller one would."""
    if "vocab_size" in hp.values:
        v = hp.get("vocab_size")
        x = np.where(x >= v, 1, x)
        validation_data = (np.where(validation_data[0] >= v, 1, validation_data[0]), validation_data[1])
    return model.fit(x, y, validation_data=validation_data, **kwargs)


def _write_preset(out: Path, arch: Any, hyperparameters: dict[str, Any], summary: str) -> str:
    import yaml

    preset = f"{arch.name}-tuned"
    doc = {"presets": {preset: {"architecture": arch.preset_of or arch.name, "summary": summary,
                                "hyperparameters": hyperparameters}}}
    atomic_write(out, HEADER + yaml.safe_dump(doc, sort_keys=False))
    return preset


def _make_tuner(kt: Any, strategy: str, hypermodel: Any, trials: int, epochs: int, common: dict) -> Any:
    if strategy == "random":
        return kt.RandomSearch(hypermodel, max_trials=trials, **common)
    if strategy == "grid":
        return kt.GridSearch(hypermodel, max_trials=trials, **common)
    return kt.Hyperband(hypermodel, max_epochs=epochs, factor=3, hyperband_iterations=1, **common)


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
    overwrite: bool = False,
    data_options: DataOptions | None = None,
    embeddings: str | Path | None = None,
) -> TuneResult:
    """Search hyperparameters on ``data`` (validation: ``val`` or a stratified 10%) and write the best preset to
    ``out`` (an existing file only with ``overwrite``, and only one zoo tune wrote). With ``embeddings`` (a word
    vector file, as ``zoo train --embeddings``) every trial starts from the vectors, and their vocabulary and
    dimension are fixed, not searched."""
    if strategy not in STRATEGIES:
        raise ZooError(f"Unknown search strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
    if trials < 1 or epochs < 1:
        raise ZooError("--trials and --epochs must be positive integers.")
    out = Path(out)
    _check_out(out, overwrite)
    try:
        import keras_tuner as kt
    except ImportError:
        raise ZooError("zoo tune needs KerasTuner: pip install 'keras-zoo[tune]' (or keras-tuner).") from None
    config = TrainConfig(architecture, data=data, val=val, seed=seed, batch_size=batch_size, val_split=0.1,
                         hyperparameters=dict(overrides or {}), data_options=data_options or DataOptions(),
                         embeddings=embeddings)
    arch, fixed = resolve_architecture(config)
    splits = prepare_data(config)
    notes = list(splits.notes)
    if len(splits.y_val) < RANKING_ROWS:
        notes.append(_ranking_note(len(splits.y_val), splits.validation))
    pretrained = read_pretrained(config, arch, fixed, splits, notes)
    hp = resolve_hyperparameters(arch, fixed, splits, config, notes, pretrained)
    fixed = {**fixed, "input": hp.input, "seq_len": hp.seq_len, "num_features": hp.num_features}
    if pretrained is not None:  # the vectors set both: nothing to search
        fixed.update({k: hp[k] for k in ("vocab_size", "embed_dim") if k in hp})
    space = search_space(arch, fixed, splits.kind)
    if not space:
        raise ZooError(f"'{arch.name}' declares nothing to search (no `search` entries left to explore).")

    import keras

    keras.utils.set_random_seed(seed)
    if "vocab_size" in space:  # tokenize once with the largest vocabulary; trials cut it down (_trial_fit)
        words = len({w for text in splits.train.x for w in recipe.words(text)})
        space["vocab_size"], note, largest = _vocab_search(space["vocab_size"], words, hp.vocab_size)
        notes = [n for n in notes if not n.startswith("vocab_size ")] + [note]
        hp = hp.replace(vocab_size=max(largest, hp.vocab_size))
    if "pooling" in space:  # the trials search it: the recipe's choice is only what zoo train would make
        notes = [n for n in notes if not n.startswith("pooling ")]
        notes.append(f"pooling searched over {', '.join(map(str, space['pooling'].search))} (zoo train alone would "
                     f"choose {hp.pooling} from the data)")
    encoded = encode_inputs(splits, hp, config, notes, pretrained.vocabulary if pretrained is not None else None)
    from .training import chrono_span, network_lengths

    span = chrono_span(network_lengths(splits, encoded), encoded, None)
    trial_notes: list[str] = []  # each trial's chrono note (the same, unless the search changes the layers)
    yt, yv = (targets(y, splits.num_classes, hp.labels) for y in (splits.y_train, splits.y_val))
    hypermodel = kt.HyperModel()  # this run's build and fit, as the instance's own functions: no subclass needed
    hypermodel.build = functools.partial(_trial_model, arch=arch, space=space, num_classes=splits.num_classes,
                                         fixed=fixed, span=span, seed=seed, notes=trial_notes, pretrained=pretrained)
    hypermodel.fit = _trial_fit
    with tempfile.TemporaryDirectory(prefix="zoo-tune-") as tmp:
        tuner = _make_tuner(kt, strategy, hypermodel, trials, epochs, dict(
            objective="val_loss", directory=tmp, project_name=arch.name, seed=seed, overwrite=True))
        tuner.search(encoded.x_train, yt, validation_data=(encoded.x_val, yv), epochs=epochs,
                     batch_size=batch_size, verbose=0)
        best_hp = tuner.get_best_hyperparameters(1)[0]
        done = [t for t in tuner.oracle.trials.values() if t.score is not None]
        best_trial = min(done, key=lambda t: t.score)
    best = {name: _define(best_hp, p) for name, p in space.items()}
    best = {k: (v.item() if hasattr(v, "item") else v) for k, v in best.items()}
    vectors = f" with --embeddings {config.embeddings}" if pretrained is not None else ""
    summary = (f"zoo tune ({strategy}, {len(done)} trials) on {splits.train.source}{vectors}: val_loss "
               f"{best_trial.score:.4f}")
    preset = _write_preset(out, arch, {**dict(overrides or {}), **best}, summary)
    notes += dict.fromkeys(trial_notes)
    return TuneResult(best, float(best_trial.score), len(done), out, preset, notes)


__all__ = ["TuneResult", "search_space", "tune"]
