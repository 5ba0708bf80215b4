"""The MLflow callback, for real: discovered through its entry point, it trains beside a tiny Keras model and the
params and per-epoch metrics land in a local MLflow file store, read back with MLflow's own client."""

import json

import numpy as np
import pytest

import zoo


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A local MLflow file store in tmp_path, named by MLFLOW_TRACKING_URI as a user would."""
    root = tmp_path / "mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", root.as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps file stores behind this switch
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "zoo-tests")
    return root


@pytest.fixture
def context(tmp_path):
    config = {"architecture": "tiny", "hyperparameters": {"units": 4, "optimizer": "adam", "layers": [8, 4]}}
    return zoo.CallbackContext(tmp_path / "runs" / "tiny", config, "tiny", seed=7)


def fit_tiny_model(callbacks, epochs=3):
    """A tiny real Keras classifier (not through zoo train), trained with ``callbacks``; its history."""
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, validation_split=0.25, callbacks=callbacks, verbose=0).history


def test_the_plugin_is_discovered_as_a_callback():
    assert "mlflow" in zoo.list_callbacks()
    spec = zoo.default_registry().get_callback("mlflow")
    assert (spec.plugin, spec.package) == ("mlflow", "zoo-mlflow")


def test_params_and_per_epoch_metrics_land_in_the_local_store(store, context):
    from mlflow.tracking import MlflowClient

    [callback] = zoo.default_registry().make_callbacks(["mlflow"], context)
    history = fit_tiny_model([callback])
    client = MlflowClient()
    [run] = client.search_runs([client.get_experiment_by_name("zoo-tests").experiment_id])
    assert run.data.params == {"units": "4", "optimizer": "adam", "layers": "[8, 4]"}
    assert (run.info.status, run.info.run_name) == ("FINISHED", "tiny")
    assert (run.data.tags["zoo.architecture"], run.data.tags["zoo.seed"]) == ("tiny", "7")
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        logged = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in logged] == [0, 1, 2]
        np.testing.assert_allclose([m.value for m in logged], history[key], rtol=1e-6)
    # it is a file store on disk, and the run directory records where the run went
    assert (store / run.info.experiment_id / run.info.run_id / "metrics" / "val_loss").is_file()
    record = json.loads((context.run_dir / "mlflow.json").read_text())
    assert record == {"tracking_uri": store.as_uri(), "experiment_id": run.info.experiment_id,
                      "run_id": run.info.run_id}


def test_a_second_run_goes_to_the_same_experiment(store, context):
    from mlflow.tracking import MlflowClient

    for _ in range(2):
        fit_tiny_model(zoo.default_registry().make_callbacks(["mlflow"], context), epochs=1)
    client = MlflowClient()
    runs = client.search_runs([client.get_experiment_by_name("zoo-tests").experiment_id])
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FINISHED"}


def test_a_non_chief_worker_logs_nothing(store, context):
    worker = zoo.CallbackContext(context.run_dir, context.config, "tiny", is_chief=False)
    assert zoo.default_registry().make_callbacks(["mlflow"], worker) == []
    assert not store.exists()


def test_without_a_tracking_uri_it_says_what_to_set(monkeypatch, context):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(zoo.ZooError) as e:
        zoo.default_registry().make_callbacks(["mlflow"], context)
    assert str(e.value) == ("--mlflow needs MLFLOW_TRACKING_URI: an MLflow server (http://HOST:5000) or a local store "
                            "(file:///PATH with MLFLOW_ALLOW_FILE_STORE=true).")


def test_the_plugin_module_imports_neither_mlflow_nor_keras():
    import subprocess
    import sys

    code = "import sys, zoo_mlflow; print(sorted(m for m in ('mlflow', 'keras', 'tensorflow') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "[]"), proc.stderr
