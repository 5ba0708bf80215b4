"""`zoo export`: every built-in's run in every format, each artifact loaded in its own runtime (the SavedModel in a
process that never imports zoo, the ONNX with onnxruntime, the LiteRT with ai-edge-litert) predicting what the
Keras run predicts; a failed export leaves nothing; the onnxruntime engine equals the Keras one."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo.exporting import TOLERANCE, sample_inputs

pytest.importorskip("onnxruntime")
SMALL = {"units": 6, "embed_dim": 6, "learning_rate": 0.02}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, keyword_file):
    d = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)
    keyword_file(d / "train.txt", 150, 0, filler=(2, 14))
    y = np.arange(60) % 3
    seqs = [rng.normal(size=(int(rng.integers(3, 15)), 4)) * 50 + 500 + 40 * y[i] for i in range(60)]
    np.savez(d / "train.npz", X=np.concatenate(seqs), lengths=[len(s) for s in seqs], y=y)
    out = {}
    for arch in ("lstm", "stacked_lstm", "bilstm"):
        hp = {**SMALL, "units": [6, 4]} if arch == "stacked_lstm" else SMALL
        out[arch] = zoo.train(arch, d / "train.txt", out=d / arch, seed=0, steps=40, verbose=0,
                              hyperparameters=hp).out
    out["features"] = zoo.train("bilstm", d / "train.npz", out=d / "features", seed=0, steps=40, verbose=0,
                                hyperparameters={"units": 6}).out
    # with the centred copy, every 3 timesteps as one step (lengths 3-14: most rows end inside a folded step)
    out["folded"] = zoo.train("lstm", d / "train.npz", out=d / "folded", seed=0, steps=40, fold=3, center=True,
                              verbose=0, hyperparameters={"units": 6}).out
    # a fixed length that is not a multiple of the fold
    out["fixed"] = zoo.train("lstm", d / "train.npz", out=d / "fixed", seed=0, steps=40, fold=3, center=True,
                             seq_len=8, verbose=0, hyperparameters={"units": 6}).out
    return out


SAVEDMODEL_ONLY_TF = """
import json, sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
inputs = json.loads(open(sys.argv[2]).read())
if inputs["kind"] == "text":
    out = serve(text=tf.constant(inputs["x"]))
    probs, labels = out["probabilities"].numpy(), [s.decode() for s in out["labels"].numpy()]
else:
    outs = [serve(features=tf.constant(np.array(x, "float32")[None])) for x in inputs["x"]]
    probs = np.concatenate([o["probabilities"].numpy() for o in outs])
    labels = [o["labels"].numpy()[0].decode() for o in outs]
print(json.dumps({"probs": probs.tolist(), "labels": labels, "zoo": "zoo" in sys.modules}))
"""


@pytest.mark.parametrize("name", ["lstm", "stacked_lstm", "bilstm", "features", "folded"])
def test_savedmodel_runs_in_a_process_without_zoo_and_predicts_like_the_run(runs, tmp_path, name):
    result = zoo.export(runs[name], "savedmodel", tmp_path / "sm")
    assert result.max_difference <= TOLERANCE and (tmp_path / "sm" / "1" / "saved_model.pb").is_file()
    clf = zoo.load(runs[name])
    x = sample_inputs(clf, n=12, seed=3)
    payload = {"kind": clf.kind, "x": x if clf.kind == "text" else [s.tolist() for s in x]}
    (tmp_path / "in.json").write_text(json.dumps(payload))
    proc = subprocess.run([sys.executable, "-c", SAVEDMODEL_ONLY_TF, str(tmp_path / "sm" / "1"),
                           str(tmp_path / "in.json")], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = clf.predict_proba(x)
    assert out["zoo"] is False
    np.testing.assert_allclose(np.array(out["probs"]), expected, atol=1e-5)
    assert out["labels"] == [str(clf.labels[i]) for i in expected.argmax(axis=1)]
    assert json.loads((tmp_path / "sm" / "export.json").read_text())["max_difference"] == result.max_difference
    assert (tmp_path / "sm" / "MODEL_CARD.md").is_file()


@pytest.mark.parametrize("name", ["lstm", "stacked_lstm", "bilstm", "features", "folded"])
def test_onnx_runs_in_onnxruntime_and_in_the_engine_like_the_run(runs, tmp_path, name):
    import onnxruntime as ort

    result = zoo.export(runs[name], "onnx", tmp_path / "onnx")
    assert result.route == "fused LSTM" and result.max_difference <= TOLERANCE
    clf = zoo.load(runs[name])
    x = sample_inputs(clf, n=20, seed=4)
    session = ort.InferenceSession(str(tmp_path / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    rows = _network_rows(clf, x)  # the ONNX graph is the network: it takes the centred, folded steps
    expected = clf.predict_proba(x)
    got = session.run(None, {session.get_inputs()[0].name: rows})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)  # padded rows through the graph as they are
    engine = zoo.load(tmp_path / "onnx", engine="onnxruntime")
    np.testing.assert_allclose(engine.predict_proba(x), expected, atol=1e-5)
    assert engine.labels == clf.labels and engine.engine == "onnxruntime"
    preprocessing = json.loads((tmp_path / "onnx" / "preprocessing.json").read_text())
    assert preprocessing["labels"] == clf.labels and preprocessing["fold"]["size"] == clf.spec.fold
    if clf.kind == "text":
        assert preprocessing["tokenizer"]["vocabulary"] == clf.parts["tokenizer"].get_vocabulary()
    else:  # the graph reads an all-zero step inside a series; the file tells a runtime to drop it, as the engine does
        assert preprocessing["zero_steps"].startswith("a timestep whose features are all zero is padding")


def _network_rows(clf, x):
    """The padded token ids or features the run's network (and so an ONNX graph of it) reads for ``x``."""
    rows, _ = clf._rows(x)
    rows = np.asarray(clf.parts["standardize"](rows)) if clf.kind == "features" else rows.astype("int32")
    for part in ("center", "fold"):
        if part in clf.parts:
            rows = np.asarray(clf.parts[part](rows))
    return rows


@pytest.mark.filterwarnings("ignore:In the future `np.object`:FutureWarning")  # Keras's own tf2onnx_lib.py
@pytest.mark.parametrize("pooling,data", [("max", "train.txt"), ("max", "train.npz"), ("mean", "train.txt")])
def test_a_pooled_bilstm_exports_to_the_fused_onnx_graph_and_predicts_like_the_run(runs, tmp_path, pooling, data):
    # the fused graph pools ONNX's LSTM outputs over the real steps; padding must stay out of the maximum and the
    # mean, on token ids and on features. Keras's exporter (the fallback) must get it right too: its -inf fill
    # became NaN there. LiteRT converts it as well
    import onnxruntime as ort

    from zoo.exporting import _keras_onnx

    run = zoo.train("bilstm", runs["lstm"].parent / data, out=tmp_path / "run", seed=0, steps=40, verbose=0,
                    hyperparameters={**SMALL, "pooling": pooling}).out
    result = zoo.export(run, "onnx", tmp_path / "onnx")
    assert result.route == "fused LSTM" and result.max_difference <= TOLERANCE
    clf = zoo.load(run)
    x = sample_inputs(clf, n=20, seed=4)
    engine = zoo.load(tmp_path / "onnx", engine="onnxruntime")
    got, expected = engine.predict_proba(x), clf.predict_proba(x)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    rows = _network_rows(clf, x)
    real = rows != 0 if rows.ndim == 2 else (rows != 0).any(axis=-1)
    assert len(set(real.sum(axis=1))) > 1  # rows of different lengths in one batch: padded steps
    keras_route = ort.InferenceSession(_keras_onnx(clf.parts["network"]).SerializeToString(),
                                       providers=["CPUExecutionProvider"])
    got = keras_route.run(None, {keras_route.get_inputs()[0].name: rows})[0]
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    if data == "train.txt" and importlib.util.find_spec("ai_edge_litert"):  # its own check: 48 sample inputs
        assert zoo.export(run, "litert", tmp_path / "lite").max_difference <= TOLERANCE


@pytest.mark.parametrize("name", ["lstm", "stacked_lstm", "bilstm", "features", "folded"])
def test_litert_runs_in_ai_edge_litert_like_the_run(runs, tmp_path, name):
    pytest.importorskip("ai_edge_litert")
    from ai_edge_litert.interpreter import Interpreter

    extra = {"seq_len": 16} if name in ("features", "folded") else {}
    result = zoo.export(runs[name], "litert", tmp_path / "lite", **extra)
    assert result.max_difference <= TOLERANCE
    clf = zoo.load(runs[name])
    preprocessing = json.loads((tmp_path / "lite" / "preprocessing.json").read_text())
    if clf.kind == "features":  # the .tflite does these itself: a runtime following the file must not
        assert preprocessing["standardize"] is None and preprocessing["center"] is None
        assert preprocessing["fold"]["size"] == 1
    interpreter = Interpreter(model_path=str(tmp_path / "lite" / "model.tflite"))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    length = inp["shape"][1]
    x = [s for s in sample_inputs(clf, n=10, seed=5)]
    if clf.kind == "features":
        x = [s[:length] for s in x]
    rows, _ = clf._rows(x)
    for row, expected in zip(rows, clf.predict_proba(x)):
        padded = np.zeros(inp["shape"], inp["dtype"])
        padded[0, :min(length, len(row))] = row[:length]
        interpreter.set_tensor(inp["index"], padded)
        interpreter.invoke()
        if clf.kind == "text" and (row != 0).sum() > length:
            continue  # longer than the fixed length: the text was cut, as preprocessing.json says
        np.testing.assert_allclose(interpreter.get_tensor(out["index"])[0], expected, atol=1e-5)


def test_a_failed_export_leaves_nothing_and_an_export_is_replaced_only_on_request(runs, tmp_path, capsys):
    from zoo.cli import main

    assert main(["export", str(runs["features"]), "--format", "litert", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == ("zoo: error: a LiteRT export has a fixed length and this run takes any "
                                       "length: pass --seq-len N.\n")
    assert list(tmp_path.iterdir()) == []
    assert main(["export", str(runs["lstm"]), "--format", "onnx", "--out", str(tmp_path / "o")]) == 0
    assert "largest difference from the Keras run" in capsys.readouterr().out
    assert main(["export", str(runs["lstm"]), "--format", "onnx", "--out", str(tmp_path / "o")]) == 2
    assert "already exists; choose another --out or pass --overwrite" in capsys.readouterr().err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["export", str(runs["lstm"]), "--format", "onnx", "--out", str(tmp_path / "mine"),
                 "--overwrite"]) == 2
    assert "is not a zoo export" in capsys.readouterr().err and (tmp_path / "mine" / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "o"]


def test_a_savedmodel_export_to_a_relative_out_is_checked_and_written(runs, tmp_path, monkeypatch, capsys):
    from zoo.cli import main

    monkeypatch.chdir(tmp_path)  # the check's process runs in its own folder: a relative path must still load
    assert main(["export", str(runs["bilstm"]), "--format", "savedmodel", "--out", "sm"]) == 0
    assert "exported savedmodel" in capsys.readouterr().out
    assert (tmp_path / "sm" / "1" / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]


def test_the_onnxruntime_engine_predicts_a_run_and_serves_the_same_api(runs):
    keras_clf = zoo.load(runs["bilstm"])
    engine = zoo.load(runs["bilstm"], engine="onnxruntime")
    texts = ["i feel so happy", "rage and mad", "", "blue cry down today"] * 20  # 80 rows: run in two halves
    np.testing.assert_allclose(engine.predict_proba(texts), keras_clf.predict_proba(texts), atol=1e-5)
    assert [p["label"] for p in engine.predict(texts[:4])] == [p["label"] for p in keras_clf.predict(texts[:4])]


def test_a_fixed_length_is_cut_before_centring_and_folding_in_every_engine(runs, tmp_path):
    clf = zoo.load(runs["fixed"])
    assert clf.spec.seq_len == 9 and clf.spec.fold == 3 and clf.spec.center  # 8 rounded up to the fold
    assert any("seq_len 8 rounded up to 9, a multiple of the fold" in n for n in clf.record.notes)
    rng = np.random.default_rng(7)
    x = [rng.normal(500, 50, size=(k, 4)).astype("float32") for k in (1, 4, 9, 10, 14)]
    x.append(np.concatenate([x[2], 1000 + x[4][:5]]))  # the steps past the length would move the mean
    expected = clf.predict_proba(x)
    np.testing.assert_allclose(expected[5], clf.predict_proba([x[2]])[0], atol=1e-6)  # only 9 steps are read
    zoo.export(runs["fixed"], "onnx", tmp_path / "onnx")
    engine = zoo.load(tmp_path / "onnx", engine="onnxruntime")
    np.testing.assert_allclose(engine.predict_proba(x), expected, atol=1e-5)


def test_the_command_line_predicts_and_evaluates_an_onnx_export(runs, tmp_path, capsys):
    from zoo.cli import main

    zoo.export(runs["lstm"], "onnx", tmp_path / "onnx")
    data = runs["lstm"].parent / "train.txt"
    clf = zoo.load(runs["lstm"])
    assert main(["predict", str(tmp_path / "onnx"), "--engine", "onnxruntime", "--data", str(data), "--output",
                 str(tmp_path / "p.csv")]) == 0
    rows = [line.split(",") for line in (tmp_path / "p.csv").read_text().splitlines()[1:]]
    expected = clf.predict_proba(clf.read_inputs(data)[1])
    assert [r[1] for r in rows] == [clf.labels[i] for i in expected.argmax(axis=1)]
    np.testing.assert_allclose([float(r[2]) for r in rows], expected.max(axis=1), atol=1e-5)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "onnx"), "--engine", "onnxruntime", "--data", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(clf.evaluate(
        zoo.data.load_dataset(data))["accuracy"])
    # without the engine, the export is not a run: the error says which engine reads it
    assert main(["evaluate", str(tmp_path / "onnx"), "--data", str(data)]) == 2
    assert capsys.readouterr().err.endswith("It is an ONNX export: load it with engine onnxruntime (--engine "
                                            "onnxruntime).\n")
