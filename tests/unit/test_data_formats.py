"""Data files: every format reads the same examples; every listed bad input gets its exact error."""

import json
import re

import numpy as np
import pytest

from zoo.data import LabelEncoder, load_dataset, pad_features, stratified_split
from zoo.errors import DataError
from zoo.metrics import classification_metrics

ROWS = [("i feel great", "joy"), ("so sad, today", "sadness"), ("what a joy", "joy")]


def write(tmp_path, name, text, mode="w", encoding="utf-8"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize("name,text", [
    ("d.csv", "text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in ROWS)),
    ("d.tsv", "label\ttext\n" + "".join(f"{lab}\t{t}\n" for t, lab in ROWS)),
    ("d.jsonl", "".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in ROWS)),
    ("d.txt", "".join(f"{t};{lab}\n" for t, lab in ROWS)),
])
def test_every_text_format_reads_the_same_examples(tmp_path, name, text):
    ds = load_dataset(write(tmp_path, name, text))
    assert ds.kind == "text"
    assert list(zip(ds.x, ds.y)) == ROWS


def test_lines_split_on_the_last_separator_and_count_blank_lines(tmp_path):
    ds = load_dataset(write(tmp_path, "v.txt", "\nwell; i think i am ok;joy\n\nfine;love\n"))
    assert ds.x == ["well; i think i am ok", "fine"]
    assert ds.y == ["joy", "love"]
    assert ds.rows == [2, 4]
    assert ds.skipped_note() == f"skipped 2 rows of {tmp_path / 'v.txt'}: 2 blank line"


def test_the_separator_is_the_one_whose_last_field_repeats_like_labels(tmp_path):
    # every line holds both ";" and ","; the labels are after the ",", and the ";" is part of the text
    ds = load_dataset(write(tmp_path, "v.txt", "".join(f"i; loved it {i},pos\nso; bad {i},neg\n" for i in range(10))))
    assert ds.y == ["pos", "neg"] * 10 and ds.x[:2] == ["i; loved it 0", "so; bad 0"]
    # and the other way round: commas in the text, labels after the ";"
    ds = load_dataset(write(tmp_path, "w.txt", "".join(f"well, i {i};joy\nno, not {i};anger\n" for i in range(10))))
    assert ds.y == ["joy", "anger"] * 10
    # a label holding a later separator stays whole: the first separator's last fields already repeat
    ds = load_dataset(write(tmp_path, "l.txt", "".join(f"text {i}\tsports,news\ntext {i}\tblog,news\n"
                                                        for i in range(5))))
    assert ds.y == ["sports,news", "blog,news"] * 5
    # the separator on most lines wins, however few the lines: a comma in one text does not compete with a tab
    ds = load_dataset(write(tmp_path, "s.txt", "Great movie, loved it\tpos\nTerrible\tneg\n"))
    assert ds.y == ["pos", "neg"] and ds.x[0] == "Great movie, loved it"


def test_custom_columns_and_separator(tmp_path):
    ds = load_dataset(write(tmp_path, "d.csv", "id,sentence,y\n1,hello there,a\n2,bye now,b\n"),
                      text_column="sentence", label_column="y")
    assert ds.x == ["hello there", "bye now"] and ds.y == ["a", "b"]
    ds = load_dataset(write(tmp_path, "d.txt", "a|b|x\nc|y\n"), sep="|")
    assert ds.x == ["a|b", "c"] and ds.y == ["x", "y"]


def test_jsonl_keeps_integer_labels(tmp_path):
    ds = load_dataset(write(tmp_path, "d.jsonl", '{"text": "a", "label": 2}\n{"text": "b", "label": 10}\n'))
    assert ds.y == [2, 10]
    assert LabelEncoder.fit([10, 2, 2], "f").labels == [2, 10]
    # a CSV holds the same labels as digits: they match, either way round
    csv_ds = load_dataset(write(tmp_path, "d.csv", "text,label\nc,10\nd,2\n"))
    assert csv_ds.y == ["10", "2"]
    assert LabelEncoder.fit(ds.y, "d.jsonl").encode(csv_ds.y, "d.csv").tolist() == [1, 0]
    assert LabelEncoder.fit(csv_ds.y, "d.csv").encode(ds.y, "d.jsonl").tolist() == [0, 1]  # natural order: 2, 10


@pytest.mark.parametrize("name,text,message", [
    ("d.csv", "sentence,label\nhi,a\n", "d.csv:1: no column 'text'; the header has: sentence, label. Name the right one "
                                        "with --text-column."),
    ("d.csv", "text,label\n", "d.csv: no examples (the file has only blank rows or empty texts)."),
    ("d.txt", "\n\n  \n", "d.txt: the file is empty."),
    ("d.txt", "a;x\nno separator here\n", "d.txt:2: no separator ';'; expected TEXT;LABEL."),
    ("d.txt", "a;x\nb;\n", "d.txt:2: empty label."),
    ("d.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": \n', "d.jsonl:2: invalid JSON"),
    ("d.jsonl", '{"text": "a", "lbl": "x"}\n', "d.jsonl:1: no key 'label' (has: text, lbl); name it with "
                                              "--label-column."),
    ("d.csv", "text,label\na,b,c\n", "d.csv:2: 3 fields, the header has 2."),
    ("d.txt", "just words\nmore words\n", "cannot tell the separator between text and label"),
])
def test_bad_text_files_name_file_line_and_problem(tmp_path, name, text, message):
    with pytest.raises(DataError) as e:
        load_dataset(write(tmp_path, name, text))
    assert message in str(e.value)
    assert str(tmp_path / name) in str(e.value)


def test_undecodable_bytes_name_the_line_and_suggest_an_encoding(tmp_path):
    path = write(tmp_path, "t.txt", b"ok;a\nfine;b\ncaf\xe9 time;a\n", mode="wb")
    with pytest.raises(DataError, match=r"t\.txt:3: bytes that are not utf-8 \(byte 0xe9 at offset 15\); "
                                        r"pass --encoding latin-1"):
        load_dataset(path)
    assert load_dataset(path, encoding="latin-1").x[2] == "café time"


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nope.csv: file not found"):
        load_dataset(tmp_path / "nope.csv")


def test_single_class_and_unseen_labels_are_refused():
    with pytest.raises(DataError, match="train.txt: every example has the label 'joy'; a classifier needs at least 2"):
        LabelEncoder.fit(["joy", "joy"], "train.txt")
    enc = LabelEncoder.fit(["a", "b"], "train.txt")
    with pytest.raises(DataError, match=r"val.txt:7: label 'c' never appears in the training data \(known: a, b\)"):
        enc.encode(["a", "c"], "val.txt", [3, 7])


def test_npz_dense_concatenated_and_padded_forms(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(4, 5, 3)).astype("float32")
    np.savez(tmp_path / "dense.npz", X=dense, y=np.array(["a", "b", "a", "b"]))
    ds = load_dataset(tmp_path / "dense.npz")
    assert ds.kind == "features" and len(ds) == 4 and ds.x[0].shape == (5, 3) and ds.y == ["a", "b", "a", "b"]

    seqs = [rng.normal(size=(n, 3)).astype("float32") for n in (2, 6, 4)]
    np.savez(tmp_path / "concat.npz", X=np.concatenate(seqs), lengths=np.array([2, 6, 4]), y=np.array([0, 1, 1]))
    ds = load_dataset(tmp_path / "concat.npz")
    assert [x.shape[0] for x in ds.x] == [2, 6, 4] and ds.y == [0, 1, 1]
    assert all(np.array_equal(a, b) for a, b in zip(ds.x, seqs))

    np.savez(tmp_path / "padded.npz", X=dense, lengths=np.array([1, 2, 3, 5]), y=np.array([0, 1, 0, 1]))
    assert [x.shape[0] for x in load_dataset(tmp_path / "padded.npz").x] == [1, 2, 3, 5]


def test_object_arrays_need_allow_pickle_and_the_refusal_says_how_to_convert(tmp_path):
    ragged = np.empty(3, dtype=object)
    for i, n in enumerate((2, 6, 4)):
        ragged[i] = np.ones((n, 3))
    np.savez(tmp_path / "ragged.npz", X=ragged, y=np.array([0, 1, 1]))
    with pytest.raises(DataError, match=r"ragged\.npz: array 'X' is an object array, which NumPy stores as a pickle "
                                        r".* np\.savez\(.*X=np\.concatenate\(seqs\), lengths=.* --allow-pickle"):
        load_dataset(tmp_path / "ragged.npz")
    ds = load_dataset(tmp_path / "ragged.npz", allow_pickle=True)
    assert [x.shape[0] for x in ds.x] == [2, 6, 4]


@pytest.mark.parametrize("content,message", [
    (b"\x80\x04K\x01.", "not an .npz file: a pickle, which can run code when read"),
    (b"\x93NUMPY\x01\x00", "not an .npz file: a single .npy array"),
    (b"PK\x03\x04 truncated", "not an .npz file: not a zip archive of arrays"),
    (b"text,label\nhi,a\n", "not an .npz file: not a zip archive of arrays"),
])
def test_files_that_are_not_npz_archives_are_refused_unread(tmp_path, content, message):
    path = tmp_path / "data.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=f"data.npz: {message}"):
        load_dataset(path)


def test_a_truncated_npz_is_one_data_error(tmp_path):
    np.savez(tmp_path / "full.npz", X=np.ones((50, 4, 2)), y=np.arange(50) % 2)
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.npz: not an .npz file"):
        load_dataset(tmp_path / "cut.npz")


@pytest.mark.parametrize("lengths,message", [
    ([2, -1, 3], r"lengths\[1\] is -1; every sequence needs at least 1 timestep"),
    ([2, 0, 3], r"lengths\[1\] is 0; every sequence needs at least 1 timestep"),
    ([2.5, 1, 3], "'lengths' must be a 1-D array of whole numbers"),
    ([2, 1], "'lengths' has 2 entries but y has 3 labels; every sample needs one of each."),
    ([2, 9, 3], r"lengths\[1\] is 9, more than X's 5 timesteps"),
])
def test_bad_lengths_are_refused(tmp_path, lengths, message):
    np.savez(tmp_path / "p.npz", X=np.ones((3, 5, 2)), lengths=np.array(lengths), y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path / "p.npz")


def test_concatenated_lengths_must_add_up(tmp_path):
    np.savez(tmp_path / "c.npz", X=np.ones((10, 2)), lengths=np.array([3, 3, 3]), y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match="lengths add up to 9 timesteps but X has 10 rows"):
        load_dataset(tmp_path / "c.npz")


def test_labels_that_mix_integers_and_strings_are_refused(tmp_path):
    path = write(tmp_path, "m.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": "joy"}\n'
                                      '{"text": "c", "label": 2}\n')
    with pytest.raises(DataError, match=r"m.jsonl: labels mix integers and strings \(line 1 has 1, line 2 has "
                                        r"'joy'\); write every label the same way\."):
        load_dataset(path)


def test_a_text_column_equal_to_the_label_column_is_refused(tmp_path):
    from zoo.errors import ZooError

    with pytest.raises(ZooError, match="--text-column and --label-column are both 'label'"):
        load_dataset(write(tmp_path, "d.csv", "text,label\nhi,a\n"), text_column="label")


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_only_regular_files_are_read(tmp_path, kind):
    import os

    if kind == "device":
        path = "/dev/zero"
        expected = "not a regular file (a character device)"
    elif kind == "fifo":
        path = tmp_path / "pipe.txt"
        os.mkfifo(path)  # opening it would block forever waiting for a writer
        expected = "not a regular file (a FIFO)"
    else:
        path = tmp_path
        expected = "not a regular file (a directory)"
    for fmt in (None, "npz"):
        with pytest.raises(DataError, match=re.escape(f"{path}: {expected}; pass a data file.")):
            load_dataset(path, format=fmt)


@pytest.mark.parametrize("arrays,message", [
    (dict(X=np.ones((2, 3, 4)), labels=np.array([0, 1])), "no array 'y' (has: X, labels)"),
    (dict(X=np.ones((2, 3, 4)), y=np.array([0, 1, 1])), "X has 2 samples but y has 3 labels."),
    (dict(X=np.ones((2, 3)), y=np.array([0, 1])), "X has shape (2, 3); expected (samples, timesteps, features)"),
])
def test_bad_npz_structure(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as e:
        load_dataset(tmp_path / "bad.npz")
    assert message in str(e.value)


def test_npz_labels_stored_as_bytes_read_as_strings(tmp_path):
    np.savez(tmp_path / "b.npz", X=np.ones((4, 3, 2), dtype="float32"), y=np.array([b"a", b"b", b"a", b"b"]))
    assert load_dataset(tmp_path / "b.npz").y == ["a", "b", "a", "b"]
    np.savez(tmp_path / "bad.npz", X=np.ones((2, 3, 2), dtype="float32"), y=np.array([b"a", b"\xff"]))
    with pytest.raises(DataError, match=r"bad.npz: sample 1: label b'\\xff' is bytes that are not UTF-8; store "
                                        "labels as strings or integers."):
        load_dataset(tmp_path / "bad.npz")


def test_nan_and_inconsistent_feature_counts_name_the_sample(tmp_path):
    X = np.ones((3, 4, 2), dtype="float32")
    X[2, 1, 0] = np.nan
    np.savez(tmp_path / "nan.npz", X=X, y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match=r"nan.npz: sample 2, timestep 1, feature 0 is nan; replace NaN and inf"):
        load_dataset(tmp_path / "nan.npz")
    X[2, 1, 0] = np.inf
    np.savez(tmp_path / "inf.npz", X=X, y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match=r"sample 2, timestep 1, feature 0 is inf"):
        load_dataset(tmp_path / "inf.npz")
    big = X.astype("float64")
    big[2, 1, 0] = 1e300  # finite, but inf once cast to float32
    np.savez(tmp_path / "big.npz", X=big, y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match=r"big.npz: sample 2, timestep 1, feature 0 is 1e\+300, beyond float32's "
                                        r"range \(3\.4e38\); rescale that feature\.$"):
        load_dataset(tmp_path / "big.npz")
    # the files read for prediction (no labels needed) are checked the same way, not predicted as nan
    from zoo.batch import iter_inputs

    np.savez(tmp_path / "unlabelled.npz", X=np.where(np.isinf(X), np.nan, X))
    with pytest.raises(DataError, match=r"unlabelled.npz: sample 2, timestep 1, feature 0 is nan; replace NaN"):
        list(iter_inputs(tmp_path / "unlabelled.npz"))
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.ones((3, 2)), np.ones((3, 5))
    np.savez(tmp_path / "widths.npz", X=ragged, y=np.array([0, 1]))
    with pytest.raises(DataError, match="sample 1 has 5 features per timestep, sample 0 has 2"):
        load_dataset(tmp_path / "widths.npz", allow_pickle=True)


def test_stratified_split_keeps_every_class_in_both_parts():
    y = np.array([0] * 50 + [1] * 30 + [2] * 2)
    tr, va = stratified_split(y, 0.1, seed=3)
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(len(y)))
    assert np.bincount(y[va]).tolist() == [5, 3, 1]
    assert set(y[tr]) == {0, 1, 2}
    assert stratified_split(y, 0.1, seed=3)[1].tolist() == va.tolist()  # same seed, same split


def test_pad_features_right_pads_with_zeros_and_truncates():
    out = pad_features([np.ones((2, 3)), np.full((5, 3), 2.0)], seq_len=4)
    assert out.shape == (2, 4, 3)
    assert out[0, 2:].sum() == 0 and out[0, :2].sum() == 6
    assert out[1].sum() == 2.0 * 12


def test_metrics_match_a_hand_computed_confusion_matrix():
    m = classification_metrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"], "test")
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["a"] == {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8),
                                   "support": 3}
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.5)
    assert m["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["split"] == "test" and m["num_examples"] == 6


def test_every_format_the_config_accepts_has_a_reader():
    from zoo.config import FORMATS
    from zoo.data import EXTENSIONS, READERS

    assert set(READERS) | {"npz"} == set(FORMATS)  # .npz has its own reader: arrays, not text
    assert set(EXTENSIONS.values()) <= set(FORMATS)
