"""Data files are data: a pickle payload in an .npz never runs, on any route that reads data; bad inputs to the
runtime are one line each, exit 2, no traceback."""

import os
import pickle
import re

import numpy as np
import pytest

import zoo
from zoo.cli import main


class Payload:
    """Unpickling this calls open(marker, "w"): the marker file appears if any code path unpickles the data."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("safety")
    marker = d / "PWNED"
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    seqs = [rng.normal(size=(int(n), 3)) + y[i] for i, n in enumerate(rng.integers(2, 9, size=60))]
    np.savez(d / "good.npz", X=np.concatenate(seqs), lengths=[len(s) for s in seqs], y=y)
    evil = np.empty(60, dtype=object)
    evil[:] = [Payload(marker)] + seqs[1:]
    np.savez(d / "evil.npz", X=evil, y=y)
    (d / "bare.npz").write_bytes(pickle.dumps(Payload(marker)))
    (d / "innocent.csv").write_bytes(pickle.dumps(Payload(marker)))
    np.savez(d / "evil_labels.npz", X=np.ones((2, 3, 3)), y=np.array([Payload(marker), 1], dtype=object))
    run = zoo.train("lstm", d / "good.npz", out=d / "run", epochs=1, seed=0, verbose=0,
                    hyperparameters={"units": 4})
    return {"dir": d, "marker": marker, "run": run.out}


def routes(f):
    d, run = f["dir"], f["run"]
    good = str(d / "good.npz")
    for evil in ("evil.npz", "bare.npz", "evil_labels.npz"):
        bad = str(d / evil)
        yield ["train", "lstm", "--data", bad, "--out", str(d / "x")]
        yield ["train", "lstm", "--data", good, "--val", bad, "--out", str(d / "x")]
        yield ["train", "lstm", "--data", good, "--test", bad, "--out", str(d / "x")]
        yield ["predict", str(run), "--data", bad]
        yield ["evaluate", str(run), "--data", bad]
    yield ["train", "lstm", "--data", str(d / "innocent.csv"), "--format", "npz", "--out", str(d / "x")]
    yield ["predict", str(run), "--data", str(d / "innocent.csv"), "--format", "npz"]


def test_a_pickle_payload_never_runs_on_any_route(files, capsys):
    seen = 0
    for argv in routes(files):
        code = main(argv)
        _, err = capsys.readouterr()
        assert code == 2, (argv, err)
        assert re.fullmatch(r"zoo: error: \S+\.(npz|csv): (array '(X|y)' is an object array, which NumPy stores as "
                            r"a pickle .* --allow-pickle .*|not an \.npz file: a pickle, which can run code when "
                            r"read; save the arrays with np\.savez\.)\n", err), (argv, err)
        assert not files["marker"].exists(), f"the payload ran via {argv}"
        assert not (files["dir"] / "x").exists() and not (files["dir"] / "x.partial").exists()
        seen += 1
    assert seen == 17


def test_allow_pickle_is_an_explicit_choice(files, capsys):
    """With --allow-pickle the user accepts the risk: the payload runs (this is what the flag's help warns of)."""
    code = main(["predict", str(files["run"]), "--data", str(files["dir"] / "evil.npz"), "--allow-pickle"])
    capsys.readouterr()
    assert files["marker"].exists()
    files["marker"].unlink()
    assert code == 2  # the payload's "sample" is a file object, not numbers: refused after it ran


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,message", [
    (["train", "lstm", "--sep", ""], "sep must be a non-empty string, got '' (--sep)."),
    (["train", "lstm", "--seed", "-1"], "seed must be an integer >= 0 and <= 4294967295, got -1 (--seed)."),
    (["train", "lstm", "--epochs", "0"], "epochs must be an integer >= 1, got 0 (--epochs)."),
    (["train", "lstm", "--token-dropout", "1"], "token_dropout must be a number in [0, 1), got 1.0 (--token-dropout)."),
    (["train", "lstm", "--test", "t.txt"], "--val/--test need --data: the built-in data set brings its own test split."),
    (["train", "lstm", "--data", "d.csv", "--text-column", "label"],
     "--text-column and --label-column are both 'label': the model would learn the label from itself; name two "
     "different columns."),
    (["train", "lstm", "--data", "/dev/zero"], "/dev/zero: not a regular file (a character device); pass a data file."),
])
def test_bad_training_options_are_one_line(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert (code, err) == (2, f"zoo: error: {message}\n")


def test_text_given_to_a_features_run_and_features_to_a_text_run(files, tmp_path, capsys):
    code, _, err = run_cli(capsys, "predict", str(files["run"]), "hello there")
    assert (code, err) == (2, "zoo: error: this run was trained on numeric sequences (timesteps, 3); input 0 is "
                              "text.\n")
    text = tmp_path / "t.txt"
    text.write_text("hello;a\nthere;b\n")
    code, _, err = run_cli(capsys, "predict", str(files["run"]), "--data", str(text))
    assert (code, err) == (2, f"zoo: error: {text} holds text but this run was trained on features.\n")
    code, _, err = run_cli(capsys, "evaluate", str(files["run"]), "--data", str(text))
    assert (code, err) == (2, f"zoo: error: {text} holds text but this run was trained on features.\n")


def damaged_copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_damaged_run_directories_are_one_line(files, tmp_path, capsys):
    run = damaged_copy(files["run"], tmp_path / "short_labels")
    (run / "labels.json").write_text("[0]")
    code, _, err = run_cli(capsys, "predict", str(run), "--data", str(files["dir"] / "good.npz"))
    assert (code, err) == (2, f"zoo: error: {run / 'labels.json'}: expected a list of at least 2 labels; the run "
                              "directory is damaged.\n")
    (run / "labels.json").write_text('["a", "b", "c"]')
    code, _, err = run_cli(capsys, "predict", str(run), "--data", str(files["dir"] / "good.npz"))
    assert (code, err) == (2, f"zoo: error: {run / 'labels.json'} has 3 labels but the model outputs 2 classes; the "
                              "run directory is damaged: train it again.\n")

    run = damaged_copy(files["run"], tmp_path / "truncated")
    model = run / "model.keras"
    model.write_bytes(model.read_bytes()[:2000])
    code, _, err = run_cli(capsys, "predict", str(run), "--data", str(files["dir"] / "good.npz"))
    assert (code, err) == (2, f"zoo: error: {model}: damaged (not a complete .keras archive); train the run "
                              "again.\n")

    run = damaged_copy(files["run"], tmp_path / "config")
    (run / "config.json").write_text("{not json")
    code, _, err = run_cli(capsys, "evaluate", str(run), "--data", str(files["dir"] / "good.npz"))
    assert code == 2 and err.startswith(f"zoo: error: {run / 'config.json'}: cannot read it") and "\n" == err[-1]


def test_a_lambda_layer_is_refused_by_safe_mode_in_one_line(files, tmp_path, capsys):
    import keras

    run = damaged_copy(files["run"], tmp_path / "lambda")
    inputs = keras.Input((None, 3))
    pooled = keras.layers.Lambda(lambda t: keras.ops.mean(t, axis=1))(inputs)
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(pooled)).save(run / "model.keras")
    code, _, err = run_cli(capsys, "predict", str(run), "--data", str(files["dir"] / "good.npz"))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"zoo: error: {run / 'model.keras'}: the model contains a Lambda layer (arbitrary Python "
                          "code), which safe mode refuses to load")


def test_debug_shows_the_traceback(files, tmp_path, capsys):
    with pytest.raises(zoo.ZooError, match="this run was trained on numeric sequences"):
        main(["--debug", "predict", str(files["run"]), "hello"])
    os.environ["ZOO_DEBUG"] = "1"
    try:
        with pytest.raises(zoo.ZooError):
            main(["predict", str(files["run"]), "hello"])
    finally:
        del os.environ["ZOO_DEBUG"]


def test_tune_never_replaces_a_file_it_did_not_write(tmp_path, capsys):
    mine = tmp_path / "preset.yaml"
    mine.write_text("presets: {}\n# my own notes\n")
    data = tmp_path / "d.txt"
    data.write_text("".join(f"w{i % 7} x;{'ab'[i % 2]}\n" for i in range(40)))
    for extra in ((), ("--overwrite",)):
        code, _, err = run_cli(capsys, "tune", "lstm", "--data", str(data), "--out", str(mine), *extra)
        assert (code, err) == (2, f"zoo: error: {mine} exists and was not written by zoo tune; choose another "
                                  "--out.\n")
    assert mine.read_text() == "presets: {}\n# my own notes\n"
