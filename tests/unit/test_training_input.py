"""The training input pipeline: length bucketing, token dropout, and batches that depend only on (seed, epoch)."""

import numpy as np
import pytest

from zoo.data import token_lengths
from zoo.fitting import EpochBatches, token_batches


def right_padded(lengths, width=40, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((len(lengths), width), dtype="int64")
    for i, n in enumerate(lengths):
        x[i, :n] = rng.integers(1, 50, size=n)
    return x


def test_lengths_of_right_padded_rows_count_inner_oov_tokens():
    x = np.array([[5, 1, 7, 0, 0], [0, 0, 0, 0, 0], [2, 2, 2, 2, 2], [3, 0, 0, 0, 0]])
    assert token_lengths(x).tolist() == [3, 0, 5, 1]


def test_an_epoch_of_buckets_covers_every_row_once_and_groups_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 41, size=1000)
    x = right_padded(lengths)
    batches = token_batches(token_lengths(x), 32, np.random.default_rng(1), pool=8)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))
    assert all(len(b) <= 32 for b in batches) and sum(len(b) == 32 for b in batches) >= len(batches) - 4
    # sorted pools: the spread of lengths within a batch is far below that of a random batch
    spread = np.median([np.ptp(lengths[b]) for b in batches])
    assert spread <= 6 < np.ptp(lengths[:32])


def test_bucket_order_is_repeatable_per_seed_and_changes_per_epoch():
    lengths = token_lengths(right_padded(np.random.default_rng(0).integers(1, 41, size=300)))
    first = token_batches(lengths, 16, np.random.default_rng([7, 0]))
    again = token_batches(lengths, 16, np.random.default_rng([7, 0]))
    other = token_batches(lengths, 16, np.random.default_rng([7, 1]))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.usefixtures("keras_session")
def test_bucketed_batches_are_trimmed_to_their_longest_row_rounded_to_eight():
    lengths = np.random.default_rng(0).integers(1, 41, size=200)
    x = right_padded(lengths)
    y = np.arange(200, dtype="int64")  # the label carries the row index, to check rows stay aligned
    ds = EpochBatches(x, y, 16, seed=3, bucket=True).dataset()
    seen, widths = [], []
    for xb, yb in ds.as_numpy_iterator():
        widths.append(xb.shape[1])
        assert xb.shape[1] % 8 == 0 and xb.shape[1] >= lengths[yb].max()
        assert xb.shape[1] - lengths[yb].max() < 8
        np.testing.assert_array_equal(xb, x[yb, :xb.shape[1]])
        seen += yb.tolist()
    assert sorted(seen) == list(range(200))
    assert len(set(widths)) > 1 and int(ds.cardinality()) == 13


def test_token_dropout_replaces_only_real_tokens_by_oov_at_about_the_rate():
    x = right_padded(np.full(400, 20), width=24)
    x[x == 1] = 2  # no OOV ids to start with
    y = np.zeros(400, dtype="int64")
    out = np.concatenate([xb for xb, _ in EpochBatches(x, y, 50, seed=0, token_dropout=0.25).epoch(0)])
    assert (out[:, 20:] == 0).all()  # padding is never touched
    dropped = (out[:, :20] == 1).mean()
    assert 0.2 < dropped < 0.3
    assert np.isin(out[:, :20][out[:, :20] != 1], np.arange(2, 50)).all()


@pytest.mark.parametrize("bucket", [False, True])
def test_an_epochs_batches_depend_only_on_the_seed_and_the_epoch(bucket):
    """What makes a resumed run equal the uninterrupted one: epoch 3 is the same batches however it is reached."""
    x = right_padded(np.random.default_rng(1).integers(1, 41, size=300))
    y = np.arange(300)
    a = EpochBatches(x, y, 32, seed=5, bucket=bucket, token_dropout=0.2)
    b = EpochBatches(x, y, 32, seed=5, bucket=bucket, token_dropout=0.2)
    first = [(xb.copy(), yb.copy()) for xb, yb in a.epoch(3)]
    for (xa, ya), (xb, yb) in zip(first, b.epoch(3)):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not all(np.array_equal(ya, yb) for (_, ya), (_, yb) in zip(first, a.epoch(4)))
    assert sorted(np.concatenate([yb for _, yb in first]).tolist()) == list(range(300))


@pytest.mark.usefixtures("keras_session")
def test_the_pipeline_starts_at_the_resumed_epoch_and_moves_on_each_pass():
    x = right_padded(np.random.default_rng(2).integers(1, 41, size=100))
    batches = EpochBatches(x, np.arange(100), 16, seed=1, bucket=True)
    ds = batches.dataset(first_epoch=2)
    for epoch in (2, 3):
        got = [yb for _, yb in ds.as_numpy_iterator()]
        want = [yb for _, yb in batches.epoch(epoch)]
        assert all(np.array_equal(g, w) for g, w in zip(got, want)) and len(got) == len(want)


@pytest.mark.usefixtures("keras_session")
def test_with_a_weight_average_validation_scores_it_and_the_run_keeps_the_best_epochs_average():
    import keras

    from zoo.fitting import EpochLoop, averaged_weights
    from zoo.rundir import RunDir

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 5, 3)).astype("float32")
    y = (x[:, :, 0].sum(1) > 0).astype("int64")
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9), "sparse_categorical_crossentropy")
    seen = []

    def probe(epoch, logs):  # runs before the loop's own epoch end: the state validation saw
        raw = [w.numpy() for w in model.trainable_weights]
        raw_loss = model.evaluate(x[64:], y[64:], verbose=0)
        with averaged_weights(model):
            average = [w.numpy() for w in model.trainable_weights]
            average_loss = model.evaluate(x[64:], y[64:], verbose=0)
        assert all((a == b).all() for a, b in zip(raw, [w.numpy() for w in model.trainable_weights]))  # swapped back
        seen.append((logs["val_loss"], average_loss, raw_loss, average, raw))

    run_dir = RunDir.scratch()
    try:
        loop = EpochLoop(model, run_dir, patience=5)
        model.fit(x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=3, batch_size=8, verbose=0,
                  callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=probe), loop.callback()])
    finally:
        run_dir.release()
    for val_loss, average_loss, raw_loss, average, raw in seen:
        assert val_loss == pytest.approx(average_loss, abs=1e-5) and abs(val_loss - raw_loss) > 1e-4
        assert any(np.abs(a - r).max() > 1e-4 for a, r in zip(average, raw))
    best = int(np.argmin([s[0] for s in seen]))
    for kept, average in zip(model.trainable_weights, seen[best][3]):
        np.testing.assert_array_equal(kept.numpy(), average)
