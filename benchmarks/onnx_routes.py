"""ONNX inference speed of a `bilstm` by export route: the zoo's fused-LSTM graph against Keras's exporter (not
part of CI; needs the onnx extra).

    python benchmarks/onnx_routes.py [--poolings last,max,mean] [--rounds 5]

For each pooling, one `bilstm` at the reference hyperparameters (vocab 5000, embed 64, units 64, 6 classes), taking
any length, is built with fixed weights and converted both ways (`zoo.onnx_graph.network_to_onnx` and the exporter
`zoo export` falls back to). Each graph runs in ONNX Runtime on one thread, on the same arrays: `single`, one row
of 75 tokens, p50 over 200 calls; `b64`, 64 rows right-padded to 150 tokens from lengths uniform in [15, 150],
the mean of 20 calls. The routes alternate within each round; the report gives the medians over the rounds and
of the per-round ratios, the largest difference between the routes' probabilities, and the CPU model.
Writes benchmarks/results/onnx_routes.md.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from pathlib import Path

import numpy as np

from speed import cpu_model  # benchmarks/speed.py (this script's folder is on sys.path)

RESULTS = Path(__file__).with_name("results")
HP = dict(vocab_size=5000, embed_dim=64, units=64)
SEQ_LEN = 150  # the rows' longest; the networks take any length (seq_len None), as a run's batches are cut


def workloads(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = SEQ_LEN
    rows = rng.integers(1, HP["vocab_size"], size=(64, t)).astype("int32")
    lengths = rng.integers(t // 10, t + 1, size=64)
    rows[np.arange(t)[None, :] >= lengths[:, None]] = 0
    return {"single": rng.integers(1, HP["vocab_size"], size=(1, t // 2)).astype("int32"), "b64": rows}


def timed(session, x: np.ndarray, calls: int, p50: bool) -> float:
    name = session.get_inputs()[0].name
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        session.run(None, {name: x})
        times.append(time.perf_counter() - start)
    return statistics.median(times) if p50 else statistics.fmean(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poolings", default="last,max,mean")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import keras
    import onnxruntime as ort

    import zoo
    from zoo.exporting import _keras_onnx
    from zoo.onnx_graph import network_to_onnx

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    data = workloads()
    lines = [f"Command: `python benchmarks/onnx_routes.py --poolings {args.poolings} --rounds {args.rounds}`; "
             f"{datetime.date.today()}; CPU: {cpu_model()}; onnxruntime {ort.__version__}, one thread; milliseconds "
             f"a call, medians over {args.rounds} rounds", "",
             "| pooling | workload | fused LSTM | Keras exporter | Keras exporter / fused | largest difference |",
             "|---|---|---|---|---|---|"]
    for pooling in args.poolings.split(","):
        keras.utils.set_random_seed(0)
        network = zoo.build("bilstm", num_classes=6, pooling=pooling, seq_len=None, **HP)
        sessions = {route: ort.InferenceSession(make(network).SerializeToString(), options,
                                                providers=["CPUExecutionProvider"])
                    for route, make in (("fused", network_to_onnx), ("keras", _keras_onnx))}
        for workload, x in data.items():
            outs = [s.run(None, {s.get_inputs()[0].name: x})[0] for s in sessions.values()]
            diff = float(np.abs(outs[0] - outs[1]).max())
            calls, p50 = (200, True) if workload == "single" else (20, False)
            per_round = []
            for _ in range(args.rounds):
                per_round.append({route: timed(s, x, calls, p50) for route, s in sessions.items()})
            fused = statistics.median(r["fused"] for r in per_round) * 1e3
            other = statistics.median(r["keras"] for r in per_round) * 1e3
            ratio = statistics.median(r["keras"] / r["fused"] for r in per_round)
            lines.append(f"| {pooling} | {workload} | {fused:.2f} | {other:.2f} | {ratio:.1f}x | {diff:.1e} |")
            print(lines[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "onnx_routes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
