"""The zoo's own training overhead: its model against the same network written by hand in Keras, in one process.

    python benchmarks/overhead.py [--rounds 10] [--archs lstm,stacked_lstm,bilstm] [--samples 640]

speed.py compares variants in fresh processes, which keeps them independent but leaves about ±10% noise per round
on a shared 2-core machine: too coarse for a 3% target. Here, per architecture, one process builds three models
with the reference hyperparameters, trains each once to trace it, then alternates them for ``--rounds`` rounds,
each round the same ``--samples`` fixed-length rows (batches of 64, train_on_batch) per model, in a rotating
order. Ratios are taken within a round; the report gives their medians. The variants:

  zoo            zoo.build(name, num_classes=6)
  keras_masked   the same network by hand (speed.py's), with Embedding(mask_zero=True) as the zoo builds it
  keras          the same without the mask (the reference code)

zoo / keras_masked is the zoo's own overhead (registry, builder, head, compile); keras_masked / keras is what
masking the padding costs. Not part of CI. Writes benchmarks/results/overhead.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import speed  # noqa: E402  (benchmarks/speed.py: the reference specs and the hand-written model)

VARIANTS = ("zoo", "keras_masked", "keras")


def measure(arch: str, rounds: int, samples: int) -> dict:
    import numpy as np

    import zoo

    spec = speed.SPECS[arch]
    models = {"zoo": zoo.build(arch, num_classes=speed.NUM_CLASSES),
              "keras_masked": speed._keras_model(spec, mask=True), "keras": speed._keras_model(spec)}
    x, y = speed._synthetic(spec, samples, seed=1)
    onehot = np.eye(speed.NUM_CLASSES, dtype="float32")[y]
    batches = [(x[i:i + speed.BATCH], onehot[i:i + speed.BATCH]) for i in range(0, samples, speed.BATCH)]
    for model in models.values():
        model.train_on_batch(*batches[0])  # trace
    per_round = []
    for r in range(rounds):
        names = VARIANTS[r % 3:] + VARIANTS[:r % 3]  # rotate the order: no variant always runs first
        rate = {}
        for name in names:
            start = time.perf_counter()
            for xb, yb in batches:
                models[name].train_on_batch(xb, yb)
            rate[name] = len(batches) * speed.BATCH / (time.perf_counter() - start)
        per_round.append(rate)
    ratio = {"zoo/keras_masked": [r["zoo"] / r["keras_masked"] for r in per_round],
             "keras_masked/keras": [r["keras_masked"] / r["keras"] for r in per_round],
             "zoo/keras": [r["zoo"] / r["keras"] for r in per_round]}
    return {"samples_per_s": {v: statistics.median(r[v] for r in per_round) for v in VARIANTS},
            "ratios": {k: {"median": statistics.median(v), "per_round": v} for k, v in ratio.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--archs", default="lstm,stacked_lstm,bilstm")
    parser.add_argument("--samples", type=int, default=640, help="training rows per model per round (x64)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results") / "overhead.json"))
    args = parser.parse_args()
    archs = [a for a in args.archs.split(",") if a]
    if unknown := [a for a in archs if a not in speed.SPECS]:
        parser.error(f"--archs: unknown {', '.join(unknown)}; choose from {', '.join(speed.SPECS)}")
    samples = max(speed.BATCH, args.samples // speed.BATCH * speed.BATCH)
    results = {}
    for arch in archs:
        results[arch] = measure(arch, args.rounds, samples)
        print(f"{arch}: " + ", ".join(f"{k} {v['median']:.3f}" for k, v in results[arch]["ratios"].items()),
              file=sys.stderr, flush=True)
    meta = {"command": "python benchmarks/overhead.py", "rounds": args.rounds, "samples": samples,
            "versions": speed.versions(), "cpu": speed.cpu_model(), "cores": os.cpu_count()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print("| model | zoo / Keras masked (overhead) | Keras masked / Keras (masking) | zoo / Keras | zoo, masked, "
          "unmasked samples/s |\n|---|---|---|---|---|")
    for arch, r in results.items():
        q, s = r["ratios"], r["samples_per_s"]
        print(f"| `{arch}` | {q['zoo/keras_masked']['median']:.3f}x | {q['keras_masked/keras']['median']:.3f}x | "
              f"{q['zoo/keras']['median']:.3f}x | {s['zoo']:.0f}, {s['keras_masked']:.0f}, {s['keras']:.0f} |")


if __name__ == "__main__":
    main()
