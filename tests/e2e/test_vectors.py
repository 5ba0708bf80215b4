"""``zoo train --embeddings FILE``: pretrained word vectors seed the network's Embedding, words the training texts
never hold join the vocabulary with their vectors, the saved model needs the file no more, and a file or an
architecture that cannot take them is one line before anything is trained."""

import numpy as np
import pytest

import zoo
from zoo import recipe, training, vectors
from zoo.cli import main
from zoo.errors import ZooError

CLASSES, TOPIC, DIM = 4, 20, 12
HP = {"units": 8}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Texts whose class is told by three topic words among filler words; the test texts use only topic words the
    training texts never hold, so a network can tell them only through vectors that place each topic word near
    its class's centre."""
    d = tmp_path_factory.mktemp("vectors")
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CLASSES, DIM))
    filler = [f"f{i}" for i in range(30)]
    with open(d / "vectors.txt", "w") as f:
        for k in range(CLASSES):
            for i in range(TOPIC):
                f.write(f"T{k}x{i} " + " ".join(f"{v:.4f}" for v in centres[k] + 0.3 * rng.normal(size=DIM)) + "\n")
        for w in filler:
            f.write(f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=DIM)) + "\n")

    def texts(path, n, unseen):
        with open(path, "w") as f:
            for _ in range(n):
                k = rng.integers(CLASSES)
                words = [f"t{k}x{i}" for i in rng.integers(0, TOPIC // 2, 3) + (TOPIC // 2 if unseen else 0)]
                words += list(rng.choice(filler, rng.integers(4, 8)))
                rng.shuffle(words)
                f.write(" ".join(words) + f"\tc{k}\n")
        return path

    return {"dir": d, "vectors": d / "vectors.txt", "train": texts(d / "train.txt", 400, False),
            "test": texts(d / "test.txt", 200, True)}


def test_pretrained_vectors_place_words_the_training_texts_never_hold(files, tmp_path):
    options = dict(test=files["test"], seed=0, steps=400, verbose=0, hyperparameters=HP)
    run = zoo.train("lstm", files["train"], out=tmp_path / "vectors", embeddings=files["vectors"], **options)
    plain = zoo.train("lstm", files["train"], out=tmp_path / "plain", **options)
    assert plain.metrics["accuracy"] <= 0.45  # every test topic word is the unknown word: chance is 0.25
    assert run.metrics["accuracy"] >= 0.9
    # embed_dim follows the vectors; the vocabulary holds the training words and the file's other words
    assert run.hyperparameters["embed_dim"] == DIM and zoo.get("lstm").defaults["embed_dim"] != DIM
    words = CLASSES * TOPIC + 30
    assert run.hyperparameters["vocab_size"] == words + recipe.RESERVED_IDS
    assert run.record.recipe["embeddings"] == {"source": str(files["vectors"]), "dim": DIM, "vocabulary": words,
                                               "with_vectors": words, "from_file": CLASSES * TOPIC // 2}
    assert f"embed_dim {DIM}: the dimension of the --embeddings vectors (lstm's catalog default is 64)" in run.notes
    assert run.record.train.embeddings == str(files["vectors"])
    # the saved run reads the unseen words through its own vocabulary: the file is not needed any more
    clf = zoo.load(run.out)
    ids = np.asarray(clf.parts["tokenizer"](np.array(["t3x15 t3x19 f1"], dtype=object)))[0]
    assert ids[:3].min() > 1  # no unknown-word id
    text = "t2x12 f3 t2x17 f9 t2x11 f20"
    assert clf.predict([text])[0]["label"] == "c2"
    np.testing.assert_allclose(clf.predict_proba([text]), run.classifier.predict_proba([text]), rtol=1e-5)


def test_the_embedding_starts_from_the_vectors_and_only_words_with_one_change(files):
    import keras

    from collections import Counter

    pretrained, _ = vectors.vocabulary(Counter({"t0x1": 2, "f2": 2, "nothing": 5}), files["vectors"], cap=10)
    network = zoo.build("lstm", num_classes=2, vocab_size=pretrained.vocab_size, embed_dim=DIM, units=4)
    before = np.array(keras.ops.convert_to_numpy(network.get_layer("embedding").embeddings))
    training.load_pretrained(network, pretrained, "lstm")
    after = keras.ops.convert_to_numpy(network.get_layer("embedding").embeddings)
    rows = np.flatnonzero(pretrained.found) + recipe.RESERVED_IDS
    np.testing.assert_array_equal(after[rows], pretrained.vectors[pretrained.found])
    kept = np.setdiff1d(np.arange(len(after)), rows)  # padding, the unknown word, "nothing" (no vector)
    assert pretrained.vocabulary[0] == "nothing" and 2 in kept and {0, 1} <= set(kept)
    np.testing.assert_array_equal(after[kept], before[kept])
    features = zoo.build("lstm", num_classes=2, input="features", num_features=3, units=4)
    with pytest.raises(ZooError, match=rf"--embeddings: 'lstm' has no Embedding layer of {pretrained.vocab_size} x "
                                       f"{DIM} \\(vocab_size x the vectors' dimension\\)"):
        training.load_pretrained(features, pretrained, "lstm")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_vectors_a_run_cannot_take_are_one_line_and_leave_no_run(files, tmp_path, capsys):
    series = tmp_path / "s.npz"
    np.savez(series, X=np.ones((20, 4, 2), dtype="float32"), y=np.arange(20) % 2)
    out = tmp_path / "run"
    cases = [
        (["--data", str(series)], f"--embeddings gives word vectors, but {series} holds numeric series; drop "
                                  "--embeddings."),
        (["--data", str(files["train"]), "--set", "embed_dim=8"],
         f"--set embed_dim=8 but the vectors in {files['vectors']} have {DIM} dimensions; leave embed_dim unset with "
         "--embeddings (it follows the vectors) or pass vectors of 8."),
        (["--data", str(files["train"]), "--set", "vocab_size=abc"],
         "Bad value 'abc' for hyperparameter 'vocab_size' of 'lstm': expected int, 2..10000000."),
        (["--data", str(files["train"]), "--set", "vocab_size=2"],
         "vocab_size=2 leaves no id for a word (0 is padding, 1 the unknown word); set vocab_size to 3 or more."),
        (["--data", str(files["train"]), "--set", "units=4"], None),  # the file below is broken
    ]
    broken = tmp_path / "broken.txt"
    broken.write_text("f1 1 2 3\nf2 1 2\n")
    for i, (argv, message) in enumerate(cases):
        source = broken if message is None else files["vectors"]
        code, _, err = run_cli(capsys, "train", "lstm", *argv, "--embeddings", str(source), "--out", str(out),
                               "--steps", "1")
        message = message or (f"{broken}:2: 2 numbers after the word, but the file's vectors have 3; every line "
                              "needs a word and 3 numbers.")
        assert (code, err) == (2, f"zoo: error: {message}\n"), i
        assert not out.exists() and not list(tmp_path.glob("run*"))
    # without --embeddings too, a vocabulary of padding and unknown alone is refused before training
    code, _, err = run_cli(capsys, "train", "lstm", "--data", str(files["train"]), "--set", "vocab_size=2", "--out",
                           str(out), "--steps", "1")
    assert (code, err) == (2, "zoo: error: vocab_size=2 leaves no id for a word (0 is padding, 1 the unknown word); "
                              "set vocab_size to 3 or more.\n")
    assert not out.exists() and not list(tmp_path.glob("run*"))


def test_an_architecture_without_a_vocabulary_size_is_refused_before_the_file_is_read(files, tmp_path):
    from types import SimpleNamespace

    from zoo.config import TrainConfig
    from zoo.preparation import prepare_data, read_pretrained

    config = TrainConfig("lstm", data=str(files["train"]), embeddings=str(tmp_path / "not-read.txt"))
    no_vocab = SimpleNamespace(name="charcnn", schema={"units": None})
    with pytest.raises(ZooError, match=r"^--embeddings: 'charcnn' has no vocab_size hyperparameter, so its Embedding "
                                       r"cannot be sized to the vectors' vocabulary; train it without --embeddings\.$"):
        read_pretrained(config, no_vocab, {}, prepare_data(config), [])


def test_tune_trials_start_from_the_vectors_and_search_neither_vocabulary_nor_width(files, tmp_path):
    from zoo.catalog import load_presets
    from zoo.tuning import tune

    # validation holds only words the training texts never do: a trial reads them only through the vectors
    common = dict(val=files["test"], trials=2, epochs=5, strategy="random", seed=0,
                  overrides={"learning_rate": 0.01})
    with_vectors = tune("lstm", files["train"], out=tmp_path / "v.yaml", embeddings=files["vectors"], **common)
    plain = tune("lstm", files["train"], out=tmp_path / "p.yaml", **common)
    assert with_vectors.best_score < 0.5 < 1.2 < plain.best_score  # chance-level loss is ln 4 = 1.39
    assert set(with_vectors.best) == {"units"} and {"embed_dim", "vocab_size"} <= set(plain.best)
    assert any(n.startswith(f"embeddings from {files['vectors']}: {DIM}-dimensional vectors") for n in
               with_vectors.notes)
    preset = load_presets(tmp_path / "v.yaml")["lstm-tuned"]
    assert f"with --embeddings {files['vectors']}:" in preset.summary and "embed_dim" not in preset.hyperparameters
