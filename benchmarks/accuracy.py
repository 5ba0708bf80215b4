"""Accuracy of the built-in architectures on real data sets, with the zoo's defaults (not part of CI).

    python benchmarks/accuracy.py [--data ../shared/data] [--archs lstm,stacked_lstm,bilstm] [--seed 0]

Data sets (read in place, never copied): emotion (6 classes, 16k/2k/2k, `text;label` lines) and trec6 (TREC
question classification, 6 coarse classes; no official dev split, so the zoo holds out a stratified 10%).
Writes benchmarks/results/accuracy.json and prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import zoo  # noqa: E402


def trec_file(src: Path, dst: Path) -> Path:
    """TREC lines are `COARSE:fine question`, latin-1: rewrite them as `question<TAB>COARSE` lines (the zoo's
    TEXT<SEP>LABEL format, so `dst` should end in .txt) in UTF-8."""
    rows = []
    for line in src.read_text(encoding="latin-1").splitlines():
        if line.strip():
            label, _, question = line.partition(" ")
            rows.append(f"{question.replace(chr(9), ' ')}\t{label.split(':')[0]}\n")
    dst.write_text("".join(rows), encoding="utf-8")
    return dst


def save(out: Path, seed: int, row: dict) -> None:
    """Merge ``row`` into the results file, replacing an earlier row for the same data set and architecture."""
    from zoo.training import versions

    old = json.loads(out.read_text())["results"] if out.exists() else []
    rows = [r for r in old if (r["dataset"], r["architecture"]) != (row["dataset"], row["architecture"])] + [row]
    order = {name: i for i, name in enumerate(["emotion", "trec6"])}
    rows.sort(key=lambda r: (order.get(r["dataset"], 9), r["architecture"]))
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "seed": seed, "versions": versions()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--archs", default="lstm,stacked_lstm,bilstm")
    parser.add_argument("--datasets", default="emotion,trec6")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results") / "accuracy.json"))
    args = parser.parse_args()
    data = Path(args.data)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        splits = {}
        if "emotion" in args.datasets:
            e = data / "emotion"
            splits["emotion"] = dict(data=e / "train.txt", val=e / "val.txt", test=e / "test.txt")
        if "trec6" in args.datasets:
            t = data / "trec6"
            splits["trec6"] = dict(data=trec_file(t / "TREC.train", tmp / "trec_train.txt"),
                                   test=trec_file(t / "TREC.test", tmp / "trec_test.txt"))
        for name, files in splits.items():
            for arch in args.archs.split(","):
                start = time.perf_counter()
                run = zoo.train(arch, files["data"], val=files.get("val"), test=files["test"],
                                out=tmp / f"{name}-{arch}", seed=args.seed, verbose=0)
                row = {"dataset": name, "architecture": arch, "accuracy": run.metrics["accuracy"],
                       "macro_f1": run.metrics["macro_f1"], "epochs": run.metrics["epochs_run"],
                       "best_epoch": run.metrics["best_epoch"], "seconds": round(time.perf_counter() - start, 1),
                       "seq_len": run.hyperparameters["seq_len"]}
                results.append(row)
                print(json.dumps(row), flush=True)
                save(Path(args.out), args.seed, row)  # after every run: a long benchmark keeps what it measured
    results = json.loads(Path(args.out).read_text())["results"]
    print("\n| data set | architecture | test accuracy | macro-F1 | epochs (best) | train time |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['dataset']} | `{r['architecture']}` | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | "
              f"{r['epochs']} ({r['best_epoch']}) | {r['seconds']:.0f} s |")


if __name__ == "__main__":
    main()
