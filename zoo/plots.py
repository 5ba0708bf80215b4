"""PNG plots of a run: training curves and the confusion matrix (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: dict[str, list[float]], path: Path, title: str = "") -> None:
    """Loss and accuracy per epoch, training and validation side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=(prefix or "train_") + metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion_matrix(matrix: list[list[int]], labels: list, path: Path, title: str = "") -> None:
    """Counts of true (rows) against predicted (columns) classes."""
    import numpy as np

    plt = _pyplot()
    cm = np.asarray(matrix)
    k = len(labels)
    size = max(4.0, min(0.5 * k + 2, 24.0))
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(k), [str(x) for x in labels], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(x) for x in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:
        threshold = cm.max() / 2 if cm.size else 0
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if cm[i, j] > threshold else "black", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_leaderboard(entries: list[dict], path: Path, title: str = "") -> None:
    """Mean accuracy and macro-F1 per architecture, with one standard deviation as error bars."""
    import numpy as np

    plt = _pyplot()
    names = [e["architecture"] for e in entries]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(names) + 2), 4))
    for offset, key, label in ((-0.2, "accuracy", "accuracy"), (0.2, "macro_f1", "macro-F1")):
        ax.bar(x + offset, [e[f"{key}_mean"] for e in entries], 0.4, yerr=[e[f"{key}_sd"] for e in entries],
               capsize=4, label=label)
    lows = [min(e["accuracy_mean"], e["macro_f1_mean"]) for e in entries]
    ax.set_ylim(max(0.0, min(lows) - 0.1), 1.0)
    ax.set_xticks(x, names)
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
