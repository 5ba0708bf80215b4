"""The accuracy benchmark panel's data sets: what each one is, and the files a user would have for it.

    python benchmarks/panel.py --list                 # one line per data set (kind, classes, rows, timesteps)
    python benchmarks/panel.py --materialize DIR      # write every set as files under DIR/NAME/
    python benchmarks/panel.py --materialize DIR --datasets synth-tiny,trec50

API: ``NAMES`` (the panel, in order), ``describe(name) -> dict`` and ``materialize(name, directory) -> dict(train=Path,
val=Path | None, test=Path)``. Files are in formats the zoo reads (zoo/data.py):

- text: UTF-8 ``TEXT<TAB>LABEL`` lines (``.txt``); emotion is used in place as its own ``text;label`` lines;
- numeric: pickle-free ``.npz`` with ``X`` float32 (samples, timesteps, features) and string labels ``y``; dense
  when every sequence has the same length, otherwise right-padded with zeros plus an int32 ``lengths`` array.

Real data sets are read in place from ../shared/data (never copied into the project); sets that need no rewrite
(emotion, the UCR sets) are returned as their own paths, the others are written under ``directory / name``.
The synthetic sets are generated from a fixed seed (identical files on every run, a second or two each); each
generator's docstring gives its structure. They cover what users bring and the real sets lack: tiny training
sets, raw units with features on scales 100x apart, 300-700 timesteps of variable length, long documents whose
signal is in a few rare words spread over the text, and short sequences with many classes.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

NAMES = [
    "emotion",
    "trec6",
    "trec50",
    "ucr-gunpoint",
    "ucr-arrowhead",
    "ucr-osuleaf",
    "japanese_vowels",
    "synth-tiny",
    "synth-long",
    "synth-docs",
    "synth-short",
]

SOURCES = {
    "emotion": "../shared/data/emotion (CARER / dair-ai emotion, 16k/2k/2k; `text;label` lines, used in place)",
    "trec6": "../shared/data/trec6 TREC.train / TREC.test (Li & Roth 2002), 6 coarse labels; no val split",
    "trec50": "../shared/data/trec6 TREC.train / TREC.test (Li & Roth 2002), 50 fine labels such as LOC:city; "
              "no val split",
    "ucr-gunpoint": "../shared/data/ucr/GunPoint (UCR archive), used in place",
    "ucr-arrowhead": "../shared/data/ucr/ArrowHead (UCR archive), used in place",
    "ucr-osuleaf": "../shared/data/ucr/OSULeaf (UCR archive), used in place",
    "japanese_vowels": "zoo.datasets.load_builtin('japanese_vowels') (UCI Japanese Vowels), 12 LPC coefficients",
    "synth-tiny": "synthetic (benchmarks/panel.py synth_tiny, seed 101)",
    "synth-long": "synthetic (benchmarks/panel.py synth_long, seed 202)",
    "synth-docs": "synthetic (benchmarks/panel.py synth_docs, seed 303)",
    "synth-short": "synthetic (benchmarks/panel.py synth_short, seed 404)",
}

UCR = {"ucr-gunpoint": "GunPoint", "ucr-arrowhead": "ArrowHead", "ucr-osuleaf": "OSULeaf"}


# ---------------------------------------------------------------------------------------------- synthetic sets
def _bump(t: np.ndarray, centre: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((t[None, :] - centre[:, None]) / width) ** 2)


def synth_tiny(seed: int = 101, per_class: tuple[int, int] = (10, 75)):
    """4 classes x 10 training rows (75 per class in test): 64 timesteps x 3 features in raw units.

    Feature 0 ("pressure", ~1000 +- 10), feature 1 (~20 +- 0.1) and feature 2 (~0.5 +- 0.001): each sample's level
    is drawn at random per feature (level + scale * N(0, 1)), so the mean says nothing about the class, and the
    three scales are 100x apart. The class is two binary temporal traits, class = 2 * a + b:
      a: the frequency of the oscillation in feature 0 (3 or 4 cycles over the 64 steps, random phase, amplitude
         0.6-1.4 scale units, plus white noise and a slow random-walk drift);
      b: the order of two bumps (Gaussian, width 3 steps, height 1-2 scale units): a bump in feature 1 before
         the bump in feature 2 (b = 0) or after it (b = 1), at random positions at least 8 steps apart.
    Both traits are temporal patterns (frequency, order); 40 rows make it a small-data problem. A rule that knows
    the generator (FFT peak of feature 0, argmax order of features 1-2) scores 98.3% on test; 1-nearest-neighbour
    on per-sample-centred, per-feature-standardised series 72.7%, on uncentred ones 36.7% (chance 25%).
    """
    rng = np.random.default_rng(seed)
    T = 64
    t = np.arange(T, dtype="float64")
    level = np.array([1000.0, 20.0, 0.5])
    scale = np.array([10.0, 0.1, 0.001])
    out = []
    for n_per in per_class:
        y = np.repeat(np.arange(4), n_per)
        n = len(y)
        a, b = y // 2, y % 2
        z = rng.normal(0.0, 0.45, (n, T, 3))
        cycles = np.where(a == 0, 3.0, 4.0)
        phase = rng.uniform(0, 2 * np.pi, n)
        amp = rng.uniform(0.6, 1.4, n)
        z[:, :, 0] += amp[:, None] * np.sin(2 * np.pi * cycles[:, None] * t[None, :] / T + phase[:, None])
        z[:, :, 0] += np.cumsum(rng.normal(0.0, 0.08, (n, T)), axis=1)  # slow drift
        first = rng.uniform(6, 42, n)
        second = first + rng.uniform(8, 58 - first)
        p1 = np.where(b == 0, first, second)  # feature-1 bump
        p2 = np.where(b == 0, second, first)  # feature-2 bump
        z[:, :, 1] += rng.uniform(1.0, 2.0, n)[:, None] * _bump(t, p1, 3.0)
        z[:, :, 2] += rng.uniform(1.0, 2.0, n)[:, None] * _bump(t, p2, 3.0)
        z += rng.normal(0.0, 1.0, (n, 1, 3))  # per-sample level
        X = (level + scale * z).astype("float32")
        order = rng.permutation(n)
        out.append((X[order], np.array([f"class{c}" for c in y[order]])))
    return out


def _motifs(width: int) -> np.ndarray:
    s = np.linspace(0, 1, width, endpoint=False)
    window = np.sin(np.pi * s) ** 0.5
    return np.stack([np.sin(2 * np.pi * s), -np.sin(2 * np.pi * s), np.sin(4 * np.pi * s)]) * window


def synth_long(seed: int = 202, per_class: tuple[int, int] = (100, 100)):
    """3 classes x 100 training rows (100 per class in test): 300-700 timesteps (variable), 2 features, raw units.

    Feature 0 is a level near 500 (random per sample, +- 5) plus AR(1) noise (phi 0.9, stationary std 1.0) and
    white noise (std 0.3); feature 1 is an unrelated distractor near 40 (+- 2, its own AR(1) noise, std 0.5).
    Somewhere in feature 0 (uniform position) sits one 48-step motif of amplitude 2.5-3.5, and its shape is the
    class: one sine period up-then-down (class "up-down"), the same flipped (class "down-up"), or two periods
    (class "double"). The three motifs have the same energy and the same extremes, so no global statistic (mean,
    std, min, max) tells them apart: a model has to find the pattern and read its order, anywhere in a long
    sequence. A matched filter that knows the three motifs scores 89.0% on test (chance 33%). Written as padded
    X (samples, 700, 2) with ``lengths``.
    """
    rng = np.random.default_rng(seed)
    width, T = 48, 700
    motifs = _motifs(width)
    names = np.array(["up-down", "down-up", "double"])
    out = []
    for n_per in per_class:
        y = rng.permutation(np.repeat(np.arange(3), n_per))
        n = len(y)
        lengths = rng.integers(300, T + 1, n).astype("int32")
        X = np.zeros((n, T, 2), dtype="float32")
        e = rng.normal(0.0, np.sqrt(1 - 0.9 ** 2), (n, T, 2))
        ar = np.empty((n, T, 2))
        ar[:, 0] = rng.normal(0.0, 1.0, (n, 2))
        for k in range(1, T):
            ar[:, k] = 0.9 * ar[:, k - 1] + e[:, k]
        f0 = 500.0 + rng.normal(0, 5, (n, 1)) + ar[:, :, 0] + rng.normal(0.0, 0.3, (n, T))
        f1 = 40.0 + rng.normal(0, 2, (n, 1)) + 0.5 * ar[:, :, 1]
        amp = rng.uniform(2.5, 3.5, n)
        for i in range(n):
            at = rng.integers(0, lengths[i] - width + 1)
            f0[i, at:at + width] += amp[i] * motifs[y[i]]
        X = np.zeros((n, T, 2), dtype="float32")
        for i in range(n):
            X[i, : lengths[i], 0], X[i, : lengths[i], 1] = f0[i, : lengths[i]], f1[i, : lengths[i]]
        out.append((X, names[y], lengths))
    return out


def _pseudo_words(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct lower-case pseudo-words of 2-4 consonant-vowel syllables (unique segmentation)."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words, seen = [], set()
    while len(words) < n:
        k = rng.choice([2, 3, 3, 4])
        w = "".join(rng.choice(syllables, k))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


PER_CLASS_WORDS = 60
DOC_CLASSES = ["astronomy", "cooking", "finance", "medicine", "sailing"]


def synth_docs(seed: int = 303, rows: tuple[int, int] = (1500, 600)):
    """5 classes of long documents: 1,500 training and 600 test rows, 150-450 tokens each (uniform).

    Every document is filler words drawn from 8,000 pseudo-words with a Zipfian law (p ~ 1 / (rank + 2.7)), among
    which sit 1 + Poisson(2) informative words of its class (each class owns 60 words, drawn within the class
    with p ~ 1 / rank, so a few are common and most are rare) and Poisson(1) informative words of other classes
    (distractors), all at uniform positions. The classes are imbalanced (30/25/20/15/10 %). All 8,300 words occur
    in training. Two things lose information: a vocabulary capped at 5,000 words (the 5,000th most frequent word
    occurs 18 times in training; 219 of the 300 informative words are rarer, so they become out-of-vocabulary,
    27% of informative-word occurrences) and a sequence length capped at 150 tokens (it keeps about a third of
    the informative words). A rule that knows the informative words (count per class plus the log prior) scores
    93.3% on test with everything, 87.2% with the 5,000 most frequent words, 72.0% on the first 150 tokens and
    65.7% with both caps (the majority class is 33% of test). Written as ``TEXT<TAB>LABEL`` lines.
    """
    rng = np.random.default_rng(seed)
    words = _pseudo_words(rng, 8000 + 5 * PER_CLASS_WORDS)
    filler, informative = np.array(words[:8000]), np.array(words[8000:]).reshape(5, PER_CLASS_WORDS)
    p_fill = 1.0 / (np.arange(8000) + 2.7)
    p_fill /= p_fill.sum()
    p_inf = 1.0 / np.arange(1, PER_CLASS_WORDS + 1)
    p_inf /= p_inf.sum()
    out = []
    for n in rows:
        y = rng.choice(5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
        texts = []
        for c in y:
            L = int(rng.integers(150, 451))
            doc = filler[rng.choice(8000, L, p=p_fill)]
            own = informative[c, rng.choice(PER_CLASS_WORDS, 1 + rng.poisson(2.0), p=p_inf)]
            n_other = rng.poisson(1.0)
            others = rng.choice([k for k in range(5) if k != c], n_other)
            other = informative[others, rng.choice(PER_CLASS_WORDS, n_other, p=p_inf)]
            planted = np.concatenate([own, other])
            doc[rng.choice(L, len(planted), replace=False)] = planted
            texts.append(" ".join(doc))
        out.append((texts, [DOC_CLASSES[c] for c in y]))
    return out


def synth_short(seed: int = 404, per_class: tuple[int, int] = (135, 100)):
    """10 classes x 135 training rows (100 per class in test): 8 timesteps x 3 features in raw units.

    Features on scales 100x apart: ~2000 (+- 100 per unit), ~20 (+- 1) and ~0.5 (+- 0.01). Each class has a
    prototype trajectory (per feature a random smooth curve: two cosine harmonics, zero mean, unit std); a sample
    is level + scale * (offset + amplitude * prototype + noise) with a per-sample, per-feature offset N(0, 2) that
    hides the class in the mean, amplitude 0.6-1.4 and white noise (std 1.5). The class is the shape of the
    trajectories over the 8 steps; with the noise the classes overlap, so the task needs many fine decision
    boundaries (the kind of problem where a model keeps improving for many epochs). Nearest class centroid
    (cosine) on per-sample-centred, per-feature-standardised series scores 88.1% on test; on the per-sample means
    alone 9.1% (chance 10%).
    """
    rng = np.random.default_rng(seed)
    T, F, C = 8, 3, 10
    t = np.arange(T) / T
    level = np.array([2000.0, 20.0, 0.5])
    scale = np.array([100.0, 1.0, 0.01])
    proto = np.zeros((C, T, F))
    for c in range(C):
        for f in range(F):
            a = rng.normal(0, 1, 4)
            curve = (a[0] * np.cos(2 * np.pi * t) + a[1] * np.sin(2 * np.pi * t)
                     + a[2] * np.cos(4 * np.pi * t) + a[3] * np.sin(4 * np.pi * t))
            proto[c, :, f] = (curve - curve.mean()) / curve.std()
    out = []
    for n_per in per_class:
        y = rng.permutation(np.repeat(np.arange(C), n_per))
        n = len(y)
        z = (rng.normal(0, 2.0, (n, 1, F)) + rng.uniform(0.6, 1.4, (n, 1, 1)) * proto[y]
             + rng.normal(0, 1.5, (n, T, F)))
        X = (level + scale * z).astype("float32")
        out.append((X, np.array([f"c{c:02d}" for c in y])))
    return out


# ------------------------------------------------------------------------------------------------- the panel
def _trec(path: Path, fine: bool) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.strip():
            label, _, question = line.partition(" ")
            texts.append(question.replace("\t", " ").strip())
            labels.append(label if fine else label.split(":")[0])
    return texts, labels


def _text_lines(path: Path, sep: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            text, _, label = line.rpartition(sep)
            texts.append(text)
            labels.append(label)
    return texts, labels


@functools.lru_cache(maxsize=None)
def load(name: str) -> dict:
    """``{"kind": "text"|"numeric", "train": (x, y), "val": (x, y) | None, "test": (x, y)}``: x a list of strings
    or a list of float32 (timesteps, features) arrays, y a list of string labels. Cached."""
    if name not in NAMES:
        raise KeyError(f"no panel data set {name!r}; the panel: {', '.join(NAMES)}")
    if name == "emotion":
        d = DATA / "emotion"
        return {"kind": "text", **{s: _text_lines(d / f"{s}.txt", ";") for s in ("train", "val", "test")}}
    if name in ("trec6", "trec50"):
        d = DATA / "trec6"
        return {"kind": "text", "train": _trec(d / "TREC.train", name == "trec50"), "val": None,
                "test": _trec(d / "TREC.test", name == "trec50")}
    if name in UCR:
        splits = {}
        for s in ("train", "test"):
            with np.load(DATA / "ucr" / UCR[name] / f"{s}.npz", allow_pickle=False) as z:
                splits[s] = (list(z["X"]), [str(v) for v in z["y"]])
        return {"kind": "numeric", "val": None, **splits}
    if name == "japanese_vowels":
        from zoo.datasets import load_builtin

        train, test = load_builtin("japanese_vowels")
        return {"kind": "numeric", "train": (list(train.x), list(train.y)), "val": None,
                "test": (list(test.x), list(test.y))}
    if name == "synth-docs":
        (xtr, ytr), (xte, yte) = synth_docs()
        return {"kind": "text", "train": (xtr, ytr), "val": None, "test": (xte, yte)}
    generated = {"synth-tiny": synth_tiny, "synth-long": synth_long, "synth-short": synth_short}[name]()
    splits = {}
    for s, split in zip(("train", "test"), generated):
        X, y = split[0], split[1]
        lengths = split[2] if len(split) > 2 else np.full(len(X), X.shape[1])
        splits[s] = ([X[i, : int(n)] for i, n in enumerate(lengths)], [str(v) for v in y])
    return {"kind": "numeric", "val": None, **splits}


def _lengths(kind: str, x: list) -> np.ndarray:
    return np.array([len(s.split()) for s in x] if kind == "text" else [len(s) for s in x])


@functools.lru_cache(maxsize=None)
def describe(name: str) -> dict:
    """Kind, classes, rows per split, timesteps (tokens for text: whitespace-separated words), source."""
    d = load(name)
    lengths = _lengths(d["kind"], d["train"][0])
    doc = {"synth-tiny": synth_tiny, "synth-long": synth_long, "synth-docs": synth_docs,
           "synth-short": synth_short}.get(name)
    out = {
        "name": name,
        "kind": d["kind"],
        "classes": len(set(d["train"][1])),
        "rows": {s: (len(d[s][1]) if d[s] else 0) for s in ("train", "val", "test")},
        "timesteps": {"min": int(lengths.min()), "mean": round(float(lengths.mean()), 1), "max": int(lengths.max()),
                      "unit": "words" if d["kind"] == "text" else "timesteps"},
        "source": SOURCES[name],
    }
    if d["kind"] == "numeric":
        out["features"] = int(d["train"][0][0].shape[1])
    if doc:
        out["structure"] = " ".join(doc.__doc__.split())
    return out


def _write_npz(path: Path, x: list, y: list) -> Path:
    lengths = np.array([len(s) for s in x], dtype="int32")
    X = np.zeros((len(x), int(lengths.max()), x[0].shape[1]), dtype="float32")
    for i, s in enumerate(x):
        X[i, : len(s)] = s
    arrays = {"X": X, "y": np.array(y)}
    if (lengths != lengths.max()).any():
        arrays["lengths"] = lengths
    np.savez_compressed(path, **arrays)
    return path


def _write_lines(path: Path, x: list, y: list) -> Path:
    for s in x:
        if "\t" in s or "\n" in s:
            raise ValueError(f"{path}: a text holds a tab or newline: {s[:60]!r}")
    path.write_text("".join(f"{s}\t{label}\n" for s, label in zip(x, y)), encoding="utf-8")
    return path


def materialize(name: str, directory: str | Path) -> dict:
    """The panel set ``name`` as files: ``{"train": Path, "val": Path | None, "test": Path}``.

    emotion and the UCR sets are returned in place (../shared/data); the others are written (overwritten) under
    ``directory / name`` as ``train.txt``/``test.txt`` (text) or ``train.npz``/``test.npz`` (numeric)."""
    if name == "emotion":
        d = DATA / "emotion"
        return {"train": d / "train.txt", "val": d / "val.txt", "test": d / "test.txt"}
    if name in UCR:
        d = DATA / "ucr" / UCR[name]
        return {"train": d / "train.npz", "val": None, "test": d / "test.npz"}
    data = load(name)
    out = Path(directory) / name
    out.mkdir(parents=True, exist_ok=True)
    files = {"val": None}
    for split in ("train", "val", "test"):
        if data.get(split):
            x, y = data[split]
            if data["kind"] == "text":
                files[split] = _write_lines(out / f"{split}.txt", x, y)
            else:
                files[split] = _write_npz(out / f"{split}.npz", x, y)
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="describe every data set")
    parser.add_argument("--json", action="store_true", help="with --list: the full describe() dicts as JSON")
    parser.add_argument("--materialize", metavar="DIR", help="write the panel's files under DIR/NAME/")
    parser.add_argument("--datasets", default=",".join(NAMES), help="comma-separated subset (default: all)")
    args = parser.parse_args(argv)
    names = [n for n in args.datasets.split(",") if n]
    for n in names:
        if n not in NAMES:
            parser.error(f"unknown data set {n!r}; the panel: {', '.join(NAMES)}")
    if not (args.list or args.materialize):
        parser.print_help()
        return
    if args.list:
        if args.json:
            print(json.dumps([describe(n) for n in names], indent=2))
        else:
            print(f"{'name':16} {'kind':8} {'classes':>7} {'train':>6} {'val':>5} {'test':>5}  timesteps min/mean/max")
            for n in names:
                d = describe(n)
                r, t = d["rows"], d["timesteps"]
                feats = f" x {d['features']} features" if "features" in d else ""
                print(f"{n:16} {d['kind']:8} {d['classes']:>7} {r['train']:>6} {r['val']:>5} {r['test']:>5}  "
                      f"{t['min']}/{t['mean']}/{t['max']} {t['unit']}{feats}")
    if args.materialize:
        for n in names:
            files = materialize(n, args.materialize)
            print(n, " ".join(f"{k}={v}" for k, v in files.items() if v))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
