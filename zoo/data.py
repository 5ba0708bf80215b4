"""Reading training data: text (CSV, TSV, JSONL, ``TEXT<SEP>LABEL`` lines) and numeric sequences (``.npz``).

Every problem is a :class:`zoo.DataError` naming the file, the row or line, and what is wrong. Rows are never
dropped silently: a :class:`Dataset` records how many were skipped and why, and training prints it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

TEXT_FORMATS = ("csv", "tsv", "jsonl", "lines")
SEPARATORS = ("\t", ";", "|", ",")


@dataclass
class Dataset:
    """Examples read from one file: ``x`` is a list of strings (text) or of float arrays (features)."""

    kind: str  # "text" | "features"
    x: list
    y: list
    source: str
    rows: list[int] = field(default_factory=list)  # line or row number of each example, for messages
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    def __len__(self) -> int:
        return len(self.y)

    def skipped_note(self) -> str:
        """'' or a sentence such as "skipped 1 row of val.txt: 1 blank line"."""
        total = sum(self.skipped.values())
        if not total:
            return ""
        why = ", ".join(f"{n} {reason}" for reason, n in self.skipped.items())
        return f"skipped {total} row{'s' * (total != 1)} of {self.source}: {why}"


def _read_text(path: Path, encoding: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory; pass a data file.") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read it ({e.strerror}).") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: bytes that are not {encoding} (byte 0x{raw[e.start]:02x} at offset "
                        f"{e.start}); pass --encoding latin-1 (or the file's real encoding).") from None
    except LookupError:
        raise DataError(f"Unknown encoding {encoding!r}; use e.g. utf-8 or latin-1.") from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty.")
    return text.removeprefix("\ufeff")


def detect_format(path: str | Path) -> str:
    """The format implied by a file's extension: csv, tsv, jsonl, npz, or lines (anything else).

    >>> detect_format("train.csv"), detect_format("d.JSONL"), detect_format("train.txt")
    ('csv', 'jsonl', 'lines')
    """
    suffix = Path(path).suffix.lower()
    return {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".npz": "npz"}.get(suffix, "lines")


def _label(value: Any, where: str) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, float) and not value.is_integer():
        raise DataError(f"{where}: bad label {value!r}; labels are strings or integers.")
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise DataError(f"{where}: empty label.")
    return value


def _table(path: Path, text: str, delimiter: str, text_column: str, label_column: str) -> Dataset:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as e:
        raise DataError(f"{path}:1: malformed header ({e}).") from None
    header = [h.strip() for h in header]
    for col, flag in ((text_column, "--text-column"), (label_column, "--label-column")):
        if col not in header:
            raise DataError(f"{path}:1: no column '{col}'; the header has: {', '.join(header)}. "
                            f"Name the right one with {flag}.")
    ti, li = header.index(text_column), header.index(label_column)
    ds = Dataset("text", [], [], str(path))
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                ds.skipped["blank line"] += 1
                continue
            if len(row) != len(header):
                raise DataError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}.")
            if not row[ti].strip():
                ds.skipped["empty text"] += 1
                continue
            ds.x.append(row[ti])
            ds.y.append(_label(row[li], f"{path}:{line}"))
            ds.rows.append(line)
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed row ({e}).") from None
    return ds


def _jsonl(path: Path, text: str, text_column: str, label_column: str) -> Dataset:
    ds = Dataset("text", [], [], str(path))
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            ds.skipped["blank line"] += 1
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{line}: invalid JSON ({e.msg}).") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{line}: expected a JSON object per line, got {type(obj).__name__}.")
        for key, flag in ((text_column, "--text-column"), (label_column, "--label-column")):
            if key not in obj:
                raise DataError(f"{path}:{line}: no key '{key}' (has: {', '.join(obj)}); name it with {flag}.")
        value = obj[text_column]
        if not isinstance(value, str):
            raise DataError(f"{path}:{line}: '{text_column}' must be a string, got {type(value).__name__}.")
        if not value.strip():
            ds.skipped["empty text"] += 1
            continue
        ds.x.append(value)
        ds.y.append(_label(obj[label_column], f"{path}:{line}"))
        ds.rows.append(line)
    return ds


def _lines(path: Path, text: str, sep: str | None) -> Dataset:
    lines = text.splitlines()
    if sep is None:
        sample = [s for s in lines[:200] if s.strip()]
        # the separator found on most lines (ties: the order of SEPARATORS); a stray bad line is reported below
        counts = {s: sum(s in line for line in sample) for s in SEPARATORS}
        sep = max(SEPARATORS, key=lambda s: counts[s])
        if counts[sep] * 2 < len(sample) or not counts[sep]:
            raise DataError(f"{path}: cannot tell the separator between text and label (tried tab, ';', '|', "
                            "','); pass --sep.")
    ds = Dataset("text", [], [], str(path))
    for line, raw in enumerate(lines, 1):
        if not raw.strip():
            ds.skipped["blank line"] += 1
            continue
        body, found, label = raw.rpartition(sep)
        if not found:
            raise DataError(f"{path}:{line}: no separator {sep!r}; expected TEXT{sep}LABEL.")
        if not body.strip():
            ds.skipped["empty text"] += 1
            continue
        ds.x.append(body)
        ds.y.append(_label(label, f"{path}:{line}"))
        ds.rows.append(line)
    return ds


def _features(path: Path) -> Dataset:
    try:
        try:
            archive = np.load(path, allow_pickle=False)
            arrays = {k: archive[k] for k in archive.files}
        except ValueError as e:
            if "allow_pickle" not in str(e):
                raise
            # ragged X saved as an object array needs pickle: only load .npz files you trust
            archive = np.load(path, allow_pickle=True)
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e}).") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(f"{path}: no array '{key}' (has: {', '.join(arrays) or 'none'}); expected X "
                            "(samples, timesteps, features) and y (labels).")
    X, y = arrays["X"], arrays["y"]
    if y.ndim != 1:
        raise DataError(f"{path}: y has shape {y.shape}; expected one label per sample, shape (samples,).")
    if len(X) != len(y):
        raise DataError(f"{path}: X has {len(X)} samples but y has {len(y)} labels.")
    if len(y) == 0:
        raise DataError(f"{path}: the file is empty (0 samples).")
    lengths = arrays.get("lengths")
    if X.dtype == object:
        seqs = list(X)
    elif X.ndim == 3:
        seqs = [X[i, : int(lengths[i])] if lengths is not None else X[i] for i in range(len(X))]
    else:
        raise DataError(f"{path}: X has shape {X.shape}; expected (samples, timesteps, features) or an object "
                        "array of (timesteps, features) arrays.")
    ds = Dataset("features", [], [], str(path))
    width = None
    for i, seq in enumerate(seqs):
        try:
            seq = np.asarray(seq, dtype="float32")
        except (TypeError, ValueError):
            raise DataError(f"{path}: sample {i}: not numeric.") from None
        if seq.ndim != 2 or seq.shape[0] == 0:
            raise DataError(f"{path}: sample {i} has shape {seq.shape}; expected (timesteps >= 1, features).")
        if width is None:
            width = seq.shape[1]
        elif seq.shape[1] != width:
            raise DataError(f"{path}: sample {i} has {seq.shape[1]} features per timestep, sample 0 has {width}; "
                            "every sample needs the same feature count.")
        if not np.isfinite(seq).all():
            bad = np.argwhere(~np.isfinite(seq))[0]
            raise DataError(f"{path}: sample {i}, timestep {bad[0]}, feature {bad[1]} is {seq[tuple(bad)]}; "
                            "replace NaN and inf values before training.")
        ds.x.append(seq)
        ds.y.append(_label(y[i].item() if hasattr(y[i], "item") else y[i], f"{path}: sample {i}"))
        ds.rows.append(i)
    return ds


def load_dataset(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    sep: str | None = None,
    encoding: str = "utf-8",
    format: str | None = None,
) -> Dataset:
    """Read a data file; the format comes from the extension unless ``format`` is given.

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = f.write_text("\\ni feel great;joy\\ni am so sad;sadness\\n")
    >>> ds = load_dataset(f)
    >>> ds.x, ds.y, ds.skipped_note().endswith("train.txt: 1 blank line")
    (['i feel great', 'i am so sad'], ['joy', 'sadness'], True)
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt == "npz":
        ds = _features(path)
    else:
        text = _read_text(path, encoding)
        if fmt == "csv":
            ds = _table(path, text, sep or ",", text_column, label_column)
        elif fmt == "tsv":
            ds = _table(path, text, sep or "\t", text_column, label_column)
        elif fmt == "jsonl":
            ds = _jsonl(path, text, text_column, label_column)
        elif fmt == "lines":
            ds = _lines(path, text, sep)
        else:
            raise DataError(f"Unknown data format {fmt!r}; use one of csv, tsv, jsonl, lines, npz.")
    if not len(ds):
        raise DataError(f"{path}: no examples (the file has only blank rows or empty texts).")
    return ds


def _sort_key(label: Any) -> tuple:
    if isinstance(label, int):
        return (0, label, "")
    parts = re.split(r"(\d+)", str(label))  # natural order: "class2" before "class10"
    return (1, 0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))


class LabelEncoder:
    """Maps labels (strings or ints) to class ids in a stable, natural sort order.

    >>> enc = LabelEncoder.fit(["b", "a", "b", "c"], "train.txt")
    >>> enc.labels, enc.encode(["c", "a"], "val.txt", [1, 2]).tolist()
    (['a', 'b', 'c'], [2, 0])
    """

    def __init__(self, labels: list):
        self.labels = list(labels)
        self.index = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def fit(cls, y: list, source: str) -> "LabelEncoder":
        labels = sorted(set(y), key=_sort_key)
        if len(labels) < 2:
            raise DataError(f"{source}: every example has the label {labels[0]!r}; a classifier needs at least 2 "
                            "classes.")
        return cls(labels)

    def encode(self, y: list, source: str, rows: list[int] | None = None) -> np.ndarray:
        out = np.empty(len(y), dtype="int32")
        for i, label in enumerate(y):
            if label not in self.index:
                where = f"{source}:{rows[i]}" if rows else source
                known = ", ".join(map(str, self.labels))
                raise DataError(f"{where}: label {label!r} never appears in the training data (known: {known}).")
            out[i] = self.index[label]
        return out


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)`` with about ``fraction`` of each class in val (at least one where a class has 2+).

    >>> tr, va = stratified_split(np.array([0] * 10 + [1] * 10), 0.2, seed=0)
    >>> len(tr), len(va), sorted(np.bincount(np.array([0] * 10 + [1] * 10)[va]).tolist())
    (16, 4, [2, 2])
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = min(len(idx) - 1, max(1, round(len(idx) * fraction))) if len(idx) > 1 else 0
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return rng.permutation(np.array(train, dtype=int)), np.sort(np.array(val, dtype=int))


def choose_seq_len(lengths: list[int], cap: int | None, quantile: float = 0.99) -> int:
    """A sequence length from the data: the ``quantile`` of lengths rounded up to a multiple of 8, capped.

    >>> choose_seq_len([10] * 98 + [40, 300], cap=150)
    40
    """
    if not lengths:
        return 8
    q = float(np.quantile(np.asarray(lengths), quantile, method="higher"))
    n = max(8, int(math.ceil(q / 8) * 8))
    return min(n, cap) if cap else n


def pad_features(seqs: list[np.ndarray], seq_len: int | None) -> np.ndarray:
    """Right-pad (and truncate to ``seq_len``) feature sequences with zeros, the masking value."""
    width = seq_len or max(len(s) for s in seqs)
    out = np.zeros((len(seqs), width, seqs[0].shape[1]), dtype="float32")
    for i, s in enumerate(seqs):
        n = min(len(s), width)
        out[i, :n] = s[:n]
    return out


def token_lengths(tokens: np.ndarray) -> np.ndarray:
    """Lengths of right-padded token rows (0 = padding): the index after each row's last non-zero token.

    >>> token_lengths(np.array([[5, 1, 7, 0], [0, 0, 0, 0]])).tolist()
    [3, 0]
    """
    nonzero = tokens != 0
    return np.where(nonzero.any(axis=1), tokens.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)


def bucket_width(longest: int, cap: int) -> int:
    """The width a batch whose longest row has ``longest`` tokens is trimmed to: rounded up to 8 (fewer distinct
    shapes to trace), at least 8, at most ``cap``.

    >>> bucket_width(19, 56), bucket_width(0, 56), bucket_width(55, 56)
    (24, 8, 56)
    """
    return min(cap, max(8, -(-int(longest) // 8) * 8))
