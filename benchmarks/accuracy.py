"""The accuracy panel: the zoo's defaults on every panel data set (benchmarks/panel.py), beside the same networks
written by hand in plain Keras (benchmarks/baselines.py). Not part of CI.

    python benchmarks/accuracy.py [--datasets a,b] [--archs lstm,stacked_lstm,bilstm] [--seeds 0,1,2]
    python benchmarks/accuracy.py --select --option schedule=constant --tag constant   # a recipe variant
    python benchmarks/accuracy.py --table                                               # the README's table
    python benchmarks/accuracy.py --select --out benchmarks/results/selection.json --compare fold64,nofold \
        --datasets ucr-osuleaf,ucr-arrowhead --archs lstm,bilstm                         # candidates side by side

Each cell (data set, architecture, seed) runs `zoo.train` exactly as a user would with the files panel.py writes,
and is merged into the results file as soon as it finishes (a long run keeps what it measured; cells already in
the file are skipped, so a killed run resumes). Test metrics are from the data set's test split.

``--select`` measures a recipe variant for choosing defaults without looking at any test split: it holds out a
stratified 20% of each training file (a fixed split, the same for every variant and seed), trains on the rest as
the recipe would (its own validation split, if any, comes out of that rest) and scores the held-out 20%.
``--option KEY=VALUE`` sets a TrainConfig field (``steps=3000``, ``schedule=plateau``, ``val_split=0.1``);
``--tag`` names the variant in the results. ``--train-rows N`` trains on a stratified sample of N of the training
rows (the same sample for every variant), to tell whether a variant's effect is about a data set's size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import panel  # noqa: E402
from speed import cpu_model  # noqa: E402  (benchmarks/speed.py)

RESULTS = Path(__file__).with_name("results")
SELECTION_SEED = 1234  # the selection hold-out is the same for every variant and run seed
SELECTION_FRACTION = 0.2
SUBSAMPLE_SEED = 4321  # --train-rows: the same sample for every variant and run seed


def selection_files(name: str, directory: Path, train_rows: int | None = None) -> dict:
    """A stratified 80/20 split of the training data written as files: train on ``train``, score ``test``.
    ``train_rows``: train on a stratified sample of that many of the 80% (the held-out 20% unchanged), to tell a
    data set's size from the data set itself."""
    from zoo.data import stratified_split

    data = panel.load(name)
    x, y = data["train"]
    labels = sorted(set(y))
    ids = np.array([labels.index(v) for v in y])
    keep, held = stratified_split(ids, SELECTION_FRACTION, SELECTION_SEED)
    if train_rows is not None and train_rows < len(keep):
        _, sample = stratified_split(ids[keep], train_rows / len(keep), SUBSAMPLE_SEED)
        keep = keep[np.sort(sample)]
    out = directory / f"{name}-select"
    out.mkdir(parents=True, exist_ok=True)
    write = panel._write_lines if data["kind"] == "text" else panel._write_npz
    ext = "txt" if data["kind"] == "text" else "npz"
    return {"train": write(out / f"train.{ext}", [x[i] for i in keep], [y[i] for i in keep]), "val": None,
            "test": write(out / f"test.{ext}", [x[i] for i in held], [y[i] for i in held])}


def parse_options(items: list[str]) -> dict:
    import yaml

    options = {}
    for item in items:
        key, _, value = item.partition("=")
        options[key.strip()] = yaml.safe_load(value)
    return options


def run_cell(files: dict, arch: str, seed: int, options: dict, out: Path) -> dict:
    import zoo

    start = time.perf_counter()
    run = zoo.train(arch, files["train"], val=files.get("val"), test=files["test"], out=out, seed=seed,
                    verbose=0, **options)
    recipe = run.record.recipe
    return {"accuracy": run.metrics["accuracy"], "macro_f1": run.metrics["macro_f1"],
            "epochs": run.metrics["epochs_run"], "best_epoch": run.metrics["best_epoch"],
            "steps": recipe.get("budget", {}).get("steps"), "seq_len": recipe.get("seq_len"),
            "vocab_size": recipe.get("vocab_size"), "validation": recipe.get("validation"),
            "fold": recipe.get("fold", 1), "final_train_loss": round(float(run.history["loss"][-1]), 5),
            "seconds": round(time.perf_counter() - start, 1)}


def load_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"meta": {}, "results": []}


def save_row(path: Path, row: dict) -> None:
    from zoo.training import versions

    data = load_results(path)
    key = ("tag", "mode", "dataset", "architecture", "seed")
    for old in data["results"]:  # files written before rows named their CPU: the file's one CPU
        old.setdefault("cpu", data["meta"].get("cpu"))
    row = {**row, "cpu": row.get("cpu") or cpu_model()}
    data["results"] = [r for r in data["results"] if tuple(r[k] for k in key) != tuple(row[k] for k in key)] + [row]
    data["meta"] = {"cpus": sorted({r["cpu"] for r in data["results"] if r.get("cpu")}),
                    "cores": len(os.sched_getaffinity(0)), "versions": versions(),
                    "updated": time.strftime("%Y-%m-%d %H:%M:%S")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def spread(values: list[float], mark: str = "") -> str:
    if not values:
        return "-"
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.4f} ± {sd:.4f}" + (f" (n={len(values)})" if len(values) != 3 else "") + mark


def table(path: Path, baselines: Path, tag: str = "default", mode: str = "test") -> str:
    """The README's table: the zoo's default recipe against the hand-written network, mean ± std over seeds."""
    docs = [load_results(path), load_results(baselines)]
    for doc in docs:
        for r in doc["results"]:  # files written before rows named their CPU: the file's one CPU
            r.setdefault("cpu", doc["meta"].get("cpu", "?"))
    ours = [r for r in docs[0]["results"] if r["tag"] == tag and r["mode"] == mode]
    theirs = docs[1]["results"]
    shown = [r for r in ours + theirs if r["dataset"] in panel.NAMES]
    cpus = statistics.multimode(r["cpu"] for r in shown)[:1] if shown else []
    others = sorted({r["cpu"] for r in shown} - set(cpus))
    marks = {cpu: "†" * (i + 1) for i, cpu in enumerate(others)}

    def mark(rows: list[dict]) -> str:  # a cell with any seed from a CPU other than the table's main one
        return "".join(sorted({marks[r["cpu"]] for r in rows if r["cpu"] in marks}))

    lines = ["| data set | architecture | zoo accuracy | hand-written accuracy | zoo macro-F1 | hand-written macro-F1 "
             "| zoo train time |", "|---|---|---|---|---|---|---|"]
    for name in panel.NAMES:
        for arch in ("lstm", "stacked_lstm", "bilstm"):
            a = [r for r in ours if r["dataset"] == name and r["architecture"] == arch]
            b = [r for r in theirs if r["dataset"] == name and r["architecture"] == arch]
            if not a and not b:
                continue
            secs = f"{statistics.fmean(r['seconds'] for r in a):.0f} s" if a else "-"
            lines.append(f"| {name} | `{arch}` | {spread([r['accuracy'] for r in a], mark(a))} | "
                         f"{spread([r['accuracy'] for r in b], mark(b))} | {spread([r['macro_f1'] for r in a])} | "
                         f"{spread([r['macro_f1'] for r in b])} | {secs} |")
    legend = [f"{marks[cpu]}: measured on {cpu} (every seed, or some)" for cpu in others]
    return "\n".join(lines + ([""] + ["; ".join(legend) + f"; the other cells on {cpus[0]}."] if others else []))


def compare(path: Path, tags: list[str], datasets: list[str], archs: list[str], mode: str = "select") -> str:
    """Candidates side by side: one row per tag, one column per (data set, architecture), mean accuracy over the
    seeds each has (n shown where it is not 3), the best of each column in bold."""
    rows = [r for r in load_results(path)["results"] if r["mode"] == mode]
    cols = [(d, a) for d in datasets for a in archs
            if any(r["dataset"] == d and r["architecture"] == a and r["tag"] in tags for r in rows)]
    cells = {}
    for tag in tags:
        for col in cols:
            acc = [r["accuracy"] for r in rows if (r["dataset"], r["architecture"]) == col and r["tag"] == tag]
            cells[tag, col] = (statistics.fmean(acc), len(acc)) if acc else None
    best = {col: max((cells[t, col][0] for t in tags if cells[t, col]), default=None) for col in cols}
    lines = ["| candidate | " + " | ".join(f"{d} `{a}`" for d, a in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for tag in tags:
        out = []
        for col in cols:
            cell = cells[tag, col]
            if cell is None:
                out.append("-")
                continue
            text = f"{cell[0]:.4f}" + (f" (n={cell[1]})" if cell[1] != 3 else "")
            out.append(f"**{text}**" if cell[0] == best[col] and sum(bool(cells[t, col]) for t in tags) > 1 else text)
        lines.append(f"| {tag} | " + " | ".join(out) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(panel.NAMES))
    parser.add_argument("--archs", default="lstm,stacked_lstm,bilstm")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--tag", default="default")
    parser.add_argument("--select", action="store_true", help="score a held-out 20%% of the training data")
    parser.add_argument("--train-rows", type=int, help="--select: train on a stratified sample of this many rows")
    parser.add_argument("--out", default=str(RESULTS / "accuracy.json"))
    parser.add_argument("--baselines", default=str(RESULTS / "baselines.json"))
    parser.add_argument("--table", action="store_true", help="print the table and exit")
    parser.add_argument("--compare", metavar="TAG,TAG", help="print the candidates named side by side and exit")
    args = parser.parse_args()
    out = Path(args.out)
    if args.compare:
        print(compare(out, args.compare.split(","), args.datasets.split(","), args.archs.split(","),
                      "select" if args.select else "test"))
        return
    if args.table:
        print(table(out, Path(args.baselines), args.tag, "select" if args.select else "test"))
        return
    options, mode = parse_options(args.option), "select" if args.select else "test"
    done = {(r["tag"], r["mode"], r["dataset"], r["architecture"], r["seed"]) for r in load_results(out)["results"]}
    with tempfile.TemporaryDirectory(prefix="zoo-accuracy-") as tmp:
        tmp = Path(tmp)
        for name in args.datasets.split(","):
            files = selection_files(name, tmp, args.train_rows) if args.select else panel.materialize(name, tmp)
            for arch in args.archs.split(","):
                for seed in map(int, args.seeds.split(",")):
                    if (args.tag, mode, name, arch, seed) in done:
                        continue
                    run_dir = tmp / "runs" / f"{name}-{arch}-{seed}"
                    row = {"tag": args.tag, "mode": mode, "dataset": name, "architecture": arch, "seed": seed,
                           "options": options, **({"train_rows": args.train_rows} if args.train_rows else {}),
                           **run_cell(files, arch, seed, options, run_dir)}
                    shutil.rmtree(run_dir, ignore_errors=True)
                    print(json.dumps(row), flush=True)
                    save_row(out, row)


if __name__ == "__main__":
    main()
