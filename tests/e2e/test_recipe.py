"""The training recipe zoo train chooses from the data, rule by rule, on small synthetic data: standardization
inside the saved model, the step budget of a tiny set, the schedule's floor, the data-driven sequence length and
vocabulary, and the user's overrides winning over every rule."""

import json
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import yaml

import zoo
from zoo import recipe, training

TINY = {"units": 4}


def numeric_file(path, n, seed, scale=1000.0, lengths=(5, 12)):
    """Two classes told apart by the direction of a ramp, in raw units around ``scale`` (unscaled, an LSTM
    saturates); variable lengths."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    seqs = []
    for i in range(n):
        t = np.linspace(0, 1, rng.integers(*lengths))[:, None]
        ramp = t if y[i] else 1 - t
        seqs.append(scale + scale * 0.01 * np.hstack([ramp, rng.normal(size=t.shape)]))
    np.savez(path, X=np.concatenate(seqs).astype("float32"), lengths=[len(s) for s in seqs], y=y)
    return path, seqs


def test_standardization_is_inside_the_saved_model_and_leaves_padding_alone(tmp_path):
    train, seqs = numeric_file(tmp_path / "train.npz", 40, 0)
    run = zoo.train("lstm", train, out=tmp_path / "run", seed=0, steps=600, verbose=0, hyperparameters=TINY)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"]["parts"] == ["standardize", "center", "network"] and config["recipe"]["standardize"]
    layer = run.classifier.parts["standardize"]
    steps = np.concatenate(seqs)  # every real timestep of the training data, no padding
    np.testing.assert_allclose(layer.mean.numpy(), steps.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.std.numpy(), steps.std(axis=0), rtol=1e-4)
    padded = np.zeros((1, 9, 2), "float32")
    padded[0, :4] = seqs[0][:4]
    out = np.asarray(layer(padded))
    assert (out[0, 4:] == 0).all() and np.abs(out[0, :4]).max() < 10  # padding stays zero, real steps are scaled

    clf = zoo.load(tmp_path / "run")  # raw units in, from a fresh load
    raw = [s * 1.0 for s in seqs[:6]]
    np.testing.assert_allclose(clf.predict_proba(raw), run.classifier.predict_proba(raw), atol=1e-6)
    assert run.metrics["accuracy"] >= 0.9  # raw units around 1000 are learnable once standardized


def test_without_standardization_the_same_raw_data_does_not_train(tmp_path):
    train, _ = numeric_file(tmp_path / "train.npz", 40, 0)
    run = zoo.train("lstm", train, out=tmp_path / "raw", seed=0, steps=200, standardize=False, center=False,
                    verbose=0, hyperparameters=TINY)  # (the centred copy, scaled, would rescue it)
    assert json.loads((tmp_path / "raw" / "config.json").read_text())["model"]["parts"] == []
    assert run.metrics["accuracy"] <= 0.6  # saturated: why the rule exists


def test_a_tiny_set_trains_on_every_row_for_the_whole_step_budget(tmp_path):
    train, _ = numeric_file(tmp_path / "train.npz", 40, 1)
    run = zoo.train("lstm", train, out=tmp_path / "run", seed=0, verbose=0, hyperparameters=TINY)
    budget = run.record.recipe["budget"]
    assert run.record.recipe["validation"] == "none" and budget["patience"] is None
    assert budget["steps"] >= recipe.MIN_STEPS and budget["steps_per_epoch"] >= recipe.MIN_EPOCH_STEPS
    assert int(run.classifier.parts["network"].optimizer.iterations) == budget["steps"]  # no early stop
    assert len(run.history["loss"]) == budget["epochs"] and "val_loss" not in run.history
    assert run.history["loss"][-1] < 0.1 * run.history["loss"][0]
    assert run.record.data["train"]["examples"] == 40  # every row trained on
    assert any(note.startswith("40 training examples and no validation file") for note in run.notes)


def test_a_budget_is_steps_not_epochs():
    big = recipe.choose_budget(16000, 32, validation=True)
    small = recipe.choose_budget(300, 32, validation=True)
    unvalidated = recipe.choose_budget(16000, 32, validation=False)
    assert big.steps == recipe.MAX_PASSES * big.steps_per_epoch and big.patience == recipe.MIN_PATIENCE
    assert unvalidated.steps == recipe.MIN_PASSES * unvalidated.steps_per_epoch and unvalidated.patience is None
    assert small.steps >= recipe.MIN_STEPS and small.passes_per_epoch * 10 >= recipe.MIN_EPOCH_STEPS
    assert small.patience * small.steps_per_epoch >= recipe.PATIENCE_STEPS  # patience is steps, not epochs
    assert recipe.choose_budget(16000, 32, True, steps=700).steps == 1000  # whole epochs
    assert recipe.choose_budget(16000, 32, True, epochs=3).steps == 1500


def test_the_schedule_warms_up_decays_and_never_goes_below_its_floor():
    budget = recipe.choose_budget(3200, 32, validation=True)
    schedule = recipe.learning_rate_schedule(0.003, budget, "cosine")
    rates = np.array([float(schedule(step)) for step in range(0, budget.steps + 200, 10)])
    peak_at = int(np.argmax(rates)) * 10
    assert abs(peak_at - budget.warmup_steps) <= 10 and rates.max() == pytest.approx(0.003, rel=1e-3)
    assert rates.min() >= 0.003 * recipe.FLOOR * 0.999
    assert float(schedule(budget.steps)) == pytest.approx(0.003 * recipe.FLOOR, rel=1e-3)
    assert (np.diff(rates[peak_at // 10:]) <= 1e-12).all()  # after the peak it only goes down
    assert recipe.learning_rate_schedule(0.003, budget, "constant") == 0.003


def text_file(path, n, seed, rare=()):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = ("pos", "neg")[i % 2]
        words = list(rng.choice(["good", "great"] if label == "pos" else ["bad", "awful"], size=2))
        words += list(rng.choice(["the", "a", "film", "was", "it", "and"], size=rng.integers(2, 30)))
        rows.append(f"{' '.join(words)};{label}")
    rows += [f"{word} film;pos" for word in rare]  # words seen once
    path.write_text("\n".join(rows) + "\n")
    return path, [r.rpartition(";")[0] for r in rows]


def test_sequence_length_and_vocabulary_come_from_the_data(tmp_path):
    train, texts = text_file(tmp_path / "train.txt", 200, 0, rare=["zebra", "quokka"])
    run = zoo.train("bilstm", train, out=tmp_path / "run", seed=0, steps=40, verbose=0, hyperparameters=TINY)
    counts = Counter(w for t in texts for w in recipe.words(t))
    lengths = [len(recipe.words(t)) for t in texts]
    assert run.hyperparameters["vocab_size"] == sum(n >= 2 for n in counts.values()) + 2
    vocabulary = run.classifier.parts["tokenizer"].get_vocabulary()
    assert "zebra" not in vocabulary and "good" in vocabulary and len(vocabulary) == run.hyperparameters["vocab_size"]
    assert run.hyperparameters["seq_len"] == recipe.choose_seq_len(lengths) >= np.quantile(lengths, 0.99)
    assert zoo.get("bilstm").defaults["vocab_size"] == 5000  # the catalog keeps the reference design's defaults
    assert any(n.startswith("vocab_size ") for n in run.notes) and any(n.startswith("seq_len ") for n in run.notes)
    assert max(lengths) <= recipe.POOL_STEPS and run.hyperparameters["pooling"] == "last"  # short rows: final states
    assert not any(n.startswith("pooling") for n in run.notes)


def test_a_length_at_the_cap_says_how_much_of_the_texts_it_cuts(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("".join(" ".join(f"w{(i + j) % 40}" for j in range(600 + i)) + f";c{i % 2}\n" for i in range(40)))
    run = zoo.train("lstm", path, out=tmp_path / "run", seed=0, epochs=1, chrono=0, verbose=0,
                    hyperparameters={"units": 2, "embed_dim": 2})
    assert run.hyperparameters["seq_len"] == recipe.SEQ_LEN_CAP == 512
    assert ("seq_len 512: the cap; it covers 0% of the training texts whole, the rest are cut to their first 512 "
            "tokens (99% would need 639; lstm's catalog default is 100); override with --seq-len") in run.notes


def test_the_users_choices_win_over_every_rule(tmp_path):
    train, _ = text_file(tmp_path / "train.txt", 200, 1)
    run = zoo.train("bilstm", train, out=tmp_path / "run", seed=0, seq_len=12, epochs=3, steps=10_000,
                    schedule="constant", val_split=0.2, patience=9, ema=0.95, fold=3, verbose=0,
                    hyperparameters={**TINY, "vocab_size": 50})
    r = run.record.recipe
    assert r["fold"] == 1 and "--fold 3 ignored: it folds numeric series, and this data is text" in run.notes
    assert not any("center" in n for n in run.notes)  # the centred copy is on by default; text has nothing to say
    optimizer = run.classifier.parts["network"].optimizer
    assert optimizer.use_ema and optimizer.ema_momentum == 0.95 and run.record.train.ema == 0.95
    assert any("the saved model use the weights' moving average (momentum 0.95 per step)" in n for n in run.notes)
    assert run.hyperparameters["seq_len"] == 12 and run.hyperparameters["vocab_size"] == 50
    assert r["validation"] == "split" and run.record.data["val"]["examples"] == 40
    assert r["budget"]["epochs"] == 3 and r["budget"]["patience"] == 9 and r["schedule"] == "constant"
    assert float(run.classifier.parts["network"].optimizer.learning_rate) == pytest.approx(0.003)
    numbers, _ = numeric_file(tmp_path / "n.npz", 20, 2)
    run = zoo.train("lstm", numbers, out=tmp_path / "n", seed=0, steps=32, standardize=False, center=False,
                    verbose=0, hyperparameters=TINY)
    assert run.record.recipe["standardize"] is False and run.classifier.spec.parts == ()


def test_label_smoothing_trains_toward_smoothed_targets_in_either_label_mode(tmp_path):
    train, seqs = numeric_file(tmp_path / "train.npz", 40, 4)
    top = {}
    for labels, rate in (("categorical", 0.0), ("sparse", 0.4)):
        run = zoo.train("lstm", train, out=tmp_path / labels, seed=0, steps=600, label_smoothing=rate, verbose=0,
                        hyperparameters={**TINY, "labels": labels})
        probs = run.classifier.predict_proba(seqs)
        assert run.metrics["accuracy"] >= 0.9 and run.history["loss"][-1] < run.history["loss"][0]
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-5) and run.record.train.label_smoothing == rate
        top[rate] = probs.max(axis=1).mean()
        assert any((f"label smoothing {rate:g};" if rate else "no label smoothing;") in n for n in run.notes)
    # the smoothed target is 1 - 0.4 + 0.4 / 2 = 0.8 on the true class: the model learns the classes, not certainty
    assert top[0.0] > 0.95 and 0.7 < top[0.4] < 0.86


def test_the_per_example_loss_of_a_smoothed_network_is_its_cross_entropy_on_smoothed_targets():
    import keras

    from zoo.fitting import per_example_loss

    network = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    network.compile(loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.3))
    x, y = np.array([[1.0, 2.0], [0.5, -1.0]], "float32"), np.eye(3, dtype="float32")[[2, 0]]
    probs = np.asarray(network(x))
    smoothed = y * 0.7 + 0.1
    expected = -(smoothed * np.log(probs)).sum(axis=1)
    np.testing.assert_allclose(np.asarray(per_example_loss(network)(y, probs)), expected, rtol=1e-5)
    network.compile(loss="sparse_categorical_crossentropy")
    np.testing.assert_allclose(np.asarray(per_example_loss(network)(np.array([2, 0]), probs)),
                               -np.log(probs[[0, 1], [2, 0]]), rtol=1e-5)


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_mixed_precision_trains_under_the_cosine_schedule_and_the_moving_average(tmp_path, ema):
    # compile wraps the optimizer in a LossScaleOptimizer, which takes neither a schedule nor use_ema itself
    train, _ = numeric_file(tmp_path / "train.npz", 40, 3)
    run = zoo.train("lstm", train, out=tmp_path / "run", seed=0, steps=64, ema=ema, verbose=0,
                    hyperparameters={**TINY, "precision": "mixed_float16"})
    optimizer = run.classifier.parts["network"].optimizer
    assert type(optimizer).__name__ == "LossScaleOptimizer" and optimizer.inner_optimizer.use_ema == (ema > 0)
    assert run.record.recipe["schedule"] == "cosine" and not hasattr(optimizer.inner_optimizer.learning_rate, "assign")
    probs = run.classifier.predict_proba([np.ones((6, 2), "float32") * 1000])
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-3) and run.history["loss"][-1] < run.history["loss"][0]


def long_series_file(path, n, seed, lengths=(200, 300)):
    """Two classes told apart only by the level of each series' first 64 steps, then a long stretch of noise: an
    LSTM must carry the start across every later step."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    seqs = []
    for i in range(n):
        s = rng.normal(size=(int(rng.integers(*lengths)), 1))
        s[:64] += 1.0 if y[i] else -1.0
        seqs.append(s)
    np.savez(path, X=np.concatenate(seqs).astype("float32"), lengths=[len(s) for s in seqs], y=y)
    return path, seqs, y


def test_a_long_series_is_folded_inside_the_saved_model_and_trains_where_the_unfolded_one_does_not(tmp_path):
    train, seqs, _ = long_series_file(tmp_path / "train.npz", 64, 0)
    test, test_seqs, test_y = long_series_file(tmp_path / "test.npz", 60, 1)
    size = recipe.choose_fold([len(s) for s in seqs])
    assert size == -(-int(np.ceil(np.quantile([len(s) for s in seqs], 0.99))) // recipe.MAX_STEPS) >= 4
    run = zoo.train("lstm", train, test=test, out=tmp_path / "run", seed=0, steps=400, center=False, verbose=0,
                    hyperparameters={"units": 16})  # the fold alone (test_the_centred_copy... has both parts)
    assert run.record.recipe["fold"] == size and run.classifier.spec.fold == size
    assert run.classifier.spec.parts == ("standardize", "fold", "network")
    network = run.classifier.parts["network"]
    assert network.input.shape[-1] == size and run.classifier.model.input.shape[-1] == 1  # raw series in
    assert any(n.startswith(f"fold {size}: ") for n in run.notes)
    assert run.metrics["accuracy"] >= 0.9

    clf = zoo.load(tmp_path / "run")  # the raw series of any length, from a fresh load, as the run folded them
    x = [s * 1.0 for s in test_seqs[:8]] + [test_seqs[8][:size * 3 + 1]]
    expected = run.classifier.predict_proba(x)
    np.testing.assert_allclose(clf.predict_proba(x), expected, atol=1e-6)
    mean, std = run.classifier.parts["standardize"].mean.numpy(), run.classifier.parts["standardize"].std.numpy()
    by_hand = [network(recipe.fold(((s - mean) / std)[None].astype("float32"), size)).numpy()[0] for s in x]
    np.testing.assert_allclose(expected, by_hand, atol=1e-5)  # fold = side by side, the end padded and masked

    flat = zoo.train("lstm", train, test=test, out=tmp_path / "flat", seed=0, steps=400, fold=1, center=False,
                     chrono=0, verbose=0, hyperparameters={"units": 16})  # (chrono initialization rescues it too)
    assert flat.record.recipe["fold"] == 1 and flat.classifier.spec.parts == ("standardize", "network")
    assert flat.metrics["accuracy"] <= 0.75  # the same budget over every step does not reach the start: why the rule


def level_file(path, n, seed, level=10.0):
    """Two classes told apart by the direction of a ramp of amplitude 1, on a level drawn per series with a spread
    of ``level``: standardized over the whole training set, the ramp is a tenth of the spread."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    seqs = []
    for i in range(n):
        t = np.linspace(-1, 1, int(rng.integers(10, 20)))[:, None]
        ramp = rng.normal(0, level) + (t if y[i] else -t) + 0.2 * rng.normal(size=t.shape)
        seqs.append(np.hstack([ramp, rng.normal(size=t.shape)]))
    np.savez(path, X=np.concatenate(seqs).astype("float32"), lengths=[len(s) for s in seqs], y=y)
    return path, seqs


def test_the_centred_copy_is_inside_the_saved_model_and_learns_a_shape_on_a_random_level(tmp_path):
    train, seqs = level_file(tmp_path / "train.npz", 40, 0)
    test, test_seqs = level_file(tmp_path / "test.npz", 100, 1)
    run = zoo.train("lstm", train, test=test, out=tmp_path / "run", seed=0, steps=300, center=True, verbose=0,
                    hyperparameters={"units": 4})
    assert run.classifier.spec.parts == ("standardize", "center", "network") and run.record.recipe["center"]
    assert run.classifier.parts["network"].input.shape[-1] == 4 and run.classifier.model.input.shape[-1] == 2
    standardize, centre = run.classifier.parts["standardize"], run.classifier.parts["center"]
    mean, std = standardize.mean.numpy(), standardize.std.numpy()
    scaled = [(s - mean) / std for s in seqs]
    np.testing.assert_allclose(centre.scale.numpy(), np.concatenate([s - s.mean(0) for s in scaled]).std(0),
                               rtol=1e-4)  # the copy's own training spread
    assert run.metrics["accuracy"] >= 0.85

    clf = zoo.load(tmp_path / "run")
    x = [s * 1.0 for s in test_seqs[:8]]
    expected = run.classifier.predict_proba(x)
    np.testing.assert_allclose(clf.predict_proba(x), expected, atol=1e-6)
    network, scale = run.classifier.parts["network"], centre.scale.numpy()
    by_hand = [network(recipe.center(((s - mean) / std)[None].astype("float32"), scale)).numpy()[0] for s in x]
    np.testing.assert_allclose(expected, by_hand, atol=1e-5)  # each row's own mean, whatever the batch's padding

    plain = zoo.train("lstm", train, test=test, out=tmp_path / "plain", seed=0, steps=300, center=False, verbose=0,
                      hyperparameters={"units": 4})
    assert plain.classifier.spec.parts == ("standardize", "network") and not plain.record.recipe["center"]
    assert plain.metrics["accuracy"] <= 0.65  # the ramp drowns in the levels' spread: why the copy exists


def needle_file(path, n, seed, length=100, where=(0, 40)):
    """Two classes told apart by one word ("alpha" or "omega") at a random position in ``where`` of a text of
    ``length`` filler words: 60 to 100 steps before the end, where an LSTM's final state must carry it."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(30)]
    lines = []
    for i in range(n):
        words = list(rng.choice(filler, length))
        words[rng.integers(*where)] = ("alpha", "omega")[i % 2]
        lines.append(" ".join(words) + "\t" + ("a", "b")[i % 2])
    path.write_text("\n".join(lines) + "\n")
    return path


def test_chrono_initialization_opens_the_forget_gates_and_learns_a_word_far_from_the_end(tmp_path):
    import keras

    train, test = needle_file(tmp_path / "train.txt", 200, 0), needle_file(tmp_path / "test.txt", 200, 1)
    hp = {"units": 8, "embed_dim": 8}
    network = zoo.build("bilstm", num_classes=2, vocab_size=40, seq_len=None, **hp)
    before = [keras.ops.convert_to_numpy(c.bias) for c in training.gated_cells(network)]
    assert len(before) == 2 and training.init_memory(network, 100, seed=0) == 2  # forward and backward
    for cell, old in zip(training.gated_cells(network), before):
        bias, u = keras.ops.convert_to_numpy(cell.bias), cell.units
        assert (old[u:2 * u] == 1).all()  # Keras's unit_forget_bias
        assert (bias[u:2 * u] >= 0).all() and (bias[u:2 * u] <= np.log(99) + 1e-6).all()
        assert bias[u:2 * u].std() > 0.3 and (bias[:u] == -bias[u:2 * u]).all()  # spread; input gates closed
        np.testing.assert_array_equal(bias[2 * u:], old[2 * u:])  # candidate and output gates untouched

    run = zoo.train("lstm", train, test=test, out=tmp_path / "chrono", seed=0, steps=300, verbose=0,
                    hyperparameters=hp)
    assert run.record.recipe["chrono"] == 100  # every text is 100 tokens
    assert any(n.startswith("chrono initialization: the forget (LSTM) and update (GRU) gates of 1 recurrent cell(s) "
                            "drawn for memories of 1 to 100 steps") for n in run.notes)
    assert run.metrics["accuracy"] >= 0.95
    keras_bias = zoo.train("lstm", train, test=test, out=tmp_path / "keras", seed=0, steps=300, chrono=0,
                           verbose=0, hyperparameters=hp)
    assert keras_bias.record.recipe["chrono"] is None and not any("chrono" in n for n in keras_bias.notes)
    assert keras_bias.metrics["accuracy"] <= 0.7  # a forget bias of 1 forgets the word long before the end


def test_long_rows_pool_the_maximum_over_the_steps_where_the_architecture_offers_it(tmp_path):
    train = needle_file(tmp_path / "train.txt", 60, 0)  # 100 tokens a text
    run = zoo.train("bilstm", train, out=tmp_path / "long", seed=0, steps=32, verbose=0, hyperparameters=TINY)
    assert run.hyperparameters["pooling"] == "max" and zoo.get("bilstm").defaults["pooling"] == "last"
    assert type(run.classifier.parts["network"].get_layer("max_pool")).__name__ == "MaskedGlobalMaxPooling1D"
    assert ("pooling max: the network reads 100 steps for 99% of the training rows, more than 32, so the head reads "
            "each feature's maximum over them rather than the final states; --set pooling=last keeps bilstm's "
            "catalog default") in run.notes
    kept = zoo.train("bilstm", train, out=tmp_path / "kept", seed=0, steps=32, verbose=0,
                     hyperparameters={**TINY, "pooling": "last"})  # the user's choice wins
    assert kept.hyperparameters["pooling"] == "last" and not any(n.startswith("pooling") for n in kept.notes)
    cut = zoo.train("bilstm", train, out=tmp_path / "cut", seed=0, steps=32, seq_len=24, verbose=0,
                    hyperparameters=TINY)  # the network reads what --seq-len keeps
    assert cut.hyperparameters["pooling"] == "last"
    plain = zoo.train("lstm", train, out=tmp_path / "lstm", seed=0, steps=32, verbose=0, hyperparameters=TINY)
    assert "pooling" not in plain.hyperparameters and not any(n.startswith("pooling") for n in plain.notes)
    series, seqs, _ = long_series_file(tmp_path / "s.npz", 40, 0)  # 200-300 timesteps, folded to at most 64 steps
    folded = zoo.train("bilstm", series, out=tmp_path / "series", seed=0, steps=32, verbose=0,
                       hyperparameters=TINY)
    size, steps = folded.record.recipe["fold"], recipe.covering_length([len(s) for s in seqs])
    assert size > 1 and folded.hyperparameters["pooling"] == "max"
    assert any(n.startswith(f"pooling max: the network reads {-(-steps // size)} steps") for n in folded.notes)


def test_chrono_initialization_opens_a_gru_s_update_gates_and_skips_a_network_without_gates(tmp_path):
    import keras

    train, test = needle_file(tmp_path / "train.txt", 200, 0), needle_file(tmp_path / "test.txt", 200, 1)
    hp = {"units": 8, "embed_dim": 8}
    network = zoo.build("gru", num_classes=2, vocab_size=40, seq_len=None, **hp)
    (cell,) = training.gated_cells(network)
    old, u = keras.ops.convert_to_numpy(cell.bias), cell.units
    assert old.shape == (2, 3 * u) and training.init_memory(network, 100, seed=0) == 1  # reset_after: 2 rows
    bias = keras.ops.convert_to_numpy(cell.bias)
    assert (bias[0, :u] >= 0).all() and (bias[0, :u] <= np.log(99) + 1e-6).all() and bias[0, :u].std() > 0.3
    np.testing.assert_array_equal(bias[0, u:], old[0, u:])  # reset and candidate gates untouched
    np.testing.assert_array_equal(bias[1], old[1])  # the recurrent biases too

    # the update gate keeps the state (h = z * h_prev + (1 - z) * candidate): opened, it carries the word
    gru = zoo.train("gru", train, test=test, out=tmp_path / "gru", seed=0, steps=300, verbose=0,
                    hyperparameters=hp)
    assert gru.record.recipe["chrono"] == 100 and gru.metrics["accuracy"] >= 0.9
    keras_bias = zoo.train("gru", train, test=test, out=tmp_path / "keras", seed=0, steps=300, chrono=0,
                           verbose=0, hyperparameters=hp)
    assert keras_bias.metrics["accuracy"] <= 0.7

    inputs = keras.Input((None, 3))
    plain = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.SimpleRNN(4)(inputs)))
    assert training.gated_cells(plain) == [] and training.init_memory(plain, 100, seed=0) == 0
    assert training._chrono_note(0, 100, 100) == ("chrono initialization skipped: this architecture has no LSTM or "
                                                  "GRU layer (--chrono 100 ignored)")


def test_tune_trials_are_chrono_initialized_as_zoo_train_would_and_say_so(tmp_path):
    train, val = needle_file(tmp_path / "train.txt", 200, 0), needle_file(tmp_path / "val.txt", 100, 2)
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "tune", "lstm", "--data", str(train), "--val", str(val),
                        "--trials", "1", "--epochs", "15", "--set", "units=8", "--set", "embed_dim=8", "--set",
                        "learning_rate=0.003", "--out", str(tmp_path / "preset.yaml")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert ("note: chrono initialization: the forget (LSTM) and update (GRU) gates of 1 recurrent cell(s) drawn for "
            "memories of 1 to 100 steps") in r.stdout
    assert "note: seq_len 104: covers 99% of the training texts" in r.stdout
    assert "validation examples, too few" not in r.stdout  # 100 rank the trials
    # 32 distinct words fill 34 ids: the catalog's 5,000-20,000 would only add unused embedding rows
    assert ("note: vocab_size searched over 34 (the catalog's 5000, 10000, 20000 cut to the 32 distinct training "
            "words plus padding and unknown, the most ids this data fills; zoo train alone would choose 34 from the "
            "data)" in r.stdout and "note: vocab_size 34:" not in r.stdout)
    preset = yaml.safe_load((tmp_path / "preset.yaml").read_text())["presets"]["lstm-tuned"]
    assert preset["hyperparameters"]["vocab_size"] == 34
    best = float(re.search(r"^best val_loss ([0-9.]+) after 1 trials", r.stdout, re.M).group(1))
    assert best < 0.2  # the word 60-100 steps before the end is learned in 105 steps (0.056; Keras's biases: 0.56)


def test_tune_searches_pooling_and_says_what_zoo_train_would_choose(tmp_path):
    train = needle_file(tmp_path / "train.txt", 60, 0)  # 100 tokens a text: zoo train would pool the maximum
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "tune", "bilstm", "--data", str(train), "--trials", "2",
                        "--epochs", "1", "--set", "units=4", "--set", "embed_dim=4", "--set", "learning_rate=0.003",
                        "--set", "vocab_size=34", "--out", str(tmp_path / "preset.yaml")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "note: pooling searched over last, max, mean (zoo train alone would choose max from the data)" in r.stdout
    assert "note: pooling max:" not in r.stdout
    preset = yaml.safe_load((tmp_path / "preset.yaml").read_text())["presets"]["bilstm-tuned"]
    assert preset["hyperparameters"]["pooling"] in ("last", "max", "mean")
