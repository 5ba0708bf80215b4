"""Batch prediction into a file: ``zoo predict RUN --data F --output preds.csv``.

Inputs stream from the data file in chunks (bounded memory whatever its size), labelled or not: a CSV/TSV/JSONL
file needs only its text column, a ``TEXT<SEP>LABEL`` file may be plain lines of text, an ``.npz`` needs only
``X``. Each chunk is predicted and written at once, in input order; the output appears only when complete.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .config import DataOptions
from .data import SEPARATORS, detect_format
from .errors import DataError, ZooError
from .files import regular_file

CHUNK_ROWS = 4096
OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _text_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line, decoded lazily; a decoding error names its line."""
    with open(regular_file(path, DataError), "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode(encoding).rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(f"{path}:{number}: bytes that are not {encoding}; pass --encoding latin-1 (or the "
                                "file's real encoding).") from None
            except LookupError:
                raise DataError(f"Unknown encoding {encoding!r}; use e.g. utf-8 or latin-1.") from None
            yield number, line.removeprefix("\ufeff") if number == 1 else line


def _label_separator(path: Path, options: DataOptions, labels: set[str]) -> str | None:
    """The separator of ``TEXT<SEP>LABEL`` lines if the file has labels (90% of its first lines end in a known
    label after one), else None: then each line is a text to predict."""
    if options.sep is not None:
        return options.sep
    sample = [line for _, line in zip(range(200), (line for _, line in _text_lines(path, options.encoding)))
              if line.strip()]
    for sep in SEPARATORS:
        hits = sum(line.rpartition(sep)[1] == sep and line.rpartition(sep)[2].strip() in labels for line in sample)
        if sample and hits >= 0.9 * len(sample):
            return sep
    return None


def _lines(path: Path, options: DataOptions, labels: set[str], skipped: list[int]) -> Iterator[tuple[int, Any]]:
    sep = _label_separator(path, options, labels)
    for number, line in _text_lines(path, options.encoding):
        text = line.rpartition(sep)[0] if sep and sep in line else line
        if text.strip():
            yield number, text
        elif line.strip():  # a blank line is no row; a row with an empty text is one, skipped
            skipped.append(number)


def _table(path: Path, options: DataOptions, delimiter: str, skipped: list[int]) -> Iterator[tuple[int, Any]]:
    lines = (line + "\n" for _, line in _text_lines(path, options.encoding))
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: the file is empty.") from None
    if options.text_column not in header:
        raise DataError(f"{path}:1: no column '{options.text_column}'; the header has: {', '.join(header)}. Name "
                        "the right one with --text-column.")
    column = header.index(options.text_column)
    try:
        for row in reader:
            if len(row) > column and row[column].strip():
                yield reader.line_num, row[column]
            elif any(field.strip() for field in row):
                skipped.append(reader.line_num)
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed row ({e}).") from None


def _jsonl(path: Path, options: DataOptions, skipped: list[int]) -> Iterator[tuple[int, Any]]:
    for number, line in _text_lines(path, options.encoding):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{number}: invalid JSON ({e.msg}).") from None
        if not isinstance(obj, dict) or not isinstance(obj.get(options.text_column), str):
            raise DataError(f"{path}:{number}: expected an object with a string '{options.text_column}' (name the "
                            "key with --text-column).")
        if obj[options.text_column].strip():
            yield number, obj[options.text_column]
        else:
            skipped.append(number)


def _npz(path: Path, options: DataOptions) -> Iterator[tuple[int, Any]]:
    from .data import _open_npz, _sequences, checked_sequence

    arrays = _open_npz(path, options.allow_pickle)
    if "X" not in arrays:
        raise DataError(f"{path}: no array 'X' (has: {', '.join(arrays) or 'none'}).")
    lengths = arrays.get("lengths")
    n = len(lengths) if lengths is not None else len(arrays["X"])
    width = None
    for i, seq in enumerate(_sequences(path, arrays["X"], lengths, n)):
        seq = checked_sequence(path, i, seq, width)
        width = seq.shape[1]
        yield i, seq


def iter_inputs(path: str | Path, options: DataOptions | None = None, labels: list | None = None,
                skipped: list[int] | None = None) -> Iterator[tuple[int, Any]]:
    """``(row, input)`` for every example of a data file, labelled or not, read as it goes: ``row`` is the line
    (text) or sample index (``.npz``) it came from. A row whose text is empty has nothing to predict: its line goes
    to ``skipped``."""
    path, options = Path(path), options or DataOptions()
    skipped = [] if skipped is None else skipped
    fmt = options.format or detect_format(path)
    if fmt == "npz":
        return _npz(path, options)
    if fmt in ("csv", "tsv"):
        return _table(path, options, options.sep or ("," if fmt == "csv" else "\t"), skipped)
    if fmt == "jsonl":
        return _jsonl(path, options, skipped)
    return _lines(path, options, {str(label) for label in labels or ()}, skipped)


def skipped_note(path: str | Path, skipped: list[int]) -> str | None:
    """The note for the rows :func:`iter_inputs` skipped, or None."""
    if not skipped:
        return None
    shown = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
    return f"skipped {len(skipped)} row(s) of {path} with an empty text, nothing to predict (line {shown})"


class _Writer:
    """Prediction rows, CSV or JSONL, into a temporary sibling of ``path`` that becomes ``path`` when done."""

    def __init__(self, path: Path, labels: list, probabilities: bool):
        self.format = OUTPUT_FORMATS.get(path.suffix.lower())
        if self.format is None:
            raise ZooError(f"--output {path}: name a .csv or .jsonl file.")
        self.path, self.labels, self.probabilities = path, labels, probabilities
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self.file = open(self.tmp, "w", encoding="utf-8", newline="")
        if self.format == "csv":
            self.csv = csv.writer(self.file)
            self.csv.writerow(["row", "label", "probability"] +
                              ([f"p_{label}" for label in labels] if probabilities else []))

    def write(self, rows: list[int], probs: np.ndarray) -> None:
        best = probs.argmax(axis=1)
        for row, p, i in zip(rows, probs, best):
            if self.format == "csv":
                self.csv.writerow([row, self.labels[i], f"{p[i]:.6g}"] +
                                  ([f"{v:.6g}" for v in p] if self.probabilities else []))
            else:
                record = {"row": row, "label": self.labels[i], "probability": float(p[i])}
                if self.probabilities:
                    record["probabilities"] = {str(k): float(v) for k, v in zip(self.labels, p)}
                self.file.write(json.dumps(record) + "\n")

    def close(self, ok: bool) -> None:
        self.file.close()
        if ok:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def _progress(done: int, start: float) -> None:
    if sys.stderr.isatty():
        rate = done / max(time.perf_counter() - start, 1e-9)
        print(f"\rpredicted {done:,} rows ({rate:,.0f} rows/s)", end="", file=sys.stderr, flush=True)


def check_kind(classifier: Any, data: str | Path, options: DataOptions) -> None:
    """A file of the kind of data the run was trained on (text, or .npz features), or one clear error."""
    fmt = options.format or detect_format(data)
    if (fmt == "npz") != (classifier.kind == "features"):
        raise DataError(f"{data} holds {'features' if fmt == 'npz' else 'text'} but this run was trained on "
                        f"{classifier.kind}.")


def predict_file(classifier: Any, data: str | Path, output: str | Path, options: DataOptions | None = None,
                 probabilities: bool = False, chunk_rows: int = CHUNK_ROWS,
                 progress: Callable[[int, float], None] = _progress, skipped: list[int] | None = None) -> int:
    """Predict every example of ``data`` into ``output`` (.csv or .jsonl) in input order, ``chunk_rows`` at a time;
    returns the number of rows written. ``probabilities`` adds every class's probability to each row; the lines of
    rows with an empty text (nothing to predict) go to ``skipped``."""
    output, skipped = Path(output), [] if skipped is None else skipped
    options = options or (classifier.record.train.data_options if classifier.record else DataOptions())
    check_kind(classifier, data, options)
    writer = _Writer(output, classifier.labels, probabilities)
    done, start, ok = 0, time.perf_counter(), False
    try:
        rows, inputs = [], []
        for row, x in iter_inputs(data, options, classifier.labels, skipped):
            rows.append(row)
            inputs.append(x)
            if len(inputs) == chunk_rows:
                writer.write(rows, classifier.predict_proba(inputs))
                done += len(rows)
                rows, inputs = [], []
                progress(done, start)
        if inputs:
            writer.write(rows, classifier.predict_proba(inputs))
            done += len(rows)
        if not done:
            raise DataError(f"{data}: no examples to predict" + (f" (the text of all {len(skipped)} rows is empty)."
                                                                 if skipped else "."))
        ok = True
    finally:
        writer.close(ok)
        if sys.stderr.isatty():
            print(file=sys.stderr)
    return done


__all__ = ["OUTPUT_FORMATS", "check_kind", "iter_inputs", "predict_file", "skipped_note"]
