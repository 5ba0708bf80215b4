"""Small real datasets that ship with the zoo, so the main job runs offline with no data of your own.

``japanese_vowels``: UCI "Japanese Vowels" (Kudo, Toyama & Shimbo 1999; CC BY 4.0): nine speakers saying the
vowel pair /ae/, each utterance a sequence of 7-29 frames of 12 LPC cepstrum coefficients. 270 training and
370 test utterances; the task is to tell the speaker. See JAPANESE_VOWELS.md for provenance.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..data import Dataset
from ..errors import DataError

BUILTIN = {"japanese_vowels": "japanese_vowels.npz"}
DEFAULT = "japanese_vowels"


def load_builtin(name: str = DEFAULT) -> tuple[Dataset, Dataset]:
    """The ``(train, test)`` splits of a built-in dataset.

    >>> train, test = load_builtin("japanese_vowels")
    >>> len(train), len(test), train.x[0].shape[1], len(set(train.y))
    (270, 370, 12, 9)
    """
    if name not in BUILTIN:
        raise DataError(f"No built-in dataset named {name!r}; available: {', '.join(BUILTIN)}.")
    with resources.as_file(resources.files(__name__) / BUILTIN[name]) as path, np.load(path) as npz:
        splits = []
        for split in ("train", "test"):
            x, lengths, y = npz[f"x_{split}"], npz[f"len_{split}"], npz[f"y_{split}"]
            seqs = [x[i, : int(n)] for i, n in enumerate(lengths)]
            labels = [str(v) for v in y]
            splits.append(Dataset("features", seqs, labels, f"builtin:{name}/{split}", list(range(len(labels)))))
    return splits[0], splits[1]
