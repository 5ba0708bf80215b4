"""Hand-written Keras baselines for the accuracy panel: the zoo's three reference networks, written the way a
competent Keras user would write them, trained on every panel data set (benchmarks/panel.py). No zoo code is in
the training path: the data come from the files ``panel.materialize`` writes (read here with numpy and plain
Python), the models are plain Keras.

    python benchmarks/baselines.py [--datasets a,b] [--archs lstm,stacked_lstm,bilstm] [--seeds 0,1,2]
                                   [--out benchmarks/results/baselines.json] [--force] [--table]
    python benchmarks/baselines.py --estimate [--datasets ...] [--archs ...]   # time one epoch per cell

Networks (vocab_size, embed_dim and units as in registry.yaml):
  lstm          Embedding(10000, 64, mask_zero=True) -> LSTM(128) -> Dense(classes, softmax)
  stacked_lstm  Embedding(10000, 128, mask_zero=True) -> LSTM(256, return_sequences=True) -> Dropout(0.2)
                -> LSTM(128) -> Dense(classes, softmax)
  bilstm        Embedding(5000, 64, mask_zero=True) -> Bidirectional(LSTM(64)) -> Dense(classes, softmax)
Numeric data: Masking(0.0) in place of the Embedding, features in raw units (no scaling), every split
right-padded with zeros to its own longest sequence (input shape (None, features)). Text:
TextVectorization(max_tokens=vocab_size, output_sequence_length=L) adapted on the training texts, L = the longest
training text in tokens (TextVectorization's own standardisation and split), capped at 1000: nothing in the
training split is truncated, and masking makes the padding free.

Training: Adam(1e-3) for all three, batch 32, categorical cross-entropy, shuffled every epoch, a fixed epoch
budget, no early stopping, no learning-rate schedule, no class weights; a val split, where the data set has one,
is not used at all. The budget is epochs = clip(ceil(1500 / steps_per_epoch), 20, 500) (at least ~1,500
optimizer steps), unless the seed-0 run shows the training loss still falling at the end (mean over the last
20% of epochs more than 10% and more than 0.02 below the mean over the 20% before): then that seed-0 model is
trained on for as many epochs again (the budget doubles, up to --max-raise times), and seeds 1 and 2 of that
(data set, architecture) get the raised budget from the start. The budget is set per (data set, architecture). The final model is evaluated on the test split.
Seeds: keras.utils.set_random_seed(seed) and tf.config.experimental.enable_op_determinism().

Each finished cell (data set, architecture, seed) is merged into the JSON at once, so a long run keeps what it
measured; a re-run skips the cells already there (resume), unless --force. Cells run cheapest first, by the
estimate file (benchmarks/results/baselines-estimate.json, written by --estimate; (data set, architecture) pairs
it lacks run last), the three seeds of a pair one after the other, seed 0 first (it sets the pair's budget).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import panel  # noqa: E402

ARCHS = {
    "lstm": {"vocab_size": 10000, "embed_dim": 64},
    "stacked_lstm": {"vocab_size": 10000, "embed_dim": 128},
    "bilstm": {"vocab_size": 5000, "embed_dim": 64},
}
BATCH = 32
LEARNING_RATE = 1e-3
MIN_STEPS, MIN_EPOCHS, MAX_EPOCHS = 1500, 20, 500
MAX_TEXT_LEN = 1000
RESULTS = Path(__file__).resolve().parent / "results"
ESTIMATE = RESULTS / "baselines-estimate.json"


# ------------------------------------------------------------------------------------------------- data
def read_text(path: Path) -> tuple[list[str], list[str]]:
    """``TEXT<SEP>LABEL`` lines (tab if the first line has one, else ';'), split on the last separator; blank
    lines skipped."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    sep = "\t" if "\t" in lines[0] else ";"
    texts, labels = [], []
    for line in lines:
        text, _, label = line.rpartition(sep)
        texts.append(text)
        labels.append(label.strip())
    return texts, labels


def read_npz(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """X (samples, timesteps, features), y, optional lengths -> a list of (timesteps, features) arrays."""
    with np.load(path, allow_pickle=False) as z:
        X, y = z["X"], z["y"]
        lengths = z["lengths"] if "lengths" in z.files else np.full(len(X), X.shape[1])
    return [X[i, : int(n)] for i, n in enumerate(lengths)], [str(v) for v in y]


_DATA: dict = {}


def data(name: str, directory: Path) -> dict:
    """The panel set's train and test splits as read from its files (cached per process)."""
    if name not in _DATA:
        files = panel.materialize(name, directory)
        reader = read_npz if files["train"].suffix == ".npz" else read_text
        (xtr, ytr), (xte, yte) = reader(files["train"]), reader(files["test"])
        labels = sorted(set(ytr))
        index = {label: i for i, label in enumerate(labels)}
        _DATA[name] = {
            "kind": "numeric" if reader is read_npz else "text",
            "x_train": xtr, "x_test": xte, "labels": labels,
            "y_train": np.array([index[v] for v in ytr]),
            "y_test": np.array([index.get(v, -1) for v in yte]),  # -1: never in training, always an error
            "val_unused": files["val"] is not None,
        }
    return _DATA[name]


_VECTORIZED: dict = {}


def vectorize(name: str, d: dict, vocab_size: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Token ids for train and test, L, and the adapted vocabulary's size."""
    import keras

    key = (name, vocab_size)
    if key not in _VECTORIZED:
        train = np.array(d["x_train"], dtype=object)
        probe = keras.layers.TextVectorization(max_tokens=vocab_size)  # pads to the batch's longest text
        probe.adapt(train)
        longest = int((np.asarray(probe(train)) != 0).sum(axis=1).max())  # OOV is 1, padding 0
        L = min(longest, MAX_TEXT_LEN)
        vectorizer = keras.layers.TextVectorization(max_tokens=vocab_size, output_sequence_length=L)
        vectorizer.adapt(train)
        x_train = np.asarray(vectorizer(train), dtype="int32")
        x_test = np.asarray(vectorizer(np.array(d["x_test"], dtype=object)), dtype="int32")
        _VECTORIZED[key] = (x_train, x_test, L, len(vectorizer.get_vocabulary()))
    return _VECTORIZED[key]


def inputs(name: str, d: dict, arch: str) -> dict:
    import keras

    if d["kind"] == "text":
        x_train, x_test, L, vocab = vectorize(name, d, ARCHS[arch]["vocab_size"])
        return {"x_train": x_train, "x_test": x_test, "seq_len": L, "vocabulary": vocab}
    pad = lambda seqs: keras.utils.pad_sequences(seqs, padding="post", dtype="float32", value=0.0)  # noqa: E731
    x_train, x_test = pad(d["x_train"]), pad(d["x_test"])
    return {"x_train": x_train, "x_test": x_test, "seq_len": int(x_train.shape[1]), "features": int(x_train.shape[2])}


# ------------------------------------------------------------------------------------------------- models
def build(arch: str, num_classes: int, kind: str, features: int | None = None):
    import keras
    from keras import layers

    hp = ARCHS[arch]
    if kind == "text":
        inp = keras.Input(shape=(None,), dtype="int32")
        x = layers.Embedding(hp["vocab_size"], hp["embed_dim"], mask_zero=True)(inp)
    else:
        inp = keras.Input(shape=(None, features))
        x = layers.Masking(mask_value=0.0)(inp)
    if arch == "lstm":
        x = layers.LSTM(128)(x)
    elif arch == "stacked_lstm":
        x = layers.LSTM(256, return_sequences=True)(x)
        x = layers.Dropout(0.2)(x)
        x = layers.LSTM(128)(x)
    elif arch == "bilstm":
        x = layers.Bidirectional(layers.LSTM(64))(x)
    else:
        raise ValueError(arch)
    out = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inp, out, name=arch)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def default_epochs(n_train: int) -> int:
    steps = math.ceil(n_train / BATCH)
    return int(np.clip(math.ceil(MIN_STEPS / steps), MIN_EPOCHS, MAX_EPOCHS))


def loss_trend(losses: list[float]) -> tuple[float, bool]:
    """(drop, still_falling): drop = mean loss over the 20% of epochs before the last 20% minus the mean over
    the last 20% (windows of at least 2 epochs); still falling when drop > 0.02 and drop > 10% of the former."""
    w = max(2, math.ceil(0.2 * len(losses)))
    if len(losses) < 2 * w:
        return 0.0, False
    before, last = float(np.mean(losses[-2 * w: -w])), float(np.mean(losses[-w:]))
    drop = before - last
    return drop, drop > 0.02 and drop > 0.1 * before


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over the classes present in y_true of per-class F1 = 2 tp / (2 tp + fp + fn)."""
    scores = []
    for c in np.unique(y_true):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


class Progress:
    """A Keras callback (made lazily, keras imported late) logging loss every ~10% of the epochs."""

    @staticmethod
    def make(label: str, epochs: int, start: float):
        import keras

        class _P(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                every = max(1, epochs // 10)
                if (epoch + 1) % every == 0 or epoch + 1 == epochs:
                    print(f"  {label} epoch {epoch + 1}/{epochs} loss {logs['loss']:.4f} "
                          f"acc {logs['accuracy']:.4f} {time.perf_counter() - start:.0f} s", flush=True)

        return _P()


def run_cell(name: str, arch: str, seed: int, directory: Path, epochs: int, max_raise: int) -> dict:
    """Train one (data set, architecture, seed) cell; seed 0 may raise the budget (see the module docstring)."""
    import keras

    d = data(name, directory)
    x = inputs(name, d, arch)
    classes = len(d["labels"])
    y_train = keras.utils.to_categorical(d["y_train"], classes)
    keras.backend.clear_session()  # a fresh graph per cell: no memory growth over a long run
    gc.collect()
    keras.utils.set_random_seed(seed)
    model = build(arch, classes, d["kind"], x.get("features"))
    label = f"{name}/{arch}/seed{seed}"
    start = time.perf_counter()
    losses, accs, budget, raised = [], [], epochs, []
    done = 0
    while True:
        h = model.fit(x["x_train"], y_train, batch_size=BATCH, epochs=budget, initial_epoch=done, shuffle=True,
                      verbose=0, callbacks=[Progress.make(label, budget, start)])
        losses += [float(v) for v in h.history["loss"]]
        accs += [float(v) for v in h.history["accuracy"]]
        done = budget
        drop, falling = loss_trend(losses)
        if not (falling and seed == 0 and len(raised) < max_raise):
            break
        raised.append({"at_epoch": done, "loss_drop_last_20pct": round(drop, 4)})
        print(f"  {label}: loss still falling after {done} epochs (drop {drop:.4f}); raising to {2 * done}",
              flush=True)
        budget = 2 * done
    seconds = time.perf_counter() - start
    t0 = time.perf_counter()
    probs = model.predict(x["x_test"], batch_size=256, verbose=0)
    predict_seconds = time.perf_counter() - t0
    pred = probs.argmax(axis=1)
    y_test = d["y_test"]
    steps_per_epoch = math.ceil(len(y_train) / BATCH)
    every = max(1, len(losses) // 50)
    curve = [[i + 1, round(v, 5)] for i, v in enumerate(losses) if (i + 1) % every == 0 or i + 1 == len(losses)]
    drop, falling = loss_trend(losses)
    return {
        "dataset": name, "architecture": arch, "seed": seed,
        "accuracy": round(float(np.mean(pred == y_test)), 6),
        "macro_f1": round(macro_f1(y_test, pred), 6),
        "epochs": done, "default_epochs": epochs, "raised": raised,
        "steps_per_epoch": steps_per_epoch, "steps": done * steps_per_epoch,
        "final_train_loss": round(losses[-1], 6), "final_train_accuracy": round(accs[-1], 6),
        "loss_drop_last_20pct": round(drop, 5), "loss_still_falling": falling,
        "train_seconds": round(seconds, 1), "predict_seconds": round(predict_seconds, 2),
        "seconds_per_epoch": round(seconds / done, 3),
        "parameters": int(model.count_params()),
        "seq_len": x["seq_len"], **({"vocabulary": x["vocabulary"]} if "vocabulary" in x else {}),
        **({"features": x["features"]} if "features" in x else {}),
        "n_train": int(len(y_train)), "n_test": int(len(y_test)), "classes": classes,
        "unseen_test_labels": int(np.sum(y_test < 0)), "val_split_unused": d["val_unused"],
        "loss_curve": curve,
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


# ------------------------------------------------------------------------------------------------- results file
def meta() -> dict:
    import keras
    import tensorflow as tf

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        cpu = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")),
                   platform.processor())
    except OSError:
        cpu = platform.processor()
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "machine": platform.machine(),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
                     "numpy": np.__version__},
        "recipe": {"optimizer": "adam", "learning_rate": LEARNING_RATE, "batch_size": BATCH,
                   "loss": "categorical_crossentropy", "epochs": "clip(ceil(1500 / steps_per_epoch), 20, 500); "
                   "raised (doubled) when seed 0's training loss is still falling at the end",
                   "early_stopping": False, "lr_schedule": False, "class_weights": False, "val_split": "unused",
                   "numeric": "Masking(0.0), raw units, right-padded with zeros",
                   "text": "TextVectorization(max_tokens=vocab_size, output_sequence_length=longest training text "
                           "in tokens, capped at 1000)",
                   "determinism": "keras.utils.set_random_seed(seed); tf.config.experimental.enable_op_determinism()"},
    }


def load_results(out: Path) -> dict:
    return json.loads(out.read_text()) if out.exists() else {"meta": {}, "results": []}


def save_cell(out: Path, row: dict) -> None:
    """Merge one cell into ``out`` (replacing an earlier one with the same key), atomically."""
    doc = load_results(out)
    for old in doc["results"]:  # files written before rows named their CPU: the file's one CPU
        old.setdefault("cpu", doc["meta"].get("cpu"))
    row = {**row, "cpu": row.get("cpu") or meta()["cpu"]}
    key = (row["dataset"], row["architecture"], row["seed"])
    rows = [r for r in doc["results"] if (r["dataset"], r["architecture"], r["seed"]) != key] + [row]
    order = {n: i for i, n in enumerate(panel.NAMES)}
    arch_order = {a: i for i, a in enumerate(ARCHS)}
    rows.sort(key=lambda r: (order.get(r["dataset"], 99), arch_order.get(r["architecture"], 9), r["seed"]))
    doc = {"meta": meta(), "results": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(out)


def table(rows: list[dict]) -> str:
    """Markdown: mean ± std (sample std over seeds) and min-max per (data set, architecture)."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["architecture"]), []).append(r)
    order = {n: i for i, n in enumerate(panel.NAMES)}
    arch_order = {a: i for i, a in enumerate(ARCHS)}
    lines = ["| data set | architecture | seeds | test accuracy: mean ± std (min-max) | macro-F1: mean ± std (min-max) "
             "| epochs (steps) | final train loss | train time / seed | params |",
             "|---|---|---|---|---|---|---|---|---|"]

    def stat(values):
        v = np.array(values)
        std = v.std(ddof=1) if len(v) > 1 else 0.0
        return f"{v.mean():.4f} ± {std:.4f} ({v.min():.4f}-{v.max():.4f})"

    for (name, arch), g in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 99), arch_order[kv[0][1]])):
        g.sort(key=lambda r: r["seed"])
        epochs = sorted({r["epochs"] for r in g})
        steps = sorted({r["steps"] for r in g})
        falling = "*" if any(r["loss_still_falling"] for r in g) else ""
        lines.append(
            f"| {name} | `{arch}` | {','.join(str(r['seed']) for r in g)} | {stat([r['accuracy'] for r in g])} | "
            f"{stat([r['macro_f1'] for r in g])} | {'/'.join(map(str, epochs))} ({'/'.join(map(str, steps))}) | "
            f"{np.mean([r['final_train_loss'] for r in g]):.4f}{falling} | "
            f"{np.mean([r['train_seconds'] for r in g]):.0f} s | {g[0]['parameters']:,} |")
    lines.append("\nstd: sample standard deviation over seeds. `*`: the training loss was still falling at the end "
                 "of at least one seed (last 20% of epochs > 10% and > 0.02 below the 20% before).")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- estimate
def estimate(names: list[str], archs: list[str], directory: Path, max_batches: int = 40) -> dict:
    """Seconds per epoch of every (data set, architecture): two epochs on the first min(n, max_batches * 32)
    training rows (the same padded length), the second timed (the first traces); x steps_per_epoch."""
    import keras

    out = {}
    for name in names:
        d = data(name, directory)
        epochs = default_epochs(len(d["y_train"]))
        spe = math.ceil(len(d["y_train"]) / BATCH)
        for arch in archs:
            x = inputs(name, d, arch)
            m = min(len(d["y_train"]), max_batches * BATCH)
            y = keras.utils.to_categorical(d["y_train"][:m], len(d["labels"]))
            keras.utils.set_random_seed(0)
            model = build(arch, len(d["labels"]), d["kind"], x.get("features"))
            times = []

            class T(keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.t = time.perf_counter()

                def on_epoch_end(self, epoch, logs=None):
                    times.append(time.perf_counter() - self.t)

            model.fit(x["x_train"][:m], y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[T()])
            per_step = times[1] / math.ceil(m / BATCH)
            row = {"seconds_per_step": round(per_step, 4), "seconds_per_epoch": round(per_step * spe, 2),
                   "first_epoch_overhead": round(times[0] - times[1], 1), "steps_per_epoch": spe,
                   "epochs": epochs, "seq_len": x["seq_len"],
                   "cell_seconds": round(per_step * spe * epochs + (times[0] - times[1]), 0)}
            out[f"{name}/{arch}"] = row
            print(f"{name:16} {arch:13} L={x['seq_len']:<5} {spe:>4} steps/epoch x {epochs:>4} epochs: "
                  f"{row['seconds_per_epoch']:8.2f} s/epoch -> {row['cell_seconds'] / 60:7.1f} min per seed", flush=True)
    return out


def ordered_cells(names: list[str], archs: list[str], seeds: list[int], estimates: dict) -> list[tuple]:
    def cost(name, arch):
        if f"{name}/{arch}" in estimates:
            return estimates[f"{name}/{arch}"]["cell_seconds"]
        return 1e12  # unknown: after the estimated ones

    pairs = sorted(((n, a) for n in names for a in archs), key=lambda p: cost(*p))
    return [(n, a, s) for n, a in pairs for s in seeds]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(panel.NAMES))
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(RESULTS / "baselines.json"))
    parser.add_argument("--force", action="store_true", help="re-run cells already in --out")
    parser.add_argument("--max-raise", type=int, default=1, help="how many times seed 0 may double the budget")
    parser.add_argument("--epochs", type=int, help="override every budget (smoke tests only)")
    parser.add_argument("--estimate", action="store_true", help="time one epoch per cell, write the estimate file")
    parser.add_argument("--table", action="store_true", help="only print the table of --out")
    args = parser.parse_args(argv)
    names = [n for n in args.datasets.split(",") if n]
    archs = [a for a in args.archs.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    for n in names:
        if n not in panel.NAMES:
            parser.error(f"unknown data set {n!r}; the panel: {', '.join(panel.NAMES)}")
    for a in archs:
        if a not in ARCHS:
            parser.error(f"unknown architecture {a!r}; one of {', '.join(ARCHS)}")
    out = Path(args.out)
    if args.table:
        print(table(load_results(out)["results"]))
        return

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    with tempfile.TemporaryDirectory(prefix="zoo-panel-") as tmp:
        directory = Path(tmp)
        if args.estimate:
            est = estimate(names, archs, directory)
            old = json.loads(ESTIMATE.read_text())["cells"] if ESTIMATE.exists() else {}
            old.update(est)
            ESTIMATE.parent.mkdir(parents=True, exist_ok=True)
            ESTIMATE.write_text(json.dumps({"meta": meta(), "cells": old}, indent=1) + "\n")
            total = sum(r["cell_seconds"] for r in est.values())
            print(f"\ntotal per seed: {total / 3600:.2f} h; x {len(seeds)} seeds: {total * len(seeds) / 3600:.2f} h "
                  "(default budgets, before any raise)")
            return
        estimates = json.loads(ESTIMATE.read_text())["cells"] if ESTIMATE.exists() else {}
        cells = ordered_cells(names, archs, seeds, estimates)
        done = {(r["dataset"], r["architecture"], r["seed"]): r for r in load_results(out)["results"]}
        print(f"{len(cells)} cells, {sum(c in done for c in cells)} already in {out}", flush=True)
        for name, arch, seed in cells:
            if (name, arch, seed) in done and not args.force:
                continue
            d = data(name, directory)
            epochs = args.epochs or default_epochs(len(d["y_train"]))
            max_raise = 0 if args.epochs else args.max_raise
            seed0 = done.get((name, arch, 0))
            if seed != 0 and seed0 and not args.epochs:
                epochs = seed0["epochs"]  # seed 0 decided the budget (raised or not)
            print(f"== {name} / {arch} / seed {seed}: {epochs} epochs", flush=True)
            row = run_cell(name, arch, seed, directory, epochs, max_raise)
            save_cell(out, row)
            done[(name, arch, seed)] = row
            print(json.dumps({k: v for k, v in row.items() if k != "loss_curve"}), flush=True)
    print()
    print(table(load_results(out)["results"]))


if __name__ == "__main__":
    main()
