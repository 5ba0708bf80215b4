"""The built-in `tensorboard` callback plugin: given a run's context, after model.fit its logs are in RUN/logs and
TensorBoard's own event reader parses one loss value per epoch, for training and validation."""

import math

import numpy as np
import pytest

import zoo

pytestmark = pytest.mark.usefixtures("keras_session")


def epoch_values(log_dir, tag):
    """(step, value) of a scalar as TensorBoard reads it back from the event files in ``log_dir``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    events = EventAccumulator(str(log_dir))
    events.Reload()
    assert tag in events.Tags()["tensors"], events.Tags()
    return [(e.step, float(make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def test_the_tensorboard_callback_writes_event_files_tensorboard_reads(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    context = zoo.CallbackContext(tmp_path / "run", {"hyperparameters": {"units": 4}}, "lstm", seed=0)
    [callback] = zoo.default_registry().make_callbacks(["tensorboard"], context)
    assert isinstance(callback, keras.callbacks.TensorBoard)
    model = zoo.build("lstm", 3, vocab_size=20, embed_dim=4, seq_len=6, units=4, labels="sparse")
    rng = np.random.default_rng(0)
    x, y = rng.integers(1, 20, (24, 6)).astype("int32"), np.arange(24) % 3
    history = model.fit(x, y, epochs=3, validation_split=0.25, callbacks=[callback], verbose=0)
    logs = tmp_path / "run" / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["train", "validation"]
    assert all(list(d.glob("events.out.tfevents.*")) for d in logs.iterdir())
    train = epoch_values(logs / "train", "epoch_loss")
    assert [step for step, _ in train] == [0, 1, 2]
    assert all(math.isfinite(v) for _, v in train)
    np.testing.assert_allclose([v for _, v in train], history.history["loss"], rtol=1e-5)
    val = epoch_values(logs / "validation", "epoch_loss")
    np.testing.assert_allclose([v for _, v in val], history.history["val_loss"], rtol=1e-5)


def test_a_non_chief_worker_gets_no_tensorboard_callback(tmp_path):
    context = zoo.CallbackContext(tmp_path, {}, "lstm", is_chief=False)
    assert zoo.default_registry().make_callbacks(["tensorboard"], context) == []
    assert not tmp_path.joinpath("logs").exists()


def test_without_the_tensorboard_package_it_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    context = zoo.CallbackContext(tmp_path, {}, "lstm")
    with pytest.raises(zoo.ZooError) as e:
        zoo.default_registry().make_callbacks(["tensorboard"], context)
    assert str(e.value) == ('--tensorboard needs the TensorBoard package: pip install "keras-zoo[tensorboard]" (or pip '
                            "install tensorboard).")

