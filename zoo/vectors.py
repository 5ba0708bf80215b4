"""Pretrained word vectors for text runs (``zoo train --embeddings FILE``): a network whose embeddings start at
random cannot place a word its training texts hold once or never; vectors learned elsewhere (GloVe, word2vec,
fastText) can. The zoo downloads none: the user brings the file.

The file is text (or gzip-compressed text, ``.gz``), one word per line followed by its numbers, separated by
whitespace: GloVe's format, and word2vec's and fastText's ``.vec`` text format, whose first line (``COUNT DIM``) is
skipped. A word is standardized as the tokenizer standardizes text (lower case, punctuation stripped, see
:func:`zoo.recipe.words`); the first line of a word wins (these files list frequent words first), and an entry
that standardizes to no word or to several (``"."``, ``"new york"``) is skipped.

The vocabulary (:func:`vocabulary`) is the recipe's words seen at least ``MIN_WORD_COUNT`` times, then the other
training words that have a vector, then the file's other words in its order, up to ``VOCAB_CAP`` in all: a word
that is not in the training texts still gets its own id and its vector, so a question about a word the training
data never held is read through that word's neighbours. The network's ``Embedding`` starts from the vectors
(:func:`load_into`) and is trained on like the rest of it; the saved model keeps the vocabulary and the trained
embedding, so prediction needs the file no more.

Reading is bounded: at most ``MAX_LINES`` lines and ``MAX_LINE_BYTES`` bytes a line, and the numbers are kept
only for the words the vocabulary takes. Nothing here imports TensorFlow but :func:`load_into`.
"""

from __future__ import annotations

import gzip
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from . import recipe
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


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """The file's lines, numbered from 1; gzip-compressed where the name ends in ``.gz``."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            for number in range(1, MAX_LINES + 2):
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                if len(raw) > MAX_LINE_BYTES:
                    raise DataError(f"{path}:{number}: longer than {MAX_LINE_BYTES:,} bytes; a word-vector file "
                                    "holds one word and its numbers per line.")
                try:
                    yield number, raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(f"{path}:{number}: bytes that are not utf-8 ({e.reason}); pass word vectors in "
                                    "GloVe's or word2vec's text format, UTF-8 (a binary word2vec .bin file is not "
                                    "read).") from None
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read it ({getattr(e, 'strerror', None) or e}).") from None


def _header(fields: list[str]) -> int | None:
    """The dimension a word2vec/fastText first line ``COUNT DIM`` gives, or None when the line is a vector."""
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[1])
    return None


def read(path: str | os.PathLike, training_words: set[str], extra: int) -> tuple[int, dict[str, np.ndarray],
                                                                                    list[str], bool]:
    """Read ``path``: its dimension, the vectors of the ``training_words`` it holds and of its first ``extra``
    other words, those other words in file order, and whether it was cut at ``MAX_LINES``.

    A malformed line raises :class:`DataError` naming the file and the line.
    """
    path = str(regular_file(path, DataError))
    dim: int | None = None
    vectors: dict[str, np.ndarray] = {}
    others: list[str] = []
    seen: set[str] = set()
    cut = False
    for number, line in _lines(path):
        if number > MAX_LINES:
            cut = True
            break
        fields = line.split()
        if not fields:
            continue
        if dim is None:
            dim = _header(fields) if number == 1 else None
            if dim is not None:
                if not 1 <= dim <= MAX_DIM:
                    raise DataError(f"{path}:1: a header of {dim} dimensions; expected 1 to {MAX_DIM:,}.")
                continue
            dim = len(fields) - 1
            if not 1 <= dim <= MAX_DIM:
                raise DataError(f"{path}:{number}: {dim} numbers after the word; expected a word followed by "
                                f"1 to {MAX_DIM:,} numbers (GloVe's or word2vec's text format).")
        if len(fields) < dim + 1:
            raise DataError(f"{path}:{number}: {len(fields) - 1} numbers after the word, but the file's vectors "
                            f"have {dim}; every line needs a word and {dim} numbers.")
        tokens = recipe.words(" ".join(fields[:-dim]))
        if len(tokens) != 1 or tokens[0] in seen:
            continue
        word = tokens[0]
        seen.add(word)
        if word in training_words or len(others) < extra:
            try:
                vector = np.array(fields[-dim:], dtype="float32")
            except ValueError:
                raise DataError(f"{path}:{number}: the vector of '{word[:40]}' holds something that is not a number.") \
                    from None
            if not np.isfinite(vector).all():
                raise DataError(f"{path}:{number}: the vector of '{word[:40]}' holds inf or nan.")
            vectors[word] = vector
            if word not in training_words:
                others.append(word)
    if dim is None or not seen:
        raise DataError(f"{path}: no word vectors in it; expected lines of a word followed by its numbers (GloVe's or "
                        "word2vec's text format).")
    return dim, vectors, others, cut


def vocabulary(counts: Counter, path: str | os.PathLike, cap: int = recipe.VOCAB_CAP,
               min_count: int = recipe.MIN_WORD_COUNT) -> tuple[Pretrained, list[str]]:
    """The vocabulary and vectors for training texts whose word ``counts`` are given, with the vectors in
    ``path``; at most ``cap`` words (padding and unknown not counted). Returns them and the notes to print."""
    frequent = [w for w, n in counts.most_common() if n >= min_count][:cap]
    dim, vectors, others, cut = read(path, set(counts), max(0, cap - len(frequent)))
    rare = [w for w, n in counts.most_common() if n < min_count and w in vectors]
    words = (frequent + rare + others)[:cap]
    found = np.array([w in vectors for w in words], dtype=bool)
    matrix = np.zeros((len(words), dim), dtype="float32")
    for i, w in enumerate(words):
        if found[i]:
            matrix[i] = vectors[w]
    from_file = sum(1 for w in words if w not in counts)
    trained = [w for w in words if w in counts]
    covered = sum(1 for w in trained if w in vectors)
    if not covered:
        raise ZooError(f"{path}: none of the {len(trained):,} training words has a vector in it; is it a file of "
                       "word vectors for this language (the words are matched lower-cased, punctuation stripped)?")
    notes = [f"embeddings from {path}: {dim}-dimensional vectors for {covered:,} of the {len(trained):,} training "
             f"words kept and for {from_file:,} words the training texts do not hold (the file's most frequent), "
             f"vocab_size {len(words) + recipe.RESERVED_IDS} (at most {cap:,} words plus padding and unknown); the "
             "Embedding starts from them and trains with the rest"]
    if cut:
        notes.append(f"{path}: only its first {MAX_LINES:,} lines were read")
    return Pretrained(str(path), dim, tuple(words), matrix, found, from_file), notes


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
