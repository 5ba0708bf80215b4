"""Speed of the built-in architectures: the zoo's model against the same network by hand in Keras and in PyTorch.

    python benchmarks/speed.py [--rounds 3] [--archs lstm,stacked_lstm,bilstm] [--samples N] [--quick]

Run by hand, never by the test suite. PyTorch is optional (`pip install ".[bench]"`, or on the project's CPU
machine `pip install torch==2.13.0`); without it the Keras variants still run and the report says so.

For each architecture, with the reference design's hyperparameters (6 classes, batch 64), four variants:

  zoo    `zoo.build(name, num_classes=6)`: the zoo's compiled model (Embedding with mask_zero=True)
  keras  the same network by hand in Keras: Input -> Embedding (no mask) -> LSTM / Bidirectional(LSTM) /
         LSTM, Dropout, LSTM -> Dense softmax, compiled with the same optimizer, categorical_crossentropy and
         an accuracy metric (as the zoo compiles)
  keras_masked  the same, with Embedding(mask_zero=True) as the zoo builds it: what is left between the zoo and
         this one is the zoo's own overhead; between this and `keras`, the price of masking the padding
  torch  the same network in PyTorch: nn.Embedding -> nn.LSTM(batch_first=True) (bidirectional, or two LSTMs
         with nn.Dropout between) -> nn.Linear, nn.CrossEntropyLoss (log-softmax + NLL) on integer labels, the
         same optimizer with Keras's default settings

Every measurement of one variant runs in its own fresh Python subprocess, so no state (threads, caches, traced
functions, allocator) carries over; each round runs zoo, keras, keras_masked, torch for every architecture in
turn (a b c d a b c d ...), ratios are taken within a round and the report gives medians over rounds. Inputs
are synthetic: token ids uniform in [1, vocab), right-padded with 0 to seq_len from random lengths in
[seq_len/10, seq_len], labels uniform over the 6 classes (fixed seed).

Metrics, per variant:
  train samples/s     `--samples` samples (whole batches of 64) after one warm-up step; Keras: train_on_batch,
                      PyTorch: zero_grad, forward, loss, backward, step
  predict samples/s   batches of 256 after one warm-up batch, median of 3 passes over them; Keras: predict_on_batch, PyTorch: model.eval()
                      under torch.inference_mode() (softmax included); zoo: zoo.inference.Runner (the path of
                      zoo.load(DIR).predict) in its steady state, XLA-compiled, and without XLA (a one-off call)
  latency p50/p95     one example (batch of 1), `--latency-calls` calls after warm-up. Zoo and PyTorch get the row
                      without padding (the zoo rounds its width up to 8, as its Classifier does); the hand-written
                      Keras model takes its fixed seq_len, and both predict_on_batch and model(x, training=False)
                      are probed and the faster is timed (the report names it); PyTorch calls the module under
                      inference_mode
  peak RSS            the worker's resource.getrusage(RUSAGE_SELF).ru_maxrss: the whole process (Python, framework
                      runtime, model, data, optimizer state) at its peak; "above import" subtracts the RSS read
                      just after the framework was imported, i.e. what the model and its training/prediction add
  GFLOP/s             train samples/s x model FLOPs per training sample, against this machine's float32 matmul
                      peak (best of many 64x192 @ 192x512 matmuls, numpy and PyTorch when installed). FLOPs: per
                      LSTM layer (a bidirectional one counts twice) per timestep forward 2*4*units*(input+units),
                      training = 3 x forward, every padded timestep counted (all variants compute them); embedding
                      lookups ignored, dense head included (negligible)
Also the wall time of `zoo list`, `python -c "import zoo"` and `python -c "import tensorflow"` (fresh processes,
median of `--startup-repeats`, after one untimed run).

Thread settings are the frameworks' defaults (not tuned) and are recorded. Writes benchmarks/results/speed.json
and speed.md (`--quick`: speed-quick.json / .md) and prints the markdown report, ready for the README.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BATCH = 64
PREDICT_BATCH = 256
NUM_CLASSES = 6
VARIANTS = ("zoo", "keras", "keras_masked", "torch")
VARIANT_LABELS = {"zoo": "zoo", "keras": "Keras by hand", "keras_masked": "Keras by hand, masked", "torch": "PyTorch"}

# The reference design's hyperparameters: what the zoo's defaults must be, and what (b) and (c) are built with.
SPECS = {
    "lstm": dict(vocab_size=10000, embed_dim=64, seq_len=100, units=[128], bidirectional=False, dropout=0.0,
                 optimizer="adam"),
    "stacked_lstm": dict(vocab_size=10000, embed_dim=128, seq_len=200, units=[256, 128], bidirectional=False,
                         dropout=0.2, optimizer="rmsprop"),
    "bilstm": dict(vocab_size=5000, embed_dim=64, seq_len=150, units=[64], bidirectional=True, dropout=0.0,
                   optimizer="adam"),
}
# Default work per measurement, sized so that a full 3-round run of all three takes about 10 minutes on a
# 2-core CPU (the stacked model trains at ~60-100 samples/s there): (train samples, predict samples).
DEFAULT_SIZES = {"lstm": (1280, 2048), "stacked_lstm": (384, 512), "bilstm": (1280, 2048)}
QUICK_SIZES = (128, 256)

RESULT_PREFIX = "SPEED_RESULT "
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


# -- model FLOPs ---------------------------------------------------------------------------------------------------
def flops_per_sample(spec: dict) -> dict:
    """Forward and training FLOPs for one sample (every timestep, padding included)."""
    fwd, inp = 0, spec["embed_dim"]
    directions = 2 if spec["bidirectional"] else 1
    for units in spec["units"]:
        fwd += directions * spec["seq_len"] * 2 * 4 * units * (inp + units)
        inp = directions * units
    fwd += 2 * inp * NUM_CLASSES
    return {"forward": fwd, "train": 3 * fwd}


# -- worker side (runs in a fresh subprocess) ------------------------------------------------------------------------
def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _synthetic(spec: dict, n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    seq_len = spec["seq_len"]
    x = rng.integers(1, spec["vocab_size"], size=(n, seq_len), dtype=np.int32)
    lengths = rng.integers(max(1, seq_len // 10), seq_len + 1, size=n)
    x[np.arange(seq_len)[None, :] >= lengths[:, None]] = 0  # right padding
    y = rng.integers(0, NUM_CLASSES, size=n)
    return x, y


def _batches(x, y, size: int) -> list:
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x) - size + 1, size)]


PREDICT_PASSES = 3  # prediction passes over the same batches per measurement; the median pass is reported


def _median_pass_seconds(run_pass) -> float:
    """Median wall time of PREDICT_PASSES calls of ``run_pass`` (one pass over the prediction batches)."""
    times = []
    for _ in range(PREDICT_PASSES):
        start = time.perf_counter()
        run_pass()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _latency_stats(times: list[float]) -> dict:
    import numpy as np

    ms = np.array(times) * 1000
    return {"latency_p50_ms": float(np.percentile(ms, 50)), "latency_p95_ms": float(np.percentile(ms, 95)),
            "latency_calls": len(times)}


def _keras_model(spec: dict, mask: bool = False):
    import keras

    inputs = keras.Input(shape=(spec["seq_len"],), dtype="int32", name="tokens")
    x = keras.layers.Embedding(spec["vocab_size"], spec["embed_dim"], mask_zero=mask)(inputs)
    for i, units in enumerate(spec["units"]):
        last = i == len(spec["units"]) - 1
        layer = keras.layers.LSTM(units, return_sequences=not last)
        x = keras.layers.Bidirectional(layer)(x) if spec["bidirectional"] else layer(x)
        if not last:
            x = keras.layers.Dropout(spec["dropout"])(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=spec["optimizer"], loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _measure_keras(variant: str, arch: str, spec: dict, job: dict) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    out = {"rss_after_import_mib": _rss_mib(), "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
           "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}
    keras.utils.set_random_seed(0)
    if variant == "zoo":
        import zoo

        d = zoo.get(arch).defaults
        d = {k: (list(v) if isinstance(v, (list, tuple)) else [v]) if k == "units" else v for k, v in d.items()}
        mismatch = {k: {"zoo": d[k], "reference": v} for k, v in spec.items() if k in d and d[k] != v}
        if mismatch:
            out["defaults_mismatch"] = mismatch
        out["zoo_options"] = {k: d.get(k) for k in ("precision", "learning_rate", "optimizer")}
        model = zoo.build(arch, num_classes=NUM_CLASSES)
    else:
        model = _keras_model(spec, mask=variant == "keras_masked")
    out["parameters"] = int(model.count_params())
    onehot = np.eye(NUM_CLASSES, dtype="float32")

    # training
    xt, yt = _synthetic(spec, max(job["train_samples"], BATCH), seed=1)
    batches = [(xb, onehot[yb]) for xb, yb in _batches(xt, yt, BATCH)]
    model.train_on_batch(*batches[0])  # warm-up: traces the train function
    start = time.perf_counter()
    for xb, yb in batches:
        model.train_on_batch(xb, yb)
    elapsed = time.perf_counter() - start
    out.update(train_samples=len(batches) * BATCH, train_seconds=elapsed,
               train_samples_per_s=len(batches) * BATCH / elapsed)
    if variant == "zoo":
        bucketed = zoo.build(arch, num_classes=NUM_CLASSES, seq_len=None)  # the variable-length network

    # prediction throughput. The zoo predicts through zoo.inference.Runner (what zoo.load(...).predict uses): by
    # default ("auto") a batch shape runs a traced graph until it has cost one XLA compilation, then runs compiled.
    # Steady state = compiled (timed with jit_compile=True after a warm-up call); "graph" = a one-off prediction.
    x, _ = _synthetic(spec, max(job["predict_samples"], PREDICT_BATCH), seed=2)
    pbatches = [xb for xb, _ in _batches(x, x, PREDICT_BATCH)]
    if variant == "zoo":
        from zoo.inference import Runner

        predictors = {"": Runner(model, jit_compile=True), "graph_": Runner(model, jit_compile=False)}
    else:
        predictors = {"": model.predict_on_batch}
    for prefix, predict in predictors.items():
        predict(pbatches[0])  # warm-up: traces (and compiles) the predict function
        elapsed = _median_pass_seconds(lambda: [predict(xb) for xb in pbatches])
        out[f"{prefix}predict_samples_per_s"] = len(pbatches) * PREDICT_BATCH / elapsed
    out.update(predict_samples=len(pbatches) * PREDICT_BATCH)
    if variant == "zoo":
        out["xla_compile_seconds"] = list(predictors[""].compiled.values())
        # what zoo's Classifier does for text: rows sorted by length, batches trimmed to their longest row
        from zoo.data import bucket_width, token_lengths

        xs = np.concatenate(pbatches)
        lengths = token_lengths(xs)
        order = np.argsort(lengths, kind="stable")
        widths = [bucket_width(lengths[order[i:i + PREDICT_BATCH]].max(), xs.shape[1])
                  for i in range(0, len(order), PREDICT_BATCH)]
        for prefix, jit in (("", True), ("graph_", False)):
            predict = Runner(bucketed, jit_compile=jit)

            def bucketed_predict() -> None:
                for n, i in enumerate(range(0, len(order), PREDICT_BATCH)):
                    predict(xs[order[i:i + PREDICT_BATCH], :widths[n]])

            bucketed_predict()  # warm-up: traces (and compiles) the widths
            out[f"bucketed_{prefix}predict_samples_per_s"] = len(xs) / _median_pass_seconds(bucketed_predict)

    # single-example latency
    x1 = _synthetic(spec, 1, seed=3)[0]
    if variant == "zoo":
        # the zoo's path for one text: the row trimmed to its length rounded up to 8, on the variable-length network
        row = x1[:, :bucket_width(token_lengths(x1)[0], x1.shape[1])]
        calls = {"Runner, XLA": Runner(bucketed, jit_compile=True), "Runner, graph": Runner(bucketed, jit_compile=False)}
        calls = {name: (lambda r=runner: r(row)) for name, runner in calls.items()}
    else:
        calls = {"predict_on_batch": lambda: model.predict_on_batch(x1),
                 "model(x, training=False)": lambda: np.asarray(model(x1, training=False))}
    probe = {}
    for name, call in calls.items():
        for _ in range(3):
            call()  # warm-up (predict_on_batch retraces once for batch size 1; XLA compiles)
        t = []
        for _ in range(job["latency_probe"]):
            s = time.perf_counter()
            call()
            t.append(time.perf_counter() - s)
        probe[name] = statistics.median(t) * 1000
    best = min(probe, key=probe.get) if variant != "zoo" else "Runner, XLA"  # zoo: its steady state, not a pick
    times = []
    for _ in range(job["latency_calls"]):
        s = time.perf_counter()
        calls[best]()
        times.append(time.perf_counter() - s)
    if variant == "zoo":
        out["latency_graph_p50_ms"] = probe["Runner, graph"]
    out.update(_latency_stats(times), latency_call=best, latency_probe_ms=probe,
               latency_width=int(row.shape[1] if variant == "zoo" else x1.shape[1]))
    if variant == "zoo":
        # Last, because it runs a tf.data pipeline: after one, TensorFlow computes up to ~30% slower in the same
        # process for a while (measured here; the other variants never touch tf.data, and a served model neither).
        # What `zoo train` does by default on text: a variable-length network fed batches of similar-length rows,
        # each trimmed to its longest row (rounded up to 8); the same rows, so the same work minus padding
        from zoo.fitting import EpochBatches

        ds = list(EpochBatches(xt[:len(batches) * BATCH], onehot[yt[:len(batches) * BATCH]], BATCH, seed=0,
                               bucket=True).dataset().as_numpy_iterator())
        for xb, yb in ds[:3]:
            bucketed.train_on_batch(xb, yb)  # warm-up: a few widths, until the train function stops retracing
        start = time.perf_counter()
        for xb, yb in ds:
            bucketed.train_on_batch(xb, yb)
        elapsed = time.perf_counter() - start
        out.update(bucketed_train_samples_per_s=len(batches) * BATCH / elapsed,
                   bucketed_mean_width=float(np.mean([xb.shape[1] for xb, _ in ds])))

    return out


def _measure_torch(arch: str, spec: dict, job: dict) -> dict:
    import numpy as np
    import torch
    from torch import nn

    out = {"rss_after_import_mib": _rss_mib(), "torch_threads": torch.get_num_threads(),
           "torch_interop_threads": torch.get_num_interop_threads()}
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(spec["vocab_size"], spec["embed_dim"])
            self.lstms = nn.ModuleList()
            inp = spec["embed_dim"]
            for units in spec["units"]:
                self.lstms.append(nn.LSTM(inp, units, batch_first=True, bidirectional=spec["bidirectional"]))
                inp = units * (2 if spec["bidirectional"] else 1)
            self.dropout = nn.Dropout(spec["dropout"])
            self.head = nn.Linear(inp, NUM_CLASSES)

        def forward(self, tokens):
            x = self.embedding(tokens)
            for i, lstm in enumerate(self.lstms):
                x, (h, _) = lstm(x)
                if i < len(self.lstms) - 1:
                    x = self.dropout(x)
            # final hidden state (both directions' concatenated, like Keras's Bidirectional without a mask)
            features = torch.cat([h[0], h[1]], dim=1) if spec["bidirectional"] else h[-1]
            return self.head(features)  # logits; softmax is in the loss / at prediction

    model = Net()
    out["parameters"] = int(sum(p.numel() for p in model.parameters()))
    # Keras's default settings for the same optimizers
    if spec["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    x, y = _synthetic(spec, max(job["train_samples"], BATCH), seed=1)
    batches = [(torch.from_numpy(xb.astype(np.int64)), torch.from_numpy(yb.astype(np.int64)))
               for xb, yb in _batches(x, y, BATCH)]
    model.train()
    step(*batches[0])  # warm-up
    start = time.perf_counter()
    for xb, yb in batches:
        step(xb, yb)
    elapsed = time.perf_counter() - start
    out.update(train_samples=len(batches) * BATCH, train_seconds=elapsed,
               train_samples_per_s=len(batches) * BATCH / elapsed)

    model.eval()
    x, _ = _synthetic(spec, max(job["predict_samples"], PREDICT_BATCH), seed=2)
    pbatches = [torch.from_numpy(xb.astype(np.int64)) for xb, _ in _batches(x, x, PREDICT_BATCH)]

    def predict(xb):
        with torch.inference_mode():
            return torch.softmax(model(xb), dim=-1).numpy()

    predict(pbatches[0])  # warm-up
    elapsed = _median_pass_seconds(lambda: [predict(xb) for xb in pbatches])
    out.update(predict_samples=len(pbatches) * PREDICT_BATCH, predict_seconds=elapsed,
               predict_samples_per_s=len(pbatches) * PREDICT_BATCH / elapsed)

    x1 = _synthetic(spec, 1, seed=3)[0]
    x1 = torch.from_numpy(x1[:, :int((x1 != 0).sum())].astype(np.int64))  # one example needs no padding
    for _ in range(3):
        predict(x1)
    times = []
    for _ in range(job["latency_calls"]):
        s = time.perf_counter()
        predict(x1)
        times.append(time.perf_counter() - s)
    out.update(_latency_stats(times), latency_call="module(x) under inference_mode", latency_width=int(x1.shape[1]))
    return out


def _measure_matmul(job: dict) -> dict:
    """Best-of-many float32 GFLOP/s of a 64x192 @ 192x512 matmul (one LSTM step of the basic model)."""
    import numpy as np

    m, k, n = 64, 192, 512
    flops = 2 * m * k * n
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    inner, repeats = job["matmul_inner"], job["matmul_repeats"]

    def best(fn) -> float:
        for _ in range(inner):
            fn()
        t = float("inf")
        for _ in range(repeats):
            s = time.perf_counter()
            for _ in range(inner):
                fn()
            t = min(t, (time.perf_counter() - s) / inner)
        return flops / t / 1e9

    out = {"shape": f"{m}x{k} @ {k}x{n} float32", "flops": flops,
           "numpy_gflops": best(lambda: np.matmul(a, b, out=c))}
    if importlib.util.find_spec("torch") is not None:
        import torch

        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
        out["torch_gflops"] = best(lambda: torch.matmul(ta, tb, out=tc))
        out["torch_threads"] = torch.get_num_threads()
    out["peak_gflops"] = max(v for k_, v in out.items() if k_.endswith("_gflops"))
    return out


def worker(job: dict) -> None:
    started = time.perf_counter()
    if job["kind"] == "matmul":
        result = _measure_matmul(job)
    elif job["variant"] == "torch":
        result = _measure_torch(job["arch"], SPECS[job["arch"]], job)
    else:
        result = _measure_keras(job["variant"], job["arch"], SPECS[job["arch"]], job)
    result["peak_rss_mib"] = _peak_rss_mib()
    if "rss_after_import_mib" in result:
        result["peak_above_import_mib"] = result["peak_rss_mib"] - result["rss_after_import_mib"]
    result["worker_seconds_in_process"] = time.perf_counter() - started
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# -- driver side ----------------------------------------------------------------------------------------------------
def run_worker(job: dict, timeout: float) -> dict:
    env = {**os.environ, **WORKER_ENV}
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], capture_output=True,
                              text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
            result["worker_wall_seconds"] = wall
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"error": f"exit status {proc.returncode}: " + " | ".join(tail)}


def time_command(argv: list[str], repeats: int) -> dict:
    env = {**os.environ, **WORKER_ENV}
    subprocess.run(argv, capture_output=True, env=env)  # untimed: warms the OS file cache
    times, rc = [], 0
    for _ in range(repeats):
        s = time.perf_counter()
        rc = subprocess.run(argv, capture_output=True, env=env).returncode or rc
        times.append(time.perf_counter() - s)
    return {"command": shlex.join(argv), "median_s": statistics.median(times), "min_s": min(times),
            "runs": repeats, "times_s": times, "returncode": rc}


def zoo_command() -> list[str]:
    script = Path(sys.executable).with_name("zoo")
    if script.exists():
        return [str(script)]
    found = shutil.which("zoo")
    return [found] if found else [sys.executable, "-c", "import sys, zoo.cli; sys.exit(zoo.cli.main())"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict:
    out = {"python": platform.python_version()}
    for dist, key in [("tensorflow", "tensorflow"), ("keras", "keras"), ("torch", "torch"), ("numpy", "numpy"),
                      ("keras-zoo", "zoo")]:
        try:
            out[key] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[key] = None
    return out


def median_or_none(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


RATIO_PAIRS = [("zoo", "keras"), ("zoo", "keras_masked"), ("zoo", "torch"), ("keras", "torch")]
# speed metrics: higher is better; latency is turned into a speed (1 / p50) so every ratio reads "x > 1: faster"
METRICS = {"train": "train_samples_per_s", "train, zoo bucketed": "bucketed_train_samples_per_s",
           "predict": "predict_samples_per_s", "predict, zoo bucketed": "bucketed_predict_samples_per_s",
           "predict, zoo no XLA": "graph_predict_samples_per_s",
           "predict, zoo bucketed no XLA": "bucketed_graph_predict_samples_per_s", "latency": "latency_p50_ms"}


def summarize(rounds: list[dict], archs: list[str], variants: list[str], peak_gflops: float | None) -> dict:
    summary = {}
    for arch in archs:
        spec, per = SPECS[arch], {}
        flops = flops_per_sample(spec)
        for v in variants:
            rows = [r[arch][v] for r in rounds if "error" not in r[arch][v]]
            if not rows:
                per[v] = {"error": rounds[-1][arch][v].get("error")}
                continue
            med = {k: median_or_none([r.get(k) for r in rows]) for k in
                   ("train_samples_per_s", "bucketed_train_samples_per_s", "bucketed_mean_width",
                    "bucketed_predict_samples_per_s", "bucketed_graph_predict_samples_per_s",
                    "graph_predict_samples_per_s", "latency_graph_p50_ms", "latency_width",
                    "predict_samples_per_s", "latency_p50_ms", "latency_p95_ms", "peak_rss_mib", "peak_above_import_mib", "worker_wall_seconds")}
            med["rounds_ok"] = len(rows)
            med["parameters"] = rows[0]["parameters"]
            med["latency_call"] = statistics.mode(r["latency_call"] for r in rows)
            med["train_gflops"] = med["train_samples_per_s"] * flops["train"] / 1e9
            if peak_gflops:
                med["train_fraction_of_peak"] = med["train_gflops"] / peak_gflops
            for key in ("defaults_mismatch",):
                if key in rows[0]:
                    med[key] = rows[0][key]
            per[v] = med
        ratios = {}
        for metric, key in METRICS.items():
            for a, b in RATIO_PAIRS:
                vals = []
                for r in rounds:
                    ra, rb = r[arch].get(a, {}), r[arch].get(b, {})
                    # bucketed / graph-only zoo figures against the others' one way of predicting
                    ka, kb = key, key.removeprefix("bucketed_").removeprefix("graph_")
                    if ka in ra and kb in rb:
                        vals.append(rb[kb] / ra[ka] if metric == "latency" else ra[ka] / rb[kb])
                ratios[f"{metric} {a}/{b}"] = {"median": median_or_none(vals), "per_round": vals}
        summary[arch] = {"flops_per_sample": flops, "variants": per, "ratios": ratios}
    return summary


def fmt(x, spec=".0f", none="n/a") -> str:
    return none if x is None else format(x, spec)


def markdown(report: dict) -> str:
    meta, summary = report["meta"], report["summary"]
    v = meta["versions"]
    lines = [f"Command: `{meta['command']}`  ",
             f"Date: {meta['date']}; machine: {meta['cpu']}, {meta['cores']} cores ({meta['platform']}); "
             f"Python {v['python']}, TensorFlow {v['tensorflow']}, Keras {v['keras']}, "
             f"PyTorch {v['torch'] or 'not installed'}, NumPy {v['numpy']}.  ",
             f"Threads (defaults, not tuned): {meta['threads']}.  ",
             f"{meta['rounds']} interleaved round(s), each measurement in a fresh process; medians over rounds. "
             f"Batch {BATCH} for training, {PREDICT_BATCH} for prediction, 1 for latency; {NUM_CLASSES} classes."]
    mm = report.get("matmul", {})
    if "peak_gflops" in mm:
        parts = [f"numpy {mm['numpy_gflops']:.0f}"] + ([f"PyTorch {mm['torch_gflops']:.0f}"]
                                                       if "torch_gflops" in mm else [])
        lines[-1] += "  "
        lines.append(f"float32 matmul peak ({mm['shape']}, best of many): {mm['peak_gflops']:.0f} GFLOP/s "
                     f"({', '.join(parts)}).")
    for note in meta["notes"]:
        lines[-1] += "  "
        lines.append(f"Note: {note}")
    lines += ["", "| model | variant | train samples/s | train GFLOP/s (% of peak) | predict samples/s | "
              "latency p50 / p95 (ms) | peak RSS (above import), MiB | parameters |",
              "|---|---|---|---|---|---|---|---|"]
    for arch, s in summary.items():
        for var, m in s["variants"].items():
            if "error" in m:
                lines.append(f"| `{arch}` | {VARIANT_LABELS[var]} | failed: {m['error']} | | | | | |")
                continue
            pct = f" ({100 * m['train_fraction_of_peak']:.0f}%)" if "train_fraction_of_peak" in m else ""
            call = " ¹" if var.startswith("keras") and m["latency_call"] != "predict_on_batch" else ""
            lines.append(
                f"| `{arch}` | {VARIANT_LABELS[var]} | {m['train_samples_per_s']:.0f} | {m['train_gflops']:.1f}{pct} | "
                f"{m['predict_samples_per_s']:.0f} | {m['latency_p50_ms']:.1f} / {m['latency_p95_ms']:.1f}{call} | "
                f"{m['peak_rss_mib']:.0f} ({m['peak_above_import_mib']:.0f}) | {m['parameters']:,} |")
    bucketed = [(arch, s["variants"]["zoo"]) for arch, s in summary.items()
                if s["variants"].get("zoo", {}).get("bucketed_train_samples_per_s")]
    if bucketed:
        lines += ["", "The zoo's default pipelines on text (length bucketing: batches of similar-length rows, each "
                      "trimmed to its longest row rounded up to 8, on a variable-length network; prediction sorts "
                      "the rows by length the same way), same rows as above:", "",
                  "| model | zoo bucketed train samples/s | mean batch width / seq_len | zoo bucketed predict "
                  "samples/s (no XLA) | zoo predict samples/s, same batches, no XLA | zoo latency p50, no XLA |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{arch}` | {m['bucketed_train_samples_per_s']:.0f} | {m['bucketed_mean_width']:.0f} / "
                  f"{SPECS[arch]['seq_len']} | {fmt(m.get('bucketed_predict_samples_per_s'))} "
                  f"({fmt(m.get('bucketed_graph_predict_samples_per_s'))}) | "
                  f"{fmt(m.get('graph_predict_samples_per_s'))} | {fmt(m.get('latency_graph_p50_ms'), '.2f')} ms |"
                  for arch, m in bucketed]
    calls = sorted({m["latency_call"] for s in summary.values() for var, m in s["variants"].items()
                    if var.startswith("keras") and "latency_call" in m})
    widths = {arch: {var: m.get("latency_width") for var, m in s["variants"].items()} for arch, s in summary.items()}
    lines += ["", "The zoo predicts through `zoo.inference.Runner`, as `zoo.load(DIR).predict` does: by default a batch "
                  "shape runs a traced graph until the time spent on it reaches one XLA compilation (0.3-0.9 s), then "
                  "runs XLA-compiled. Its predict and latency figures are that steady state (forced with "
                  "jit_compile=True, compilation not timed); \"no XLA\" is the traced graph, warm (a single pass over "
                  "rows whose widths do not repeat). Latency is one example: the zoo and PyTorch get the row without "
                  "its padding (the zoo rounds its width up to 8), the hand-written Keras models their fixed seq_len; "
                  "steps per variant: " + "; ".join(f"{a} " + ", ".join(f"{VARIANT_LABELS[v]} {w}" for v, w in ws.items()
                                                                       if w) for a, ws in widths.items()) + ". "
                  f"Hand-written Keras latency is the faster of predict_on_batch and model(x, training=False), probed "
                  f"in each run; used: {', '.join(calls) or 'n/a'} (¹: model(x, training=False)). PyTorch: the module "
                  f"under torch.inference_mode(). Peak RSS is the measuring process's ru_maxrss (framework runtime "
                  f"included); in parentheses, what it rose above the RSS right after the framework was imported."]
    lines += ["", "Ratios (median of the per-round ratios; > 1 means the first is faster; latency compares 1 / p50):",
              "", "| model | metric | zoo / Keras | zoo / Keras masked | zoo / PyTorch | Keras / PyTorch |",
              "|---|---|---|---|---|---|"]
    for arch, s in summary.items():
        for metric in METRICS:
            r = [s["ratios"][f"{metric} {a}/{b}"]["median"] for a, b in RATIO_PAIRS]
            lines.append(f"| `{arch}` | {metric} | " + " | ".join(fmt(x, ".2f") + ("x" if x else "") for x in r) + " |")
    lines += ["", "| startup (fresh process) | median wall time | runs |", "|---|---|---|"]
    for name, t in report["startup"].items():
        flag = "" if t["returncode"] == 0 else " (failed)"
        lines.append(f"| `{name}` | {t['median_s']:.2f} s{flag} | {t['runs']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3; --quick: 1)")
    parser.add_argument("--archs", default="lstm,stacked_lstm,bilstm", help="comma-separated architectures")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    parser.add_argument("--samples", type=int, help="training samples per measurement (default per model: "
                        + ", ".join(f"{a} {s[0]}" for a, s in DEFAULT_SIZES.items()) + "; rounded to batches of 64)")
    parser.add_argument("--predict-samples", type=int, help="prediction samples per measurement (default per "
                        "model: " + ", ".join(f"{a} {s[1]}" for a, s in DEFAULT_SIZES.items()) + ")")
    parser.add_argument("--latency-calls", type=int, default=50, help="timed batch-of-1 calls (default 50)")
    parser.add_argument("--startup-repeats", type=int, default=7, help="timed runs of each startup command")
    parser.add_argument("--no-startup", action="store_true", help="skip the zoo list / import timings")
    parser.add_argument("--quick", action="store_true",
                        help=f"debug run: 1 round, {QUICK_SIZES[0]} train / {QUICK_SIZES[1]} predict samples, "
                             "10 latency calls, 3 startup runs; writes speed-quick.*")
    parser.add_argument("--out", default=str(Path(__file__).resolve().with_name("results")), help="output folder")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per measurement process")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    t0 = time.perf_counter()
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    unknown = [a for a in archs if a not in SPECS]
    if unknown:
        parser.error(f"unknown architecture(s) {unknown}; choose from {sorted(SPECS)}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if any(v not in VARIANTS for v in variants):
        parser.error(f"--variants: choose from {','.join(VARIANTS)}")
    rounds_n = 1 if args.quick and "--rounds" not in " ".join(sys.argv) else args.rounds
    latency_calls = 10 if args.quick and "--latency-calls" not in " ".join(sys.argv) else args.latency_calls
    startup_repeats = 3 if args.quick and "--startup-repeats" not in " ".join(sys.argv) else args.startup_repeats
    notes = []
    if "torch" in variants and importlib.util.find_spec("torch") is None:
        variants.remove("torch")
        notes.append("PyTorch is not installed, so the PyTorch variant (c) was skipped "
                     "(`pip install \".[bench]\"`; on the CPU-only dev machine `pip install torch==2.13.0`).")
        print("speed.py: " + notes[-1], file=sys.stderr)

    def sizes(arch: str) -> tuple[int, int]:
        train, predict = QUICK_SIZES if args.quick else DEFAULT_SIZES[arch]
        return (args.samples or train, args.predict_samples or predict)

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.0f}s] {msg}", file=sys.stderr, flush=True)

    # startup times
    startup = {}
    if not args.no_startup:
        for name, argv_ in [("zoo list", zoo_command() + ["list"]),
                            ("python -c 'import zoo'", [sys.executable, "-c", "import zoo"]),
                            ("python -c 'import tensorflow'", [sys.executable, "-c", "import tensorflow"]),
                            ("python -c 'pass'", [sys.executable, "-c", "pass"])]:
            startup[name] = time_command(argv_, startup_repeats)
            log(f"{name}: median {startup[name]['median_s']:.3f} s")

    matmul = run_worker({"kind": "matmul", "matmul_inner": 50 if args.quick else 200,
                         "matmul_repeats": 10 if args.quick else 50}, args.timeout)
    log(f"matmul peak: {matmul.get('peak_gflops', float('nan')):.1f} GFLOP/s")

    rounds = []
    for r in range(rounds_n):
        this = {}
        for arch in archs:
            this[arch] = {}
            train_n, predict_n = sizes(arch)
            for v in variants:
                job = {"kind": "model", "variant": v, "arch": arch, "train_samples": train_n,
                       "predict_samples": predict_n, "latency_calls": latency_calls,
                       "latency_probe": 3 if args.quick else 5}
                res = run_worker(job, args.timeout)
                this[arch][v] = res
                if "error" in res:
                    log(f"round {r + 1} {arch} {v}: FAILED {res['error']}")
                else:
                    log(f"round {r + 1} {arch} {v}: train {res['train_samples_per_s']:.0f}/s, predict "
                        f"{res['predict_samples_per_s']:.0f}/s, latency p50 {res['latency_p50_ms']:.1f} ms "
                        f"({res['latency_call']}), peak RSS {res['peak_rss_mib']:.0f} MiB, "
                        f"process {res['worker_wall_seconds']:.0f} s")
        rounds.append(this)

    # threads as the workers found them
    threads = {}
    for r in rounds:
        for a in r.values():
            for v, res in a.items():
                for k in ("tf_intra_op_threads", "tf_inter_op_threads", "torch_threads", "torch_interop_threads"):
                    if k in res:
                        threads[k] = res[k]
    thread_text = ", ".join(
        f"{k.replace('_', ' ')} {val}" + (" (0 = TensorFlow picks, i.e. all cores)" if k.startswith("tf") and val == 0
                                          else "") for k, val in threads.items()) or "n/a"
    for arch in archs:
        for v in variants:
            mism = next((r[arch][v]["defaults_mismatch"] for r in rounds if "defaults_mismatch" in r[arch][v]), None)
            if mism:
                notes.append(f"the zoo's defaults for {arch} differ from the reference: {mism}")
    command = "python benchmarks/speed.py" + ("" if argv is None and len(sys.argv) == 1
                                              else " " + shlex.join(argv if argv is not None else sys.argv[1:]))
    meta = {"command": command, "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu_model(), "cores": os.cpu_count(), "platform": f"{platform.system()} {platform.machine()}",
            "versions": versions(), "threads": thread_text, "threads_raw": threads, "rounds": rounds_n,
            "variants": variants, "archs": archs, "notes": notes,
            "sizes": {a: {"train_samples": sizes(a)[0], "predict_samples": sizes(a)[1],
                          "latency_calls": latency_calls} for a in archs},
            "specs": {a: SPECS[a] for a in archs}, "quick": args.quick}
    report = {"meta": meta, "startup": startup, "matmul": matmul,
              "summary": summarize(rounds, archs, variants, matmul.get("peak_gflops")), "rounds": rounds}
    meta["total_seconds"] = time.perf_counter() - t0
    md = markdown(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "speed-quick" if args.quick else "speed"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{stem}.md").write_text(md)
    print(md)
    log(f"done in {meta['total_seconds']:.0f} s; wrote {out / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
