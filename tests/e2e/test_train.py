"""The main job end to end: train, evaluate, predict, save/load, resume, distribute, tune, on small real runs."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zoo
from zoo import defaults
from zoo.catalog import load_presets
from zoo.errors import DataError, ZooError

WORDS = {"joy": ["happy", "glad", "great"], "sadness": ["down", "blue", "cry"], "anger": ["mad", "rage", "furious"]}
FILLER = ["i", "feel", "so", "today", "really", "the", "was", "it", "and", "very"]
SMALL = ["--set", "units=8", "--set", "embed_dim=8", "--set", "vocab_size=64", "--set", "learning_rate=0.02"]
SMALL_API = {"units": 8, "embed_dim": 8, "vocab_size": 64, "learning_rate": 0.02}


def make_text(path, n, seed, fmt="txt"):
    rng = np.random.default_rng(seed)
    labels = list(WORDS)
    rows = []
    for i in range(n):
        label = labels[i % 3]
        words = list(rng.choice(FILLER, size=rng.integers(3, 9))) + list(rng.choice(WORDS[label], size=2))
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    if fmt == "txt":
        path.write_text("".join(f"{t};{lab}\n" for t, lab in rows), encoding="utf-8")
    else:
        path.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def text_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("text")
    return {"train": make_text(d / "train.txt", 240, 0), "val": make_text(d / "val.txt", 45, 1),
            "test": make_text(d / "test.csv", 60, 2, fmt="csv")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, text_data):
    out = tmp_path_factory.mktemp("runs") / "lstm"
    run = zoo.train("lstm", text_data["train"], val=text_data["val"], test=text_data["test"], out=out,
                    epochs=6, patience=6, seed=0, overrides=SMALL_API, verbose=0)
    return run


def zoo_cli(*args, env=None, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout)


def test_a_run_directory_has_every_artifact(trained):
    names = sorted(p.name for p in trained.out.iterdir())
    assert names == ["MODEL_CARD.md", "config.json", "confusion_matrix.png", "history.json", "labels.json",
                     "metrics.json", "model.keras", "training_curves.png"]
    card = (trained.out / "MODEL_CARD.md").read_text()
    assert "`lstm`, built by plugin 'lstm' (keras-zoo" in card and f"{trained.model.count_params():,} parameters" in card
    assert f"Accuracy {trained.metrics['accuracy']:.4f}" in card and "| sadness |" in card
    assert f"zoo predict {trained.out} " in card and "![confusion matrix](confusion_matrix.png)" in card
    assert not trained.out.with_name("lstm.partial").exists()
    assert json.loads((trained.out / "labels.json").read_text()) == ["anger", "joy", "sadness"]
    config = json.loads((trained.out / "config.json").read_text())
    assert config["zoo_run"] == 2
    assert config["train"]["architecture"] == "lstm" and config["train"]["seed"] == 0
    assert config["model"]["hyperparameters"]["units"] == 8 and config["model"]["parts"] == ["tokenizer", "network"]
    assert config["versions"]["keras"] and config["versions"]["tensorflow"]
    assert config["train"]["data"].endswith("train.txt") and config["data"]["train"]["examples"] == 240
    assert config["bucket"] is True and config["train"]["token_dropout"] == defaults.TOKEN_DROPOUT
    # the file loads back into the same typed config
    from zoo.record import RunRecord

    record = RunRecord.from_dict(config)
    assert record.train.epochs == 6 and record.train.hyperparameters == SMALL_API and record.model.kind == "text"
    for png in ("training_curves.png", "confusion_matrix.png"):
        assert (trained.out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_come_from_the_test_split_and_learning_happened(trained):
    m = json.loads((trained.out / "metrics.json").read_text())
    assert m["split"] == "test" and m["num_examples"] == 60 and m["source"].endswith("test.csv")
    assert set(m["per_class"]) == {"anger", "joy", "sadness"}
    assert sum(map(sum, m["confusion_matrix"])) == 60
    assert m["accuracy"] >= 0.8  # keywords make the classes separable: far above the 1/3 of chance
    history = json.loads((trained.out / "history.json").read_text())
    assert history["loss"][-1] < history["loss"][0] and all(np.isfinite(history["val_loss"]))


def test_saved_model_loads_in_safe_mode_and_predicts_raw_strings_identically(trained):
    import keras

    texts = ["i feel so happy and glad", "i cry and feel blue", "rage furious mad"]
    expected = trained.classifier.predict_proba(texts)
    clf = zoo.load(trained.out)
    np.testing.assert_allclose(clf.predict_proba(texts), expected, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(texts).sum(axis=1), 1.0, atol=1e-5)
    assert [p["label"] for p in clf.predict(texts)] == ["joy", "sadness", "anger"]
    raw = keras.models.load_model(trained.out / "model.keras", safe_mode=True)
    import tensorflow as tf

    np.testing.assert_allclose(raw.predict(tf.constant([[t] for t in texts]), verbose=0), expected, atol=1e-6)
    top = clf.predict(texts[:1], top_k=3)[0]["top"]
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True) and len(top) == 3


def test_evaluate_reproduces_the_training_metrics(trained, text_data):
    m = zoo.evaluate(trained.out, text_data["test"])
    assert m["accuracy"] == pytest.approx(trained.metrics["accuracy"])
    assert m["confusion_matrix"] == trained.metrics["confusion_matrix"]


def test_same_seed_same_run(tmp_path, text_data):
    runs = [zoo.train("lstm", text_data["train"], out=tmp_path / f"r{i}", epochs=2, seed=7, overrides=SMALL_API,
                      verbose=0) for i in range(2)]
    assert runs[0].history == runs[1].history
    assert runs[0].metrics["confusion_matrix"] == runs[1].metrics["confusion_matrix"]


def test_unbucketed_training_learns_the_same_task_and_saves_a_fixed_length_network(tmp_path, text_data):
    run = zoo.train("lstm", text_data["train"], val=text_data["val"], test=text_data["test"], out=tmp_path / "nb",
                    epochs=6, patience=6, seed=0, overrides=SMALL_API, bucket=False, token_dropout=0.0, verbose=0)
    config = json.loads((tmp_path / "nb" / "config.json").read_text())
    assert config["bucket"] is False and config["train"]["token_dropout"] == 0.0
    assert run.metrics["accuracy"] >= 0.8
    seq_len = config["model"]["hyperparameters"]["seq_len"]
    network = next(layer for layer in run.classifier.model.layers if layer.name == "lstm")
    assert network.input_shape == (None, seq_len)


def test_bucketed_training_saves_a_variable_length_network_behind_the_tokenizer(trained):
    network = next(layer for layer in trained.classifier.model.layers if layer.name == "lstm")
    assert network.input_shape == (None, None)


def test_bucketed_prediction_equals_the_whole_models_in_input_order(trained):
    import tensorflow as tf

    rng = np.random.default_rng(5)
    words = FILLER + [w for ws in WORDS.values() for w in ws] + ["unseenword"]
    texts = [" ".join(rng.choice(words, size=n)) for n in rng.integers(0, 30, size=37)]  # empty and over seq_len
    whole = trained.classifier.model.predict(tf.constant([[t] for t in texts]), verbose=0)
    for batch_size in (4, 256):
        np.testing.assert_allclose(trained.classifier.predict_proba(texts, batch_size=batch_size), whole, atol=1e-6)


def test_cli_train_evaluate_predict(tmp_path, text_data):
    out = tmp_path / "cli"
    r = zoo_cli("train", "basic", "--data", str(text_data["train"]), "--test", str(text_data["test"]), "--out",
                str(out), "--epochs", "4", "--seed", "1", "--class-weight", "balanced", *SMALL)
    assert r.returncode == 0, r.stderr
    assert ("note: 240 training examples and no validation file: training on all of them for the whole budget, "
            "no early stopping") in r.stdout
    assert f"saved to {out}" in r.stdout
    r = zoo_cli("evaluate", str(out), "--data", str(text_data["test"]), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["num_examples"] == 60
    r = zoo_cli("predict", str(out), "so happy glad", "cry blue down", "--top-k", "2", "--json")
    assert r.returncode == 0, r.stderr
    preds = json.loads(r.stdout)
    assert [p["input"] for p in preds] == ["so happy glad", "cry blue down"]
    assert all(len(p["top"]) == 2 and 0 <= p["probability"] <= 1 for p in preds)


@pytest.mark.parametrize("args,message", [
    (["--data", "missing.txt"], "missing.txt: file not found."),
    (["--data", "{train}", "--val", "{bad_val}"], "label 'surprise' never appears in the training data"),
    (["--data", "{one_class}"], "every example has the label 'joy'; a classifier needs at least 2 classes."),
    (["--data", "{train}", "--set", "input=features"], "'input' is set from the data"),
    (["--data", "{train}", "--set", "units=0"], "Bad value 0 for hyperparameter 'units' of 'lstm'"),
])
def test_cli_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, text_data, args, message):
    (tmp_path / "bad_val.txt").write_text("i feel odd;surprise\n")
    (tmp_path / "one_class.txt").write_text("a;joy\nb;joy\n")
    subs = {"train": text_data["train"], "bad_val": tmp_path / "bad_val.txt", "one_class": tmp_path / "one_class.txt"}
    args = [a.format(**subs) for a in args]
    r = zoo_cli("train", "lstm", *args, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("zoo: error: ") and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_existing_output_is_not_overwritten_without_asking(trained, text_data):
    with pytest.raises(ZooError, match="already exists; choose another --out or pass --overwrite"):
        zoo.train("lstm", text_data["train"], out=trained.out, epochs=1)


def test_features_npz_trains_with_variable_length(tmp_path):
    rng = np.random.default_rng(0)
    y = np.array([i % 3 for i in range(90)])
    seqs = [rng.normal(size=(rng.integers(3, 12), 4)) + y[i] for i in range(90)]  # class shifts the mean
    np.savez(tmp_path / "train.npz", X=np.concatenate(seqs), lengths=[len(s) for s in seqs], y=y)
    test = [rng.normal(size=(rng.integers(3, 12), 4)) + i % 3 for i in range(30)]
    np.savez(tmp_path / "test.npz", X=np.concatenate(test), lengths=[len(s) for s in test], y=np.arange(30) % 3)
    run = zoo.train("bilstm", tmp_path / "train.npz", test=tmp_path / "test.npz", out=tmp_path / "run", epochs=8,
                    seed=0, overrides={"units": 8, "learning_rate": 0.02}, verbose=0)
    assert run.hyperparameters["input"] == "features" and run.classifier.spec.num_features == 4
    assert run.hyperparameters["num_features"] == 8  # the network's: each series and its centred copy
    assert run.hyperparameters["seq_len"] is None
    assert run.metrics["split"] == "test" and run.metrics["accuracy"] >= 0.8
    clf = zoo.load(tmp_path / "run")
    probs = clf.predict_proba([rng.normal(size=(20, 4)) + 2, rng.normal(size=(2, 4))])  # lengths unseen in training
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert clf.predict([np.full((5, 4), 2.0)])[0]["label"] == 2
    # batches of similar length, trimmed: the same probabilities, in input order, as the whole padded array
    seqs = [rng.normal(size=(n, 4)) + n % 3 for n in rng.integers(1, 30, size=11)]
    whole = clf.model.predict(zoo.data.pad_features([s.astype("float32") for s in seqs], None), verbose=0)
    for batch_size in (1, 3, 256):
        np.testing.assert_allclose(clf.predict_proba(seqs, batch_size=batch_size), whole, atol=1e-6)
    for bad, shape in ((np.ones((5, 3)), r"\(5, 3\)"), (np.ones((0, 4)), r"\(0, 4\)")):
        with pytest.raises(DataError, match=rf"^input 0 has shape {shape}; expected \(timesteps >= 1, 4\)\.$"):
            clf.predict([bad])
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["trim"] is True


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, text_data):
    script = textwrap.dedent(f"""
        import json, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import zoo
        run = zoo.train("lstm", {str(text_data["train"])!r}, out={str(tmp_path / "m")!r}, epochs=3, seed=0,
                        overrides={SMALL_API!r}, distribute="mirrored", verbose=0)
        print(json.dumps({{"accuracy": run.metrics["accuracy"], "loss": run.history["loss"]}}))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["train"]["distribute"] == "mirrored" and config["replicas"] == 2
    assert config["bucket"] is False  # length bucketing is for single-device runs
    assert result["loss"][-1] < result["loss"][0]


def test_multiworker_without_tf_config_is_a_clear_error(tmp_path, text_data):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "train", "lstm", "--data", str(text_data["train"]),
                        "--out", str(tmp_path / "mw"), "--distribute", "multiworker", *SMALL],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "reads the cluster from the TF_CONFIG environment variable" in r.stderr


def test_tune_writes_a_preset_that_train_accepts(tmp_path, text_data):
    from zoo.tuning import tune

    result = tune("lstm", text_data["train"], val=text_data["val"], trials=2, epochs=1, strategy="random",
                  overrides={"units": 8, "vocab_size": 64}, out=tmp_path / "preset.yaml")
    presets = load_presets(tmp_path / "preset.yaml")
    assert list(presets) == ["lstm-tuned"] and result.trials == 2
    assert ("the trials are ranked on 45 validation examples, too few to tell close settings apart; pass a --val "
            "file with 100 or more") in result.notes  # a small --val file: nothing about held-out splits
    preset = presets["lstm-tuned"]
    assert preset.architecture == "lstm" and preset.hyperparameters["units"] == 8
    assert preset.hyperparameters["embed_dim"] in (32, 64, 128)  # from the catalog's search space
    run = zoo.train("lstm", text_data["train"], out=tmp_path / "tuned", epochs=1, preset=tmp_path / "preset.yaml",
                    verbose=0)
    for key, value in preset.hyperparameters.items():
        assert run.hyperparameters[key] == value


def test_a_run_written_before_the_typed_config_still_loads_and_evaluates(trained, tmp_path, text_data):
    """Runs from the previous zoo version have a flat config.json (no "zoo_run"); they load unchanged."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(trained.out, old)
    new = json.loads((old / "config.json").read_text())
    train, model = new["train"], new["model"]
    legacy = {"architecture": model["architecture"], "name": model["name"], "plugin": model["plugin"],
              "package": f"{model['package']} {model['version']}", "kind": model["kind"],
              "num_classes": model["num_classes"], "hyperparameters": model["hyperparameters"], "overrides": {},
              "data": {"train": train["data"], "val": train["val"], "test": train["test"], "text_column": "text",
                       "label_column": "label", "sep": None, "encoding": "utf-8", "format": None},
              "epochs": 6, "batch_size": 32, "seed": 0, "class_weight": None, "patience": 6, "lr_decay": 0.3,
              "token_dropout": 0.15, "distribute": None, "versions": new["versions"], "replicas": 1,
              "bucket": True, "trim": True, "epochs_run": 6}
    (old / "config.json").write_text(json.dumps(legacy))
    texts = ["i feel so happy and glad", "i cry and feel blue"]
    np.testing.assert_allclose(zoo.load(old).predict_proba(texts), trained.classifier.predict_proba(texts),
                               atol=1e-6)
    assert zoo.evaluate(old, text_data["test"])["confusion_matrix"] == trained.metrics["confusion_matrix"]
