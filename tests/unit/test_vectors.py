"""Reading pretrained word vectors (zoo.vectors): GloVe's and word2vec's text formats, gzip, the tokenizer's
standardization (checked against Keras's own tokenizer once), the vocabulary they give, and one exact error per
malformed file."""

import gzip
from collections import Counter

import numpy as np
import pytest

from zoo import recipe, vectors
from zoo.errors import DataError, ZooError

GLOVE = """\
The 1 0 0
cat 0 1 0
. 9 9 9
new york 5 5 5
the 7 7 7
DOG 0 0 1
emu 0.5 -0.5 2e-1
"""


def test_glove_word2vec_and_gzip_files_read_the_same_vectors(tmp_path):
    glove = tmp_path / "v.txt"
    glove.write_text(GLOVE)
    word2vec = tmp_path / "v.vec"
    word2vec.write_text("7 3\n" + GLOVE)
    packed = tmp_path / "v.txt.gz"
    with gzip.open(packed, "wt") as f:
        f.write(GLOVE)
    named = tmp_path / "vectors.bin"  # gzip is told by its first bytes, not by the name
    named.write_bytes(packed.read_bytes())
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + GLOVE.encode())  # a byte-order mark is not part of the first word
    for p in (glove, word2vec, packed, named, bom):
        got = vectors.read(p, {"the", "cat", "dog"}, extra=5)
        assert (got.dim, got.others, got.cut) == (3, ["emu"], False)
        # lower-cased as the tokenizer lower-cases; the first line of a word wins; "." and "new york" are no word
        assert sorted(got.vectors) == ["cat", "dog", "emu", "the"]
        assert (got.skipped, got.first_skipped) == (2, 4 if p == word2vec else 3)
        np.testing.assert_array_equal(got.vectors["the"], [1, 0, 0])
        np.testing.assert_array_equal(got.vectors["dog"], [0, 0, 1])
        np.testing.assert_allclose(got.vectors["emu"], [0.5, -0.5, 0.2])
    assert vectors.read(glove, {"the"}, extra=0).vectors.keys() == {"the"}  # other words' numbers are not kept


def test_words_are_matched_as_the_tokenizer_reads_them(tmp_path):
    import keras

    text = "Über ÜBER über Москва DOG\u00a0house it's"
    tokenizer = keras.layers.TextVectorization()
    tokenizer.adapt(np.array([text], dtype=object))
    assert sorted(tokenizer.get_vocabulary()[2:]) == sorted(set(recipe.words(text)))
    assert set(recipe.words(text)) == {"Über", "über", "Москва", "dog\u00a0house", "its"}  # "ÜBER" -> "Über"
    path = tmp_path / "v.txt"
    path.write_text("Über 1\nüber 2\nМОСКВА 3\nМосква 4\ndog\u00a0house 5\n")
    got = vectors.read(path, set(recipe.words(text)), extra=5)
    # ASCII letters alone are lower-cased, as TensorFlow does; a no-break space does not split a word
    assert {w: float(v[0]) for w, v in got.vectors.items()} == {"Über": 1, "über": 2, "МОСКВА": 3, "Москва": 4,
                                                                "dog\u00a0house": 5}


def test_the_vocabulary_is_frequent_words_then_rare_ones_with_vectors_then_the_files_words(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("".join(f"{w} {i} {-i}\n" for i, w in enumerate(["rare", "zebra", "yak", "frequent", "xerus"])))
    counts = Counter({"frequent": 5, "common": 3, "rare": 1, "hapax": 1})
    pretrained, notes = vectors.vocabulary(counts, path, cap=5)
    # "common" has no vector but is kept (seen twice); "hapax" is seen once and has none: the unknown word's id
    assert pretrained.vocabulary == ("frequent", "common", "rare", "zebra", "yak")
    assert pretrained.found.tolist() == [True, False, True, True, True]
    np.testing.assert_array_equal(pretrained.vectors[0], [3, -3])
    np.testing.assert_array_equal(pretrained.vectors[1], [0, 0])
    assert (pretrained.vocab_size, pretrained.from_file) == (5 + recipe.RESERVED_IDS, 2)
    assert pretrained.summary() == {"source": str(path), "dim": 2, "vocabulary": 5, "with_vectors": 4,
                                    "from_file": 2}
    assert notes == [f"embeddings from {path}: 2-dimensional vectors for 2 of the 3 training words kept and for 2 "
                     "words the training texts do not hold (the file's most frequent), vocab_size 7 (at most 5 words "
                     "plus padding and unknown); the Embedding starts from them and trains with the rest"]
    assert vectors.vocabulary(counts, path, cap=2)[0].vocabulary == ("frequent", "common")


@pytest.mark.parametrize("first", ["new york 1 2 3", "good 1 2 3 4", ". 1 2 3"])
def test_an_odd_first_line_is_skipped_like_any_other_not_taken_as_the_dimension(tmp_path, first):
    path = tmp_path / "v.txt"
    path.write_text(first + "\ncat 1 2 3\ndog 4 5 6\n")
    got = vectors.read(path, {"cat", "dog", "good"}, extra=0)
    assert got.dim == 3 and sorted(got.vectors) == ["cat", "dog"] and (got.skipped, got.first_skipped) == (1, 1)


def test_reading_stops_at_the_line_limit_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "v.txt"
    path.write_text("".join(f"w{i} {i}\n" for i in range(10)))
    monkeypatch.setattr(vectors, "MAX_LINES", 4)
    pretrained, notes = vectors.vocabulary(Counter({"w0": 2, "w9": 2}), path)
    assert pretrained.vocabulary == ("w0", "w9", "w1", "w2", "w3")
    assert pretrained.found.tolist() == [True, False, True, True, True]  # w9 is on line 10, never read
    assert notes[-1] == f"{path}: only its first 4 lines were read"


@pytest.mark.parametrize("content,message", [
    ("a 1 2\nb 3\n", "{p}:2: 1 numbers after the word, but the file's vectors have 2; every line needs a word and 2 "
                     "numbers."),
    ("a 1 2\nb 3 x\n", "{p}:2: the vector of 'b' holds something that is not a number."),
    ("a 1 2\nb nan 1\n", "{p}:2: the vector of 'b' holds inf, nan or a number beyond float32."),
    ("a 1 2\nb 1e39 1\n", "{p}:2: the vector of 'b' holds inf, nan or a number beyond float32."),
    ("\n2 2\na 1 2 3\n", "{p}:3: 3 numbers after the word, but the header says 2."),
    ("", "{p}: no word vectors in it; expected lines of a word followed by its numbers (GloVe's or word2vec's text "
         "format)."),
    ("2 2\n", "{p}: no word vectors in it; expected lines of a word followed by its numbers (GloVe's or word2vec's "
               "text format)."),
    ("2 2\na 1 2\nb 1 2 3\nc 1 2 3\n", "{p}:3: 3 numbers after the word, but the header says 2."),
    (". 1 2\n, 3 4\n", "{p}: no entry in it reads as one word; expected lines of a word followed by its numbers "
                         "(GloVe's or word2vec's text format)."),
    ("3 0\n", "{p}:1: a header of 0 dimensions; expected 1 to 4,096."),
    ("lonely\n", "{p}:1: 0 numbers after the word; expected a word followed by 1 to 4,096 numbers (GloVe's or "
                 "word2vec's text format)."),
    (b"a 1 2\n\xff\xfe 1 2\n", "{p}:2: bytes that are not utf-8 (invalid start byte); pass word vectors in GloVe's or "
                               "word2vec's text format, UTF-8 (a binary word2vec .bin file is not read)."),
])
def test_a_malformed_vector_file_is_one_error_naming_its_line(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError) as e:
        vectors.read(path, {"a", "b"}, extra=10)
    assert str(e.value) == message.format(p=path)


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_a_damaged_gzip_file_is_one_data_error(tmp_path, damage):
    rng = np.random.default_rng(0)
    data = gzip.compress("".join(f"w{i} {rng.normal():.6f}\n" for i in range(5000)).encode())
    if damage == "truncated":
        data = data[:len(data) // 2]
    else:
        data = data[:40] + bytes(b ^ 0x55 for b in data[40:200]) + data[200:]
    path = tmp_path / "v.txt.gz"
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"v\.txt\.gz: cannot read it \(.+\)\.$"):
        vectors.read(path, {"w1"}, extra=0)


def test_an_endless_line_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors, "MAX_LINE_BYTES", 100)
    path = tmp_path / "v.txt"
    path.write_text("a 1\n" + "b" + " 1" * 1000 + "\n")
    with pytest.raises(DataError, match=r"v\.txt:2: longer than 100 bytes; a word-vector file holds one word"):
        vectors.read(path, {"a"}, extra=0)


def test_vectors_for_none_of_the_training_words_are_refused(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("hund 1 2\nkatze 3 4\n")
    with pytest.raises(ZooError) as e:
        vectors.vocabulary(Counter({"dog": 3, "cat": 2}), path)
    assert str(e.value) == (f"{path}: none of the 2 training words has a vector in it; is it a file of word vectors "
                            "for this language (words are matched as the tokenizer reads them: ASCII letters "
                            "lower-cased, punctuation stripped)?")
    with pytest.raises(DataError, match="nope.txt: file not found"):
        vectors.vocabulary(Counter({"dog": 3}), tmp_path / "nope.txt")
