"""Batch prediction into a file: a 10,000-row file round-trips in input order, labelled or not, streamed in chunks,
and a failure leaves no output behind."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo.batch import iter_inputs, predict_file



@pytest.fixture(scope="module")
def run(tmp_path_factory, keyword_file):
    d = tmp_path_factory.mktemp("batch")
    keyword_file(d / "train.txt", 150, 0)
    return zoo.train("lstm", d / "train.txt", out=d / "run", seed=0, steps=200, verbose=0,
                     hyperparameters={"units": 8, "embed_dim": 8, "learning_rate": 0.02})


def test_a_10000_row_unlabelled_csv_round_trips_in_input_order(run, tmp_path, keyword_rows):
    rows = keyword_rows(10_000, 1, filler=(1, 12))
    data = tmp_path / "big.csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text"])  # no label column
        w.writerows((i, t) for i, (t, _) in enumerate(rows))
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", str(run.out), "--data", str(data), "--output",
                        str(tmp_path / "preds.csv"), "--probabilities"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == f"wrote 10000 predictions to {tmp_path / 'preds.csv'}"
    with open(tmp_path / "preds.csv", newline="") as f:
        out = list(csv.DictReader(f))
    assert len(out) == 10_000 and [int(o["row"]) for o in out] == list(range(2, 10_002))  # CSV lines, in order
    expected = run.classifier.predict_proba([t for t, _ in rows])
    got = np.array([[float(o[f"p_{label}"]) for label in run.labels] for o in out])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-4)
    assert [o["label"] for o in out] == [run.labels[i] for i in expected.argmax(axis=1)]
    assert [float(o["probability"]) for o in out] == pytest.approx(expected.max(axis=1).tolist(), abs=1e-5)


def test_labelled_lines_and_plain_lines_give_the_same_predictions_as_jsonl(run, tmp_path, keyword_rows):
    rows = keyword_rows(300, 2)
    (tmp_path / "labelled.txt").write_text("".join(f"{t};{y}\n" for t, y in rows))
    (tmp_path / "plain.txt").write_text("".join(f"{t}\n" for t, _ in rows))
    outputs = []
    for name in ("labelled.txt", "plain.txt"):
        n = predict_file(run.classifier, tmp_path / name, tmp_path / f"{name}.jsonl", chunk_rows=64)
        assert n == 300
        outputs.append([json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()])
    assert outputs[0] == outputs[1]  # the label after ';' was recognised and left out of the text
    assert [o["row"] for o in outputs[0]] == list(range(1, 301))
    expected = run.classifier.predict([t for t, _ in rows])
    assert [o["label"] for o in outputs[0]] == [e["label"] for e in expected]


def test_inputs_stream_in_chunks_of_bounded_size(run, tmp_path, keyword_rows):
    (tmp_path / "d.txt").write_text("".join(f"{t}\n" for t, _ in keyword_rows(1000, 3)))
    seen = []

    class Spy:
        kind, labels, record = run.classifier.kind, run.classifier.labels, run.classifier.record

        def predict_proba(self, inputs):
            seen.append(len(inputs))
            return run.classifier.predict_proba(inputs)

    assert predict_file(Spy(), tmp_path / "d.txt", tmp_path / "o.csv", chunk_rows=128) == 1000
    assert max(seen) == 128 and sum(seen) == 1000
    reader = iter_inputs(tmp_path / "d.txt", labels=run.labels)
    assert next(reader)[0] == 1  # a generator: nothing is read ahead of what is asked for


def test_a_failure_leaves_no_output_file(run, tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "i feel happy"}\n{"text": 3}\n')
    with pytest.raises(zoo.DataError, match=r"bad.jsonl:2: expected an object with a string 'text'"):
        predict_file(run.classifier, tmp_path / "bad.jsonl", tmp_path / "out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]
    with pytest.raises(zoo.ZooError, match="name a .csv or .jsonl file"):
        predict_file(run.classifier, tmp_path / "bad.jsonl", tmp_path / "out.parquet")


def test_rows_with_an_empty_text_are_reported_not_dropped_silently(run, tmp_path, keyword_rows, capsys):
    from zoo.cli import main

    rows = keyword_rows(6, 3)
    data = tmp_path / "gaps.csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows([rows[0], ("", rows[1][1]), rows[2], ("   ", rows[3][1]), rows[4], rows[5]])
    assert main(["predict", str(run.out), "--data", str(data), "--output", str(tmp_path / "p.csv")]) == 0
    out, err = capsys.readouterr()
    assert out == f"wrote 4 predictions to {tmp_path / 'p.csv'}\n"
    assert err == f"note: skipped 2 row(s) of {data} with an empty text, nothing to predict (line 3, 5)\n"
    with open(tmp_path / "p.csv", newline="") as f:
        assert [int(r["row"]) for r in csv.DictReader(f)] == [2, 4, 6, 7]
    assert main(["predict", str(run.out), "--data", str(data)]) == 0
    assert capsys.readouterr().err == err
    assert main(["evaluate", str(run.out), "--data", str(data)]) == 0
    assert capsys.readouterr().err == f"note: skipped 2 rows of {data}: 2 empty text\n"
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n,a\n  ,b\n")
    assert main(["predict", str(run.out), "--data", str(empty), "--output", str(tmp_path / "e.csv")]) == 2
    assert capsys.readouterr().err == (f"zoo: error: {empty}: no examples to predict (the text of all 2 rows is "
                                       "empty).\n")
    assert not (tmp_path / "e.csv").exists() and not list(tmp_path.glob(".e.csv*"))


def test_texts_to_predict_may_follow_the_options(run, capsys):
    from zoo.cli import main

    texts = ["a first text to predict", "and a second"]
    assert main(["predict", str(run.out), *texts, "--top-k", "2"]) == 0
    before = capsys.readouterr().out
    assert main(["predict", str(run.out), "--top-k", "2", *texts]) == 0
    assert capsys.readouterr().out == before and before.count("\n") == 2
    with pytest.raises(SystemExit) as e:  # an unknown option is still argparse's own error
        main(["predict", str(run.out), "--top-k", "2", "--nope", *texts])
    assert e.value.code == 2 and "unrecognized arguments: --nope" in capsys.readouterr().err
