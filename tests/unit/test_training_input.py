"""The training input pipeline: length bucketing and token dropout."""

import numpy as np
import pytest

from zoo.data import token_lengths
from zoo.training import _token_batches, _train_input


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
    batches = _token_batches(token_lengths(x), 32, np.random.default_rng(1), pool=8)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))
    assert all(len(b) <= 32 for b in batches) and sum(len(b) == 32 for b in batches) >= len(batches) - 4
    # sorted pools: the spread of lengths within a batch is far below that of a random batch
    spread = np.median([np.ptp(lengths[b]) for b in batches])
    assert spread <= 6 < np.ptp(lengths[:32])


def test_bucket_order_is_repeatable_per_seed_and_changes_per_epoch():
    lengths = token_lengths(right_padded(np.random.default_rng(0).integers(1, 41, size=300)))
    first = _token_batches(lengths, 16, np.random.default_rng([7, 0]))
    again = _token_batches(lengths, 16, np.random.default_rng([7, 0]))
    other = _token_batches(lengths, 16, np.random.default_rng([7, 1]))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.usefixtures("keras_session")
def test_bucketed_batches_are_trimmed_to_their_longest_row_rounded_to_eight():
    lengths = np.random.default_rng(0).integers(1, 41, size=200)
    x = right_padded(lengths)
    y = np.arange(200, dtype="int64")  # the label carries the row index, to check rows stay aligned
    ds = _train_input(x, y, 16, 0.0, seed=3, bucket=True)
    seen, widths = [], []
    for xb, yb in ds.as_numpy_iterator():
        widths.append(xb.shape[1])
        assert xb.shape[1] % 8 == 0 and xb.shape[1] >= lengths[yb].max()
        assert xb.shape[1] - lengths[yb].max() < 8
        np.testing.assert_array_equal(xb, x[yb, :xb.shape[1]])
        seen += yb.tolist()
    assert sorted(seen) == list(range(200))
    assert len(set(widths)) > 1 and int(ds.cardinality()) == 13


@pytest.mark.usefixtures("keras_session")
def test_token_dropout_replaces_only_real_tokens_by_oov_at_about_the_rate():
    x = right_padded(np.full(400, 20), width=24)
    x[x == 1] = 2  # no OOV ids to start with
    y = np.zeros(400, dtype="int64")
    out = np.concatenate([xb for xb, _ in _train_input(x, y, 50, 0.25, seed=0).as_numpy_iterator()])
    assert (out[:, 20:] == 0).all()  # padding is never touched
    dropped = (out[:, :20] == 1).mean()
    assert 0.2 < dropped < 0.3
    assert np.isin(out[:, :20][out[:, :20] != 1], np.arange(2, 50)).all()
