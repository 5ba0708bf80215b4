"""`zoo compare`: every architecture with the same recipe over several seeds, ranked; finished runs reused; an
architecture that cannot train gets a row with the reason while the others go on."""

import json
import subprocess
import sys

import numpy as np

import zoo

SMALL = {"units": 4, "embed_dim": 4, "learning_rate": 0.02}


def test_compare_ranks_architectures_over_seeds_and_reuses_finished_runs(tmp_path, keyword_file):
    train, test = keyword_file(tmp_path / "train.txt", 120, 0), keyword_file(tmp_path / "test.txt", 60, 1)
    out = tmp_path / "cmp"
    lines = []
    board = zoo.compare(["lstm", "bilstm"], str(train), test=str(test), seeds=2, out=out, steps=64,
                        hyperparameters=SMALL, progress=lines.append)
    assert [e.architecture for e in board.ranked()] and len(board.entries) == 2 and len(lines) == 4
    for e in board.entries:
        assert len(e.accuracy) == 2 and all(0 <= a <= 1 for a in e.accuracy) and e.parameters > 0
        runs = [json.loads((out / e.architecture / f"seed-{s}" / "metrics.json").read_text()) for s in (0, 1)]
        assert [r["accuracy"] for r in runs] == e.accuracy  # the leaderboard is the runs' own test metrics
    ranked = board.ranked()
    means = [np.mean(e.accuracy) for e in ranked]
    assert means == sorted(means, reverse=True)
    saved = json.loads((out / "leaderboard.json").read_text())
    assert [e["architecture"] for e in saved["entries"]] == [e.architecture for e in ranked]
    assert (out / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 1 | `" in (out / "leaderboard.md").read_text()
    again = zoo.compare(["lstm", "bilstm"], str(train), test=str(test), seeds=2, out=out, steps=64,
                        hyperparameters=SMALL)
    assert [e.summary() for e in again.ranked()] == [e.summary() for e in ranked]  # reused, not retrained


def test_an_architecture_that_cannot_train_gets_a_row_and_the_rest_go_on(tmp_path, make_dist, fake_catalog_text):
    root = tmp_path / "site"
    make_dist(root, "zoo-textonly", "1.0", {"textonly": "zoo_textonly"}, {
        "zoo_textonly/__init__.py": """
            from pathlib import Path
            import zoo
            CATALOG = Path(__file__).with_name("zoo.yaml")

            def build(num_classes, hp):
                import keras
                inputs, x = zoo.sequence_inputs(hp)
                return keras.Model(inputs, zoo.softmax_head(keras.layers.GRU(hp.units)(x), num_classes))

            @zoo.hookimpl
            def register_architectures(register):
                register("textonly", build, catalog=CATALOG)
        """,
        "zoo_textonly/zoo.yaml": fake_catalog_text("textonly", ["textonly"], inputs="[tokens]"),
    })
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    seqs = [rng.normal(size=(6, 3)) + y[i] for i in range(40)]
    np.savez(tmp_path / "d.npz", X=np.stack(seqs), y=y)
    env = {"PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    import os

    r = subprocess.run([sys.executable, "-m", "zoo.cli", "compare", "lstm", "textonly", "--data",
                        str(tmp_path / "d.npz"), "--seeds", "1", "--steps", "32", "--set", "units=4", "--out",
                        str(tmp_path / "cmp")], capture_output=True, text=True, timeout=300,
                       env={**os.environ, **env})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| 1 | `lstm` |" in r.stdout
    assert "| - | `textonly` | failed: 'textonly' does not accept input='features'; it accepts: tokens." in r.stdout
