"""Prediction speed of the zoo's engines against PyTorch's ``nn.LSTM``, on the same shapes (not part of CI).

    python benchmarks/engines.py [--archs lstm,stacked_lstm,bilstm] [--rounds 5] [--rows 1024]

Engines, each in its own fresh process per measurement, interleaved (a b c d a b c d ...) over ``--rounds`` rounds;
ratios are taken within a round and the report gives their medians:

  keras        zoo.inference.Runner (what zoo.load(DIR).predict runs): the traced graph, and XLA-compiled shapes
               (its steady state, forced with jit_compile=True; compilation not timed)
  onnxruntime  zoo.engines.OnnxClassifier (zoo.load(DIR, engine="onnxruntime")): the fused-LSTM ONNX graph,
               a batch of 32+ rows run on two single-threaded session calls at once (two halves, or over 64
               rows 64-row chunks, each cut to its own longest row), a smaller one on a session with two spinning
               intra-op threads
  torch        the same network in PyTorch: nn.Embedding -> nn.LSTM(batch_first) -> nn.Linear -> softmax, eval mode,
               torch.inference_mode(), its default threads

Workloads (the reference hyperparameters, 6 classes; token ids uniform in [1, vocab), rows right-padded with 0 from
lengths uniform in [seq_len/10, seq_len]); every engine gets exactly the same arrays:

  b64, b256     batches of 64 / 256 rows in the data's order, padded to seq_len (PyTorch runs the padding; the zoo's
                engines mask it)
  b256s         the same rows sorted by length, each batch of 256 cut to its longest row rounded up to 8: what the
                zoo's Classifier does, given to PyTorch too
  single        one row of seq_len/2 tokens, unpadded: latency p50 over 200 calls
  one-off       a fresh process's first pass over the rows, sorted and cut as above (Keras traces its graph here;
                nothing is compiled)

Writes benchmarks/results/engines.json and engines.md and prints the report, with the CPU model.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from speed import cpu_model  # benchmarks/speed.py (this script's folder is on sys.path)

SPECS = {"lstm": dict(vocab_size=10000, embed_dim=64, seq_len=100, units=[128], bidirectional=False),
         "stacked_lstm": dict(vocab_size=10000, embed_dim=128, seq_len=200, units=[256, 128], bidirectional=False),
         "bilstm": dict(vocab_size=5000, embed_dim=64, seq_len=150, units=[64], bidirectional=True)}
ENGINES = ("keras", "onnxruntime", "torch")
NUM_CLASSES = 6
RESULTS = Path(__file__).with_name("results")


def data(spec: dict, rows: int, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = spec["seq_len"]
    x = rng.integers(1, spec["vocab_size"], size=(rows, t)).astype("int32")
    lengths = rng.integers(max(1, t // 10), t + 1, size=rows)
    x[np.arange(t)[None, :] >= lengths[:, None]] = 0
    return x


def workloads(spec: dict, rows: int) -> dict:
    x = data(spec, rows)
    lengths = (x != 0).sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    width = lambda n: int(min(spec["seq_len"], -(-int(n) // 8) * 8))  # noqa: E731
    return {"b64": [x[i:i + 64] for i in range(0, rows, 64)], "b256": [x[i:i + 256] for i in range(0, rows, 256)],
            "b256s": [x[order[i:i + 256], :width(lengths[order[i:i + 256]].max())] for i in range(0, rows, 256)],
            "single": data(spec, 1, seed=3)[:, :spec["seq_len"] // 2].clip(min=1)}


def _zoo_network(arch: str) -> object:
    import keras

    import zoo

    keras.utils.set_random_seed(0)
    return zoo.build(arch, num_classes=NUM_CLASSES, seq_len=None)


def _torch_model(spec: dict) -> object:
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = nn.ModuleList()
    size = spec["embed_dim"]
    for units in spec["units"]:
        layers.append(nn.LSTM(size, units, batch_first=True, bidirectional=spec["bidirectional"]))
        size = units * (2 if spec["bidirectional"] else 1)
    embedding, head = nn.Embedding(spec["vocab_size"], spec["embed_dim"]), nn.Linear(size, NUM_CLASSES)

    def forward(tokens: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            h = embedding(torch.from_numpy(tokens.astype(np.int64)))
            for lstm in layers:
                h, (state, _) = lstm(h)
            features = torch.cat([state[0], state[1]], dim=1) if spec["bidirectional"] else state[-1]
            return torch.softmax(head(features), dim=-1).numpy()

    for module in (layers, embedding, head):
        module.eval()
    return forward


def _onnx_engine(network: object, seq_len: int) -> object:
    from zoo.engines import PREPROCESSING_FORMAT, OnnxClassifier
    from zoo.onnx_graph import network_to_onnx
    from zoo.record import ModelSpec

    spec = ModelSpec("x", "x", "x", "x", "0", "text", NUM_CLASSES, {}, ("tokenizer", "network"), trim=True)
    engine = OnnxClassifier(network_to_onnx(network).SerializeToString(), {
        "format": PREPROCESSING_FORMAT, "labels": list(range(NUM_CLASSES)), "model": spec.to_dict(),
        "tokenizer": {"vocabulary": ["", "[UNK]"], "sequence_length": seq_len}, "standardize": None})
    return engine._run


def worker(engine: str, arch: str, rows: int, out: str) -> None:
    spec = SPECS[arch]
    work = workloads(spec, rows)
    result: dict = {}
    if engine == "torch":
        run = _torch_model(spec)
        result["threads"] = __import__("torch").get_num_threads()
    else:
        network = _zoo_network(arch)
        if engine == "onnxruntime":
            run = _onnx_engine(network, spec["seq_len"])  # a run's sequence length, as a real export has
        else:
            from zoo.inference import Runner

            run = Runner(network, jit_compile=False)
    start = time.perf_counter()
    for xb in work["b256s"]:  # a fresh process's first pass: Keras traces its graph here
        run(xb)
    result["oneoff_rows_per_s"] = rows / (time.perf_counter() - start)
    if engine == "keras":  # the steady state: every shape compiled with XLA first (compilation not timed)
        from zoo.inference import Runner

        run = Runner(network, jit_compile=True)
        for name in ("b64", "b256", "b256s", "single"):
            for xb in (work[name] if name != "single" else [work["single"]]):
                run(xb)
    for name in ("b64", "b256", "b256s"):
        run(work[name][0])  # warm
        passes = []
        for _ in range(3):
            start = time.perf_counter()
            for xb in work[name]:
                run(xb)
            passes.append(time.perf_counter() - start)
        result[f"{name}_rows_per_s"] = sum(len(xb) for xb in work[name]) / statistics.median(passes)
    for _ in range(5):
        run(work["single"])
    times = []
    for _ in range(200):
        start = time.perf_counter()
        run(work["single"])
        times.append(time.perf_counter() - start)
    result["single_p50_ms"] = 1000 * statistics.median(times)
    Path(out).write_text(json.dumps(result))


def measure(engine: str, arch: str, rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        proc = subprocess.run([sys.executable, __file__, "--worker", engine, arch, "--rows", str(rows), "--to", out],
                              capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if proc.returncode != 0:
            raise RuntimeError(f"{engine}/{arch} failed:\n{proc.stderr[-3000:]}")
        return json.loads(Path(out).read_text())


METRICS = {"oneoff_rows_per_s": "one-off pass, rows/s", "b64_rows_per_s": "b64 padded, rows/s",
           "b256_rows_per_s": "b256 padded, rows/s", "b256s_rows_per_s": "b256 sorted and cut, rows/s",
           "single_p50_ms": "single example, p50"}


def report(rounds: list[dict], archs: list[str]) -> str:
    import importlib.metadata as md

    versions = ", ".join(f"{p} {md.version(p)}" for p in ("tensorflow", "keras", "onnxruntime", "torch"))
    lines = [f"Command: `python benchmarks/engines.py`; {datetime.date.today()}; CPU: {cpu_model()}, "
             f"{len(os.sched_getaffinity(0))} cores; {versions}; {len(rounds)} interleaved rounds, medians of "
             "per-round ratios (> 1: the zoo engine is faster; latency compares 1 / p50).", "",
             "| model | workload | keras (graph one-off, XLA steady) | onnxruntime | torch | fastest zoo / torch |",
             "|---|---|---|---|---|---|"]
    for arch in archs:
        for metric in METRICS:
            values = {e: [r[arch][e][metric] for r in rounds] for e in ENGINES}
            faster = (lambda a, b: b / a) if metric.endswith("_ms") else (lambda a, b: a / b)
            ratios = [max(faster(r[arch]["keras"][metric], r[arch]["torch"][metric]),
                          faster(r[arch]["onnxruntime"][metric], r[arch]["torch"][metric])) for r in rounds]
            unit = " ms" if metric.endswith("_ms") else ""
            cell = {e: f"{statistics.median(v):,.{2 if unit else 0}f}{unit}" for e, v in values.items()}
            lines.append(f"| `{arch}` | {METRICS[metric]} | {cell['keras']} | "
                         f"{cell['onnxruntime']} | {cell['torch']} | {statistics.median(ratios):.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", default="lstm,stacked_lstm,bilstm")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "ARCH"), help=argparse.SUPPRESS)
    parser.add_argument("--to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, rows=args.rows, out=args.to)
        return
    archs = args.archs.split(",")
    rounds = []
    for i in range(args.rounds):
        rounds.append({arch: {engine: measure(engine, arch, args.rows if arch != "stacked_lstm" else args.rows // 2)
                              for engine in ENGINES} for arch in archs})
        print(f"round {i + 1}/{args.rounds}: " + json.dumps(rounds[-1]), flush=True)
    text = report(rounds, archs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engines.json").write_text(json.dumps({"cpu": cpu_model(), "rounds": rounds}, indent=1) + "\n")
    (RESULTS / "engines.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
