"""The ``zoo`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and prints. Every :class:`zoo.ZooError` becomes
one line on stderr and exit status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from . import __version__, defaults
from .errors import ZooError
from .registry import PRESETS_ENV, default_registry


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*map(str, r)).rstrip() for r in rows]
    return "\n".join(lines)


def _quiet_tensorflow() -> None:
    """Import TensorFlow now, keeping its start-up chatter (C++ log lines that TF_CPP_MIN_LOG_LEVEL no longer
    silences: oneDNN, CUDA probing) and its retracing warnings off the user's terminal."""
    import logging

    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
                try:
                    import tensorflow  # noqa: F401
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


# -- commands ----------------------------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    reg = default_registry()
    archs = [reg.get(n) for n in reg.names(args.pattern)]
    if args.json:
        print(json.dumps([{"name": a.name, "aliases": list(a.aliases), "plugin": a.plugin, "package": a.package,
                           "version": a.version, "summary": a.summary, "preset_of": a.preset_of} for a in archs],
                         indent=2))
        return 0
    rows = [[a.name, ", ".join(a.aliases) or "-", a.plugin if not a.preset_of else f"preset of {a.preset_of}",
             a.summary] for a in archs]
    print(_table(rows, ["name", "aliases", "plugin", "summary"]))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .info import describe

    if args.num_classes is not None:  # the parameter count builds the model: check the name first
        default_registry().get(args.name)
        _quiet_tensorflow()
    info = describe(args.name, num_classes=args.num_classes)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['name']}: {info['summary']}")
    if info["aliases"]:
        print(f"aliases: {', '.join(info['aliases'])}")
    if info["preset_of"]:
        print(f"preset of: {info['preset_of']} ({info['source']})")
    print(f"provided by: plugin '{info['plugin']}' ({info['package']} {info['version']}, module {info['module']})")
    print(f"inputs: {', '.join(info['inputs'])}")
    if "parameters" in info:
        print(f"parameters for num_classes={args.num_classes}: {info['parameters']:,}")
    print()
    rows = [[h["name"], json.dumps(h["default"]), h["type"], h["help"]] for h in info["hyperparameters"]]
    print(_table(rows, ["hyperparameter", "default", "type", "help"]))
    if info["waivers"]:
        print("\nwaived contract checks:")
        for check, reason in info["waivers"].items():
            print(f"  {check}: {reason}")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    reg = default_registry()
    plugins = sorted(reg.plugins.values(), key=lambda p: (p.name, p.package))
    if args.json:
        print(json.dumps([{"name": p.name, "package": p.package, "version": p.version, "module": p.module,
                           "status": p.status, "reason": p.reason, "architectures": p.architectures,
                           "callbacks": p.callbacks} for p in plugins], indent=2))
        return 0
    rows = [[p.name, p.package, p.version, p.status + (f": {p.reason}" if p.reason else ""),
             ", ".join(p.architectures) or "-", ", ".join(p.callbacks) or "-"] for p in plugins]
    print(_table(rows, ["plugin", "package", "version", "status", "architectures", "callbacks"]))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from .testing import run_checks

    header = [f"{'architecture':<16} {'check':<20} {'n':>3}  {'status':<6} {'time':>6}"]

    def show(r: Any) -> None:
        while header:  # printed with the first result, so a bad name gives the error line alone
            print(header.pop())
        nc = "-" if r.check.num_classes is None else r.check.num_classes
        detail = f"  {r.detail}" if r.detail else ""
        print(f"{r.check.architecture.name:<16} {r.check.name:<20} {nc!s:>3}  {r.status:<6} "
              f"{r.seconds:5.1f}s{detail}", flush=True)

    report = run_checks(args.names or None, class_counts=args.class_counts, checks=args.checks, progress=show)
    print(report.summary())
    if report.ran == 0:
        print("zoo: error: no contract checks ran; a green run needs at least one.", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import create_plugin_package, plugin_names

    path = create_plugin_package(args.package, name=args.name, directory=args.dir, template=args.template)
    name = plugin_names(args.package, args.name, args.template)["name"]
    print(f'Created {path}. Next: pip install -e "{path}[test]" && zoo check {name} && pytest {path}')
    return 0


DATA_FLAGS = ("text_column", "label_column", "sep", "encoding", "format")


def _data_options(args: argparse.Namespace) -> Any:
    from .training import DataOptions

    given = {k: getattr(args, k) for k in DATA_FLAGS if getattr(args, k) is not None}
    return DataOptions(**given) if given or not getattr(args, "dir", None) else None


def _print_metrics(m: dict[str, Any]) -> None:
    print(f"{m['split']} accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} "
          f"({m['num_examples']} examples from {m['source']})")
    rows = [[label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", v["support"]]
            for label, v in m["per_class"].items()]
    print(_table(rows, ["class", "precision", "recall", "f1", "support"]))


def _default_out(name: str) -> str:
    base = os.path.join("runs", name)
    out, i = base, 1
    while os.path.exists(out) or os.path.exists(out + ".partial"):
        i += 1
        out = f"{base}-{i}"
    return out


def cmd_train(args: argparse.Namespace) -> int:
    from .hyperparameters import parse_assignment
    from .registry import default_registry

    name = default_registry().get(args.name).name  # unknown names fail before TensorFlow loads
    overrides = dict(parse_assignment(s) for s in args.set)
    _quiet_tensorflow()
    from .training import train

    out = args.out or _default_out(name)
    run = train(name, args.data, out=out, val=args.val, test=args.test, epochs=args.epochs,
                batch_size=args.batch_size, seed=args.seed, class_weight=args.class_weight, overrides=overrides,
                preset=args.preset, seq_len=args.seq_len, patience=args.patience, lr_decay=args.lr_decay,
                token_dropout=args.token_dropout, bucket=not args.no_bucket, resume=args.resume,
                overwrite=args.overwrite, distribute=args.distribute, data_options=_data_options(args))
    for note in run.notes:
        print(f"note: {note}")
    if args.json:
        print(json.dumps({"out": str(run.out), "metrics": run.metrics}, indent=2))
    else:
        _print_metrics(run.metrics)
        print(f"trained {run.architecture} for {run.metrics['epochs_run']} epochs (best {run.metrics['best_epoch']})"
              f" in {run.metrics['train_seconds']:.0f} s; saved to {run.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from .classifier import evaluate

    metrics = evaluate(args.dir, args.data, _data_options(args))  # None: the run's own data options
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        _print_metrics(metrics)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    if bool(args.texts) == bool(args.data):
        raise ZooError("Give either TEXT arguments or --data FILE to predict.")
    _quiet_tensorflow()
    from .classifier import load

    clf = load(args.dir)
    if args.texts:
        inputs = args.texts
    else:
        from .training import DataOptions

        opts = _data_options(args) or DataOptions(**{k: v for k, v in clf.config["data"].items() if k in DATA_FLAGS})
        inputs = opts.read(args.data).x
    preds = clf.predict(inputs, top_k=args.top_k)
    if args.json:
        print(json.dumps([{"input": x if isinstance(x, str) else i, **p} for i, (x, p) in
                          enumerate(zip(inputs, preds))], indent=2))
        return 0
    for i, (x, p) in enumerate(zip(inputs, preds)):
        shown = x if isinstance(x, str) else f"sample {i}"
        print(f"{shown}\t" + "  ".join(f"{label} {prob:.3f}" for label, prob in p["top"]))
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from .hyperparameters import parse_assignment
    from .registry import default_registry

    name = default_registry().get(args.name).name
    overrides = dict(parse_assignment(s) for s in args.set)
    _quiet_tensorflow()
    from .tuning import tune

    result = tune(name, args.data, val=args.val, trials=args.trials, strategy=args.strategy, epochs=args.epochs,
                  batch_size=args.batch_size, seed=args.seed, overrides=overrides, out=args.out,
                  data_options=_data_options(args))
    print(f"best val_loss {result.best_score:.4f} after {result.trials} trials: "
          + ", ".join(f"{k}={v}" for k, v in result.best.items()))
    print(f"wrote preset '{result.preset}' to {result.out}; train with: zoo train {name} --preset {result.out} "
          "--data ...")
    return 0


# -- parser ------------------------------------------------------------------------------------------------------
def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="A plugin-based model zoo of Keras sequence classifiers.",
        epilog="Run `zoo COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"zoo {__version__}")
    parser.add_argument("--presets", metavar="FILE", action="append", default=[],
                        help=f"a YAML file of presets to add (repeatable; also ${PRESETS_ENV}, {os.pathsep}-separated)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="list the architectures", description="List the available architectures.")
    p.add_argument("pattern", nargs="?", help="glob filter, e.g. '*lstm'")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show an architecture's defaults and hyperparameters",
                       description="Show an architecture's provider, defaults and hyperparameters.")
    p.add_argument("name")
    p.add_argument("--num-classes", type=int, metavar="N",
                   help="also build it for N classes and print its parameter count (imports TensorFlow)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("plugins", help="list installed plugins and their status",
                       description="List installed plugins: package, version, status (loaded, failed, disabled or "
                                   "refused, with the reason) and the architectures and callbacks each provides.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("check", help="run the contract suite", description="Run the contract suite on architectures "
                       "(default: all) and print a table; exits 1 on any failure or if no check ran.")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--class-counts", type=_int_list, default=[2, 3, 7, 46], metavar="N,N,...",
                   help="class counts to check (default 2,3,7,46)")
    p.add_argument("--checks", type=lambda s: [c for c in s.split(",") if c], metavar="CHECK,...",
                   help="only these checks")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("new", help="scaffold a third-party plugin package",
                       description="Create a plugin package: pyproject with the entry point, plugin module, "
                                   "metadata, contract tests and README.")
    p.add_argument("package", help="distribution name, e.g. zoo-gru")
    p.add_argument("--name", help="architecture name (default: the package name without its 'zoo-' prefix); it "
                                  "must not be taken by an installed architecture or plugin")
    p.add_argument("--template", choices=["gru", "conv-lstm", "attention"], default="gru",
                   help="the network to start from: gru (Embedding -> GRU), conv-lstm (masked Conv1D -> LSTM) or "
                        "attention (GRU -> attention pooling); default gru")
    p.add_argument("--dir", default=".", help="where to create it (default: current directory)")
    p.set_defaults(func=cmd_new)

    def data_flags(p: argparse.ArgumentParser) -> None:
        g = p.add_argument_group("data format")
        g.add_argument("--text-column", help="CSV/TSV/JSONL text column (default: text)")
        g.add_argument("--label-column", help="CSV/TSV/JSONL label column (default: label)")
        g.add_argument("--sep", help="separator of TEXT<SEP>LABEL lines (default: detected among tab ; | ,)")
        g.add_argument("--encoding", help="text encoding (default: utf-8)")
        g.add_argument("--format", choices=["csv", "tsv", "jsonl", "lines", "npz"],
                       help="override the format implied by the file extension")

    p = sub.add_parser("train", help="train an architecture on a data file",
                       description="Train, evaluate and save a classifier. With no --data, trains on the built-in "
                                   "Japanese Vowels dataset.")
    p.add_argument("name", help="architecture, alias or preset")
    p.add_argument("--data", help="training file (.csv .tsv .jsonl .npz or TEXT<SEP>LABEL lines)")
    p.add_argument("--val", help="validation file (default: a stratified 10%% of --data)")
    p.add_argument("--test", help="test file; metrics.json reports it when given")
    p.add_argument("--out", help="run directory to create (default: runs/NAME)")
    p.add_argument("--epochs", type=int, default=defaults.EPOCHS,
                   help=f"maximum epochs (early stopping on val loss; default {defaults.EPOCHS})")
    p.add_argument("--patience", type=int, default=defaults.PATIENCE,
                   help=f"epochs without val-loss improvement before stopping (default {defaults.PATIENCE})")
    p.add_argument("--lr-decay", type=float, default=defaults.LR_DECAY, metavar="FACTOR",
                   help="on a val-loss plateau, return to the best weights and scale the learning rate by this "
                        f"(1 disables; default {defaults.LR_DECAY})")
    p.add_argument("--token-dropout", type=float, default=defaults.TOKEN_DROPOUT, metavar="RATE",
                   help="text: replace this fraction of training tokens by the unknown-word id each epoch "
                        f"(word dropout; default {defaults.TOKEN_DROPOUT})")
    p.add_argument("--no-bucket", action="store_true",
                   help="text: pad every batch to seq_len instead of batching similar lengths together")
    p.add_argument("--batch-size", type=int, default=defaults.BATCH_SIZE)
    p.add_argument("--seed", type=int, help="make the run repeatable (on CPU)")
    p.add_argument("--class-weight", choices=["balanced"], help="weight classes inversely to their frequency")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    p.add_argument("--preset", metavar="FILE.yaml", help="apply the hyperparameters of a preset file (zoo tune writes one)")
    p.add_argument("--seq-len", type=int, help="timesteps per example (default: from the data's token lengths)")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in OUT.partial")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument("--distribute", choices=["none", "mirrored", "multiworker"], default="none",
                   help="tf.distribute strategy: mirrored (local GPUs/devices) or multiworker (TF_CONFIG)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    data_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a trained run on a data file",
                       description="Print the metrics of a trained run on a labelled data file.")
    p.add_argument("dir", help="run directory written by zoo train")
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    data_flags(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="predict labels with a trained run",
                       description="Print the top labels and probabilities for texts or a data file.")
    p.add_argument("dir", help="run directory written by zoo train")
    p.add_argument("texts", nargs="*", metavar="TEXT")
    p.add_argument("--data", help="predict every example of a file (its labels are ignored)")
    p.add_argument("--top-k", type=int, default=1)
    p.add_argument("--json", action="store_true")
    data_flags(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("tune", help="search hyperparameters with KerasTuner",
                       description="Search the hyperparameter ranges the architecture declares and write the best "
                                   "as a YAML preset for `zoo train --preset`.")
    p.add_argument("name")
    p.add_argument("--data", required=True)
    p.add_argument("--val")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--strategy", choices=["random", "grid", "hyperband"], default="random")
    p.add_argument("--epochs", type=int, default=5, help="epochs per trial (hyperband: the maximum)")
    p.add_argument("--batch-size", type=int, default=defaults.BATCH_SIZE)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="fix a hyperparameter")
    p.add_argument("--out", default="preset.yaml", help="preset file to write (default: preset.yaml)")
    data_flags(p)
    p.set_defaults(func=cmd_tune)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.presets:
        from . import registry

        registry.flag_presets.update(map(str, args.presets))
        os.environ[PRESETS_ENV] = os.pathsep.join(filter(None, [*args.presets, os.environ.get(PRESETS_ENV, "")]))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any TensorFlow import: C++ log noise
    warnings.showwarning = lambda message, category, *a, **k: print(f"zoo: warning: {message}", file=sys.stderr)
    try:
        return args.func(args) or 0
    except ZooError as e:
        print(f"zoo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `zoo list | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
