"""Classification metrics in plain NumPy: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[Any],
                           split: str) -> dict[str, Any]:
    """Metrics for integer class ids ``y_true``/``y_pred`` over ``labels`` (index = class id).

    >>> m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"], "test")
    >>> m["accuracy"], round(m["macro_f1"], 4), m["confusion_matrix"]
    (0.75, 0.7333, [[1, 1], [0, 2]])
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    k = len(labels)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    actual = cm.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(k), where=actual > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = actual > 0  # macro averages over the classes present in this split
    return {
        "split": split,
        "num_examples": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "macro_precision": float(precision[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "per_class": {
            str(label): {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                         "support": int(actual[i])}
            for i, label in enumerate(labels)
        },
        "labels": [label if isinstance(label, (int, str)) else str(label) for label in labels],
        "confusion_matrix": cm.tolist(),
    }
