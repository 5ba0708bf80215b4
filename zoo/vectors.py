"""Pretrained word vectors for text runs (``zoo train --embeddings FILE``): a network whose embeddings start at
random cannot place a word its training texts hold once or never; vectors learned elsewhere (GloVe, word2vec,
fastText) can. The zoo downloads none: the user brings the file.

The file is text (or gzip-compressed text, whatever its name), one word per line followed by its numbers, separated
by spaces or tabs: GloVe's format, and word2vec's and fastText's ``.vec`` text format, whose first line
(``COUNT DIM``) is skipped. A word is standardized as the tokenizer standardizes text (ASCII letters lower-cased,
punctuation stripped, see :func:`zoo.recipe.tokens`); the first line of a word wins (these files list frequent
words first), and an entry that standardizes to no word or to several (``"."``, ``"new york"``, or a line with more
numbers than the others) is skipped and counted in a note.

The vocabulary (:func:`vocabulary`) is the recipe's words seen at least ``MIN_WORD_COUNT`` times, then the other
training words that have a vector, then the file's other words in its order, up to ``VOCAB_CAP`` in all: a word
that is not in the training texts still gets its own id and its vector, so a question about a word the training
data never held is read through that word's neighbours. The network's ``Embedding`` starts from the vectors
(:func:`load_into`) and is trained on like the rest of it; the saved model keeps the vocabulary and the trained
embedding, so prediction needs the file no more.

The vectors' dimension is the header's, else the commonest number of numbers on the first ``HEAD_LINES`` lines, so
one odd first entry cannot set it. Reading is bounded: at most ``MAX_LINES`` lines and ``MAX_LINE_BYTES`` bytes a
line, and numbers are parsed and kept only for the training words and for as many other words as the vocabulary has
room for. Nothing here imports TensorFlow but :func:`load_into`.
"""

from __future__ import annotations

import gzip
import itertools
import os
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from . import recipe
from .data import FLOAT32_MAX
from .errors import DataError, ZooError
from .files import regular_file

MAX_LINES = 5_000_000  # the largest common files (GloVe 840B, fastText crawl) hold 2.2 million words
MAX_LINE_BYTES = 1 << 20
MAX_DIM = 4096


@dataclass(frozen=True)
class Pretrained:
    """The vocabulary a text run's tokenizer takes and the vectors its ``Embedding`` starts from."""

    source: str
    dim: int
    vocabulary: tuple[str, ...]  # token ids 2, 3, ... (0 is padding, 1 the unknown word)
    vectors: np.ndarray  # float32 (len(vocabulary), dim); zero rows where ``found`` is False
    found: np.ndarray  # bool (len(vocabulary),)
    from_file: int  # how many vocabulary words come from the file alone (not in the training texts)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary) + recipe.RESERVED_IDS

    def summary(self) -> dict[str, Any]:
        """What ``config.json`` records of the vectors (the recipe's ``embeddings`` entry)."""
        return {"source": self.source, "dim": self.dim, "vocabulary": len(self.vocabulary),
                "with_vectors": int(self.found.sum()), "from_file": self.from_file}


def _open(path: str) -> Any:
    """The file for reading bytes, decompressed where it starts as gzip does (whatever its name)."""
    with open(path, "rb") as f:
        packed = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if packed else open(path, "rb")


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """The file's lines, numbered from 1, decoded, without their line ends."""
    try:
        with _open(path) as f:
            for number in range(1, MAX_LINES + 2):
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                if len(raw) > MAX_LINE_BYTES:
                    raise DataError(f"{path}:{number}: longer than {MAX_LINE_BYTES:,} bytes; a word-vector file "
                                    "holds one word and its numbers per line.")
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(f"{path}:{number}: bytes that are not utf-8 ({e.reason}); pass word vectors in "
                                    "GloVe's or word2vec's text format, UTF-8 (a binary word2vec .bin file is not "
                                    "read).") from None
                yield number, line.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot read it ({getattr(e, 'strerror', None) or e}).") from None


def _fields(line: str) -> list[str]:
    """A line's fields: split on spaces and tabs only (a word may hold other whitespace, as a token may)."""
    return [f for f in line.replace("\t", " ").split(" ") if f]


def _header(fields: list[str]) -> int | None:
    """The dimension a word2vec/fastText first line ``COUNT DIM`` gives, or None when the line is a vector."""
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[1])
    return None


@dataclass
class _Read:
    dim: int = 0
    vectors: dict = field(default_factory=dict)  # word -> float32 vector
    others: list = field(default_factory=list)  # the words kept that the training texts do not hold, in file order
    cut: bool = False  # stopped at MAX_LINES
    skipped: int = 0  # entries of several words or none
    first_skipped: int = 0  # the line of the first


def _vector(path: str, number: int, word: str, fields: list[str]) -> np.ndarray:
    try:
        vector = np.array(fields, dtype="float64")
    except ValueError:
        raise DataError(f"{path}:{number}: the vector of '{word[:40]}' holds something that is not a number.") \
            from None
    if not np.isfinite(vector).all() or np.abs(vector).max() > FLOAT32_MAX:
        raise DataError(f"{path}:{number}: the vector of '{word[:40]}' holds inf, nan or a number beyond float32.")
    return vector.astype("float32")


HEAD_LINES = 20  # the dimension is the commonest width of the first vector lines: one odd first line cannot set it


def _dimension(path: str, lines: Iterator[tuple[int, str]]) -> tuple[int, list[tuple[int, list[str]]]]:
    """The vectors' dimension (the ``COUNT DIM`` header's, checked against the first lines, or their commonest
    width) and the first vector lines read to find it, as (line number, fields)."""
    header: int | None = None
    head: list[tuple[int, list[str]]] = []
    for number, line in lines:
        fields = _fields(line)
        if not fields:
            continue
        if header is None and not head and _header(fields) is not None:
            header = _header(fields)
            if not 1 <= header <= MAX_DIM:
                raise DataError(f"{path}:{number}: a header of {header} dimensions; expected 1 to {MAX_DIM:,}.")
            continue
        head.append((number, fields))
        if len(head) == HEAD_LINES:
            break
    if not head:
        raise DataError(f"{path}: no word vectors in it; expected lines of a word followed by its numbers (GloVe's or "
                        "word2vec's text format).")
    width = Counter(len(f) - 1 for _, f in head).most_common(1)[0][0]
    number = next(n for n, f in head if len(f) - 1 == width)
    if header is not None and width != header:
        raise DataError(f"{path}:{number}: {width} numbers after the word, but the header says {header}.")
    if not 1 <= width <= MAX_DIM:
        raise DataError(f"{path}:{number}: {width} numbers after the word; expected a word followed by 1 to "
                        f"{MAX_DIM:,} numbers (GloVe's or word2vec's text format).")
    return width, head


def read(path: str | os.PathLike, training_words: set[str], extra: int) -> _Read:
    """Read ``path``: its dimension, the vectors of the ``training_words`` it holds and of its first ``extra``
    other words, those other words in file order, whether it was cut at ``MAX_LINES``, and how many entries were
    skipped (several words or none).

    A malformed line raises :class:`DataError` naming the file and the line.
    """
    path = str(regular_file(path, DataError))
    lines = _lines(path)
    dim, head = _dimension(path, lines)
    out, entries = _Read(dim), 0  # no set of every word seen: a file of millions would hold them all in memory
    rest = ((number, _fields(line)) for number, line in lines)
    for number, fields in itertools.chain(head, rest):
        if number > MAX_LINES:
            out.cut = True
            break
        if not fields:
            continue
        if len(fields) < dim + 1:
            raise DataError(f"{path}:{number}: {len(fields) - 1} numbers after the word, but the file's vectors "
                            f"have {dim}; every line needs a word and {dim} numbers.")
        words = recipe.words(" ".join(fields[:-dim]))
        if len(words) != 1:
            out.skipped += 1
            out.first_skipped = out.first_skipped or number
            continue
        word, entries = words[0], entries + 1
        if word in out.vectors:  # the first line of a word wins
            continue
        if word in training_words or len(out.others) < extra:
            out.vectors[word] = _vector(path, number, word, fields[-dim:])
            if word not in training_words:
                out.others.append(word)
    if not entries:
        raise DataError(f"{path}: no entry in it reads as one word; expected lines of a word followed by its numbers "
                        "(GloVe's or word2vec's text format).")
    return out


_last: dict[tuple, tuple[Pretrained, list[str]]] = {}  # the last file read: zoo compare reads it once, not per run


def vocabulary(counts: Counter, path: str | os.PathLike, cap: int = recipe.VOCAB_CAP,
               min_count: int = recipe.MIN_WORD_COUNT) -> tuple[Pretrained, list[str]]:
    """The vocabulary and vectors for training texts whose word ``counts`` are given, with the vectors in
    ``path``; at most ``cap`` words (padding and unknown not counted). Returns them and the notes to print. The
    last answer is kept while the file and the arguments are the same."""
    stat = os.stat(regular_file(path, DataError))
    key = (str(path), stat.st_mtime_ns, stat.st_size, cap, min_count, tuple(sorted(counts.items())))
    if key not in _last:
        _last.clear()
        _last[key] = _vocabulary(counts, str(path), cap, min_count)
    pretrained, notes = _last[key]
    return pretrained, list(notes)


def _vocabulary(counts: Counter, path: str, cap: int, min_count: int) -> tuple[Pretrained, list[str]]:
    frequent = [w for w, n in counts.most_common() if n >= min_count][:cap]
    got = read(path, set(counts), max(0, cap - len(frequent)))
    rare = [w for w, n in counts.most_common() if n < min_count and w in got.vectors]
    words = (frequent + rare + got.others)[:cap]
    found = np.array([w in got.vectors for w in words], dtype=bool)
    matrix = np.zeros((len(words), got.dim), dtype="float32")
    for i, w in enumerate(words):
        if found[i]:
            matrix[i] = got.vectors[w]
    from_file = sum(1 for w in words if w not in counts)
    trained = [w for w in words if w in counts]
    covered = sum(1 for w in trained if w in got.vectors)
    if not covered:
        raise ZooError(f"{path}: none of the {len(trained):,} training words has a vector in it; is it a file of "
                       "word vectors for this language (words are matched as the tokenizer reads them: ASCII letters "
                       "lower-cased, punctuation stripped)?")
    notes = [f"embeddings from {path}: {got.dim}-dimensional vectors for {covered:,} of the {len(trained):,} training "
             f"words kept and for {from_file:,} words the training texts do not hold (the file's most frequent), "
             f"vocab_size {len(words) + recipe.RESERVED_IDS} (at most {cap:,} words plus padding and unknown); the "
             "Embedding starts from them and trains with the rest"]
    if got.skipped:
        notes.append(f"{path}: {got.skipped:,} entries skipped (first on line {got.first_skipped}): each is several "
                     "words or none as the tokenizer reads it, so no token could ever use its vector")
    if got.cut:
        notes.append(f"{path}: only its first {MAX_LINES:,} lines were read")
    return Pretrained(path, got.dim, tuple(words), matrix, found, from_file), notes


def load_into(network: Any, pretrained: Pretrained) -> int:
    """Set the rows of every ``Embedding`` in ``network`` with one row per token id and ``pretrained.dim``
    columns to the vectors (the words without one keep their random rows); returns how many layers it set. Call
    it on a freshly built network."""
    import keras

    from .inference import sublayers

    set_layers = 0
    for layer in sublayers(network):
        if isinstance(layer, keras.layers.Embedding) and layer.input_dim == pretrained.vocab_size \
                and layer.output_dim == pretrained.dim:
            table = np.array(keras.ops.convert_to_numpy(layer.embeddings))
            rows = np.arange(len(pretrained.vocabulary))[pretrained.found] + recipe.RESERVED_IDS
            table[rows] = pretrained.vectors[pretrained.found]
            layer.embeddings.assign(table.astype(table.dtype))
            set_layers += 1
    return set_layers


__all__ = ["MAX_LINES", "Pretrained", "load_into", "read", "vocabulary"]
