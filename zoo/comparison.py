"""``zoo compare``: train several architectures with the same recipe over several seeds and rank them.

Each (architecture, seed) is an ordinary run under ``OUT/NAME/seed-S``; a finished one whose config matches is
reused, so an interrupted comparison picks up where it stopped. The leaderboard (mean and spread of accuracy and
macro-F1 over the seeds, training time, parameters) is printed and written as ``leaderboard.json``,
``leaderboard.md`` and ``leaderboard.png``. An architecture that cannot train on the data (a plugin that fails
to build, say) gets a row with the reason; the others go on.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .errors import HyperparameterError, PluginError, ZooError
from .files import atomic_write, atomic_write_json

LEADERBOARD = "leaderboard"


@dataclass
class Entry:
    """One architecture's results over the seeds."""

    architecture: str
    plugin: str = ""
    package: str = ""
    accuracy: list[float] = field(default_factory=list)
    macro_f1: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    parameters: int | None = None
    error: str = ""

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return statistics.fmean(values) if values else None

    @staticmethod
    def _sd(values: list[float]) -> float | None:
        return statistics.stdev(values) if len(values) > 1 else (0.0 if values else None)

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy_mean": self._mean(self.accuracy), "accuracy_sd": self._sd(self.accuracy),
                "macro_f1_mean": self._mean(self.macro_f1), "macro_f1_sd": self._sd(self.macro_f1),
                "seconds_mean": self._mean(self.seconds)}


@dataclass
class Leaderboard:
    """The ranked entries (best mean accuracy first, failures last) and where they were written."""

    entries: list[Entry]
    seeds: int
    out: Path

    def ranked(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (bool(e.error), -(Entry._mean(e.accuracy) or 0.0),
                                                   -(Entry._mean(e.macro_f1) or 0.0)))

    def markdown(self) -> str:
        rows = ["| rank | architecture | accuracy | macro-F1 | train time | parameters | plugin |",
                "|---|---|---|---|---|---|---|"]
        for i, e in enumerate(self.ranked(), 1):
            s = e.summary()
            if e.error:
                rows.append(f"| - | `{e.architecture}` | failed: {e.error} | | | | {e.plugin} |")
                continue
            rows.append(f"| {i} | `{e.architecture}` | {s['accuracy_mean']:.4f} ± {s['accuracy_sd']:.4f} | "
                        f"{s['macro_f1_mean']:.4f} ± {s['macro_f1_sd']:.4f} | {s['seconds_mean']:.0f} s | "
                        f"{e.parameters:,} | {e.plugin} ({e.package}) |")
        return "\n".join(rows)


def _config(base: TrainConfig, name: str, seed: int, out: Path) -> TrainConfig:
    return base.replace(architecture=name, seed=seed, out=str(out / name / f"seed-{seed}"))


def _finished(config: TrainConfig) -> Any:
    """The run already at ``config.out`` if it was trained with this very config, else None."""
    from .classifier import load
    from .rundir import is_run

    if not is_run(config.out):
        return None
    classifier = load(config.out)
    return classifier if classifier.record and not config.differences(classifier.record.train) else None


def _train_one(config: TrainConfig, overwrite: bool) -> tuple[dict, float, int]:
    """Metrics, seconds and parameters of one seed's run: reused if finished with this config."""
    from .rundir import METRICS, RunDir
    from .training import train_run

    done = _finished(config)
    if done is not None:
        metrics = RunDir(config.out).read_json(METRICS)
        return metrics, metrics.get("train_seconds", 0.0), done.model.count_params()
    run = train_run(config, overwrite=overwrite, verbose=0)
    return run.metrics, run.metrics["train_seconds"], run.model.count_params()


def compare(names: Iterable[str] | None = None, data: str | None = None, *, seeds: int = 3,
            out: str | Path = "runs/compare", overwrite: bool = False,
            progress: Callable[[str], None] | None = None, **options: Any) -> Leaderboard:
    """Train each architecture (default: every installed one, plugins included) on ``data`` with seeds
    ``0..seeds-1`` and the same recipe (``options`` are TrainConfig fields), and rank them."""
    from .registry import default_registry
    from .preparation import prepare_data

    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ZooError(f"seeds must be a positive integer, got {seeds!r}.")
    registry = default_registry()
    names = [registry.get(n).name for n in names] if names else \
        [a.name for a in registry.architectures() if not a.preset_of]
    base = TrainConfig(names[0], data=data, **{k: v for k, v in options.items() if k not in ("seed", "out")})
    prepare_data(base)  # a bad data file is one error now, not one per architecture
    out = Path(out)
    entries = []
    for name in names:
        arch = registry.get(name)
        entry = Entry(name, arch.plugin, f"{arch.package} {arch.version}")
        for seed in range(seeds):
            try:
                metrics, secs, params = _train_one(_config(base, name, seed, out), overwrite)
            except (PluginError, HyperparameterError) as e:  # this architecture cannot: the others go on
                entry.error = str(e)
                break
            entry.accuracy.append(metrics["accuracy"])
            entry.macro_f1.append(metrics["macro_f1"])
            entry.seconds.append(secs)
            entry.parameters = params
            if progress:
                progress(f"{name} seed {seed}: accuracy {metrics['accuracy']:.4f}, macro-F1 "
                         f"{metrics['macro_f1']:.4f} ({secs:.0f} s)")
        entries.append(entry)
    board = Leaderboard(entries, seeds, out)
    write_leaderboard(board)
    return board


def write_leaderboard(board: Leaderboard) -> None:
    board.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(board.out / f"{LEADERBOARD}.json", {"seeds": board.seeds,
                                                          "entries": [e.summary() for e in board.ranked()]})
    atomic_write(board.out / f"{LEADERBOARD}.md", board.markdown() + "\n")
    from .plots import plot_leaderboard

    ok = [e for e in board.ranked() if not e.error]
    if ok:
        plot_leaderboard([e.summary() for e in ok], board.out / f"{LEADERBOARD}.png",
                         title=f"mean over {board.seeds} seed(s), bars: one standard deviation")


__all__ = ["Entry", "Leaderboard", "compare"]
