"""Reading training data: text (CSV, TSV, JSONL, ``TEXT<SEP>LABEL`` lines) and numeric sequences (``.npz``).

Every problem is a :class:`zoo.DataError` naming the file, the row or line, and what is wrong. Rows are never
dropped silently: a :class:`Dataset` records how many were skipped and why, and training prints it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import DataOptions
from .errors import DataError
from .files import regular_file

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
    regular_file(path, DataError)  # never a device or FIFO: /dev/zero would be read forever
    try:
        raw = path.read_bytes()
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
    return EXTENSIONS.get(suffix, "lines")


def _label(value: Any, where: str) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, float) and not value.is_integer():
        raise DataError(f"{where}: bad label {value!r}; labels are strings or integers.")
    if isinstance(value, float):
        return int(value)
    if isinstance(value, bytes):  # an .npz array of dtype S: NumPy's bytes strings
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{where}: label {value!r} is bytes that are not UTF-8; store labels as strings or "
                            "integers.") from None
    if not isinstance(value, (str, int)):
        raise DataError(f"{where}: bad label {value!r}; labels are strings or integers.")
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
        # the separator found on most lines (a stray bad line is reported below); among those on as many, the first
        # (in the order of SEPARATORS) whose last fields repeat as labels do, as pieces of text do not
        counts = {s: sum(s in line for line in sample) for s in SEPARATORS}
        most = max(counts.values())
        if most * 2 < len(sample) or not most:
            raise DataError(f"{path}: cannot tell the separator between text and label (tried tab, ';', '|', "
                            "','); pass --sep.")
        found = [s for s in SEPARATORS if counts[s] == most]
        sep = next((s for s in found if 2 * len({line.rpartition(s)[2].strip() for line in sample}) <= most),
                   found[0])
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


NPZ_MAX_BYTES = 8 * 2**30  # what the arrays of one .npz may expand to; more is refused before reading
PICKLE_HINT = ("convert it once, in Python: np.savez(PATH, X=np.concatenate(seqs), lengths=[len(s) for s in seqs], "
               "y=np.asarray(labels)); or pass --allow-pickle if you trust the file (a pickle can run any code)")


def _open_npz(path: Path, allow_pickle: bool) -> dict[str, np.ndarray]:
    """The arrays of an .npz file, refusing pickles (unless allowed) and archives that expand without bound."""
    import zipfile

    regular_file(path, DataError)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(6)
        what = ("a pickle, which can run code when read; save the arrays with np.savez" if head[:1] == b"\x80" else
                "a single .npy array; save X and y together with np.savez(PATH, X=..., y=...)"
                if head == b"\x93NUMPY" else "not a zip archive of arrays (np.savez writes one)")
        raise DataError(f"{path}: not an .npz file: {what}.")
    try:
        with zipfile.ZipFile(path) as z:
            size = sum(info.file_size for info in z.infolist())
        if size > NPZ_MAX_BYTES:
            raise DataError(f"{path}: its arrays expand to {size / 2**30:.1f} GiB, over the "
                            f"{NPZ_MAX_BYTES / 2**30:.0f} GiB the zoo reads from one file; split the data.")
        arrays = {}
        with np.load(path, allow_pickle=allow_pickle) as archive:
            for key in archive.files:
                try:
                    arrays[key] = archive[key]
                except ValueError as e:
                    if "allow_pickle" not in str(e):
                        raise
                    raise DataError(f"{path}: array '{key}' is an object array, which NumPy stores as a pickle "
                                    f"(it can run code when read), so the zoo does not read it; "
                                    f"{PICKLE_HINT.replace('PATH', repr(str(path)))}.") from None
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file ({type(e).__name__}: {e}).") from None
    return arrays


def _int_array(path: Path, name: str, a: np.ndarray, n: int | None) -> np.ndarray:
    if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer) or
                           np.issubdtype(a.dtype, np.floating) and np.all(np.mod(a, 1) == 0)):
        raise DataError(f"{path}: '{name}' must be a 1-D array of whole numbers, got dtype {a.dtype} shape "
                        f"{a.shape}.")
    if n is not None and len(a) != n:
        raise DataError(f"{path}: '{name}' has {len(a)} entries but y has {n} labels; every sample needs one of "
                        "each.")
    bad = np.flatnonzero(a < 1)
    if len(bad):
        raise DataError(f"{path}: {name}[{bad[0]}] is {a[bad[0]]}; every sequence needs at least 1 timestep.")
    return a.astype(np.int64)


def _sequences(path: Path, X: np.ndarray, lengths: np.ndarray | None, n: int) -> list:
    """Split ``X`` into per-sample (timesteps, features) arrays, from any of the supported layouts."""
    if X.dtype == object:  # only with allow_pickle
        return list(X)
    if lengths is not None:
        lengths = _int_array(path, "lengths", lengths, n)
    if X.ndim == 3:
        if len(X) != n:
            raise DataError(f"{path}: X has {len(X)} samples but y has {n} labels.")
        if lengths is None:
            return list(X)
        over = np.flatnonzero(lengths > X.shape[1])
        if len(over):
            raise DataError(f"{path}: lengths[{over[0]}] is {lengths[over[0]]}, more than X's {X.shape[1]} "
                            "timesteps.")
        return [X[i, :k] for i, k in enumerate(lengths)]
    if X.ndim == 2 and lengths is not None:  # every sequence one after the other, rows = timesteps
        if int(lengths.sum()) != len(X):
            raise DataError(f"{path}: lengths add up to {int(lengths.sum())} timesteps but X has {len(X)} rows; "
                            "X must hold every sequence's timesteps one after the other.")
        return np.split(X, np.cumsum(lengths)[:-1])
    raise DataError(f"{path}: X has shape {X.shape}; expected (samples, timesteps, features), or "
                    "(total timesteps, features) with a 'lengths' array (one sequence after another). A univariate "
                    "series is (samples, timesteps, 1).")


FLOAT32_MAX = float(np.finfo("float32").max)  # the largest value a float32 holds


def checked_sequence(path: Path, i: int, seq: Any, width: int | None) -> np.ndarray:
    """Sample ``i`` of ``path`` as float32 (timesteps, features), or one :class:`DataError` saying what is wrong
    with it: not numbers, not 2-D, not ``width`` features (the first sample's), NaN or inf, or beyond float32."""
    try:
        raw = np.asarray(seq, dtype="float64")
    except (TypeError, ValueError):
        raise DataError(f"{path}: sample {i}: not numeric.") from None
    if raw.ndim != 2 or raw.shape[0] == 0:
        raise DataError(f"{path}: sample {i} has shape {raw.shape}; expected (timesteps >= 1, features).")
    if width is not None and raw.shape[1] != width:
        raise DataError(f"{path}: sample {i} has {raw.shape[1]} features per timestep, sample 0 has {width}; "
                        "every sample needs the same feature count.")
    if not np.isfinite(raw).all():
        bad = np.argwhere(~np.isfinite(raw))[0]
        raise DataError(f"{path}: sample {i}, timestep {bad[0]}, feature {bad[1]} is {raw[tuple(bad)]}; "
                        "replace NaN and inf values in the file (the network cannot read them).")
    if raw.size and np.abs(raw).max() > FLOAT32_MAX:
        bad = np.argwhere(np.abs(raw) > FLOAT32_MAX)[0]
        raise DataError(f"{path}: sample {i}, timestep {bad[0]}, feature {bad[1]} is {raw[tuple(bad)]:g}, beyond "
                        "float32's range (3.4e38); rescale that feature.")
    return raw.astype("float32")


def _features(path: Path, options: DataOptions) -> Dataset:
    arrays = _open_npz(path, options.allow_pickle)
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(f"{path}: no array '{key}' (has: {', '.join(arrays) or 'none'}); expected X "
                            "(samples, timesteps, features) and y (labels).")
    X, y = arrays["X"], arrays["y"]
    if y.ndim != 1:
        raise DataError(f"{path}: y has shape {y.shape}; expected one label per sample, shape (samples,).")
    if len(y) == 0:
        raise DataError(f"{path}: the file is empty (0 samples).")
    seqs = _sequences(path, X, arrays.get("lengths"), len(y))
    if len(seqs) != len(y):
        raise DataError(f"{path}: X has {len(seqs)} samples but y has {len(y)} labels.")
    ds = Dataset("features", [], [], str(path))
    width = None
    for i, seq in enumerate(seqs):
        seq = checked_sequence(path, i, seq, width)
        width = seq.shape[1]
        ds.x.append(seq)
        ds.y.append(_label(y[i].item() if hasattr(y[i], "item") else y[i], f"{path}: sample {i}"))
        ds.rows.append(i)
    return ds


def _check_label_types(ds: Dataset) -> None:
    first: dict[type, int] = {}
    for i, label in enumerate(ds.y):
        first.setdefault(int if isinstance(label, int) else str, i)
    if len(first) > 1:
        i, s = first[int], first[str]
        where = (lambda j: f"line {ds.rows[j]}") if ds.kind == "text" else (lambda j: f"sample {ds.rows[j]}")
        raise DataError(f"{ds.source}: labels mix integers and strings ({where(i)} has {ds.y[i]!r}, {where(s)} has "
                        f"{ds.y[s]!r}); write every label the same way.")


READERS = {
    "csv": lambda path, text, o: _table(path, text, o.sep or ",", o.text_column, o.label_column),
    "tsv": lambda path, text, o: _table(path, text, o.sep or "\t", o.text_column, o.label_column),
    "jsonl": lambda path, text, o: _jsonl(path, text, o.text_column, o.label_column),
    "lines": lambda path, text, o: _lines(path, text, o.sep),
}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".npz": "npz"}


def load_dataset(path: str | Path, options: DataOptions | None = None, **changes: Any) -> Dataset:
    """Read a data file; the format comes from the extension unless ``options.format`` names one.

    ``changes`` override single :class:`zoo.config.DataOptions` fields (``sep=";"``, ``encoding="latin-1"``).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = f.write_text("\\ni feel great;joy\\ni am so sad;sadness\\n")
    >>> ds = load_dataset(f)
    >>> ds.x, ds.y, ds.skipped_note().endswith("train.txt: 1 blank line")
    (['i feel great', 'i am so sad'], ['joy', 'sadness'], True)
    """
    import dataclasses

    options = dataclasses.replace(options or DataOptions(), **changes) if changes else options or DataOptions()
    path = Path(path)
    fmt = options.format or detect_format(path)
    if fmt == "npz":
        ds = _features(path, options)
    else:
        ds = READERS[fmt](path, _read_text(path, options.encoding), options)
    if not len(ds):
        raise DataError(f"{path}: no examples (the file has only blank rows or empty texts).")
    _check_label_types(ds)
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
    >>> LabelEncoder.fit([0, 1, 10], "train.jsonl").encode(["10", "0"], "test.csv").tolist()  # a CSV's digits
    [2, 0]
    """

    def __init__(self, labels: list):
        self.labels = list(labels)
        self.index = {label: i for i, label in enumerate(self.labels)}
        # a CSV or text file cannot tell 1 from "1": integer labels from JSONL or .npz match their digits elsewhere
        self.by_text = {str(label): i for i, label in enumerate(self.labels)}

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
            found = self.index.get(label)
            if found is None:
                found = self.by_text.get(str(label))
            if found is None:
                where = f"{source}:{rows[i]}" if rows else source
                known = ", ".join(map(str, self.labels))
                raise DataError(f"{where}: label {label!r} never appears in the training data (known: {known}).")
            out[i] = found
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


def targets(y: np.ndarray, num_classes: int, labels: str) -> np.ndarray:
    """What the loss takes: one-hot float32 rows for ``labels="categorical"``, the class ids for ``"sparse"``.

    >>> targets(np.array([2, 0]), 3, "categorical").tolist(), targets(np.array([2, 0]), 3, "sparse").tolist()
    ([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [2, 0])
    """
    return np.eye(num_classes, dtype="float32")[y] if labels == "categorical" else np.asarray(y)
