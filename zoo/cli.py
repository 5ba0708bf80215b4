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
from .registry import PRESETS_ENV, default_registry, preset_files

DEBUG_ENV = "ZOO_DEBUG"
ENGINES = ("keras", "onnxruntime")  # zoo.classifier.ENGINES (not imported here: it would load NumPy for --help)
EXPORT_FORMATS = ("savedmodel", "onnx", "litert")  # zoo.exporting.FORMATS


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*map(str, r)).rstrip() for r in rows]
    return "\n".join(lines)


def _quiet_tensorflow() -> None:
    from .backend import import_tensorflow

    import_tensorflow()


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


def _print_metrics(m: dict[str, Any]) -> None:
    print(f"{m['split']} accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} "
          f"({m['num_examples']} examples from {m['source']})")
    rows = [[label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", v["support"]]
            for label, v in m["per_class"].items()]
    print(_table(rows, ["class", "precision", "recall", "f1", "support"]))


def cmd_train(args: argparse.Namespace) -> int:
    from .config import train_config_from_args
    from .hyperparameters import parse_assignment

    config = train_config_from_args(args, dict(parse_assignment(s) for s in getattr(args, "hyperparameters", [])))
    from .training import train_run  # TensorFlow is imported once the run directory is locked and the data read

    run = train_run(config, resume=args.resume, overwrite=args.overwrite)
    for note in run.notes:
        print(f"note: {note}")
    if run.out is None:
        print("trained as a non-chief worker; the chief writes the run")
    elif args.json:
        print(json.dumps({"out": str(run.out), "metrics": run.metrics}, indent=2))
    else:
        _print_metrics(run.metrics)
        print(f"trained {run.architecture} for {run.metrics['epochs_run']} epochs (best {run.metrics['best_epoch']})"
              f" in {run.metrics['train_seconds']:.0f} s; saved to {run.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .config import data_options_from_args

    _quiet_tensorflow()
    from .classifier import load
    from .data import load_dataset

    clf = load(args.dir, engine=args.engine)
    dataset = load_dataset(args.data, data_options_from_args(args, _run_data_options(clf)))
    if dataset.skipped_note():
        print(f"note: {dataset.skipped_note()}", file=sys.stderr)
    metrics = clf.evaluate(dataset)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        _print_metrics(metrics)
    return 0


def _note_skipped(path: str, skipped: list[int]) -> None:
    from .batch import skipped_note

    note = skipped_note(path, skipped)
    if note:
        print(f"note: {note}", file=sys.stderr)


def _run_data_options(clf: Any) -> Any:
    """How the run read its data files, or None (the defaults) for an ONNX export, which carries no run record."""
    return clf.record.train.data_options if clf.record is not None else None


def cmd_predict(args: argparse.Namespace) -> int:
    from .config import data_options_from_args

    if bool(args.texts) == bool(args.data):
        raise ZooError("Give either TEXT arguments or --data FILE to predict.")
    if args.output and not args.data:
        raise ZooError("--output writes the predictions of a --data file; give one.")
    _quiet_tensorflow()
    from .batch import predict_file
    from .classifier import load

    clf = load(args.dir, engine=args.engine)
    options = data_options_from_args(args, _run_data_options(clf))
    skipped: list[int] = []
    if args.output:
        n = predict_file(clf, args.data, args.output, options, probabilities=args.probabilities, skipped=skipped)
        print(f"wrote {n} predictions to {args.output}")
        _note_skipped(args.data, skipped)
        return 0
    if args.texts:
        rows, inputs = list(range(1, len(args.texts) + 1)), args.texts
    else:
        rows, inputs = clf.read_inputs(args.data, options, skipped)
        _note_skipped(args.data, skipped)
    preds = clf.predict(inputs, top_k=args.top_k)
    if args.json:
        print(json.dumps([{"input": x if isinstance(x, str) else row, **p} for row, x, p in
                          zip(rows, inputs, preds)], indent=2))
        return 0
    for row, x, p in zip(rows, inputs, preds):
        shown = x if isinstance(x, str) else f"sample {row}"
        print(f"{shown}\t" + "  ".join(f"{label} {prob:.3f}" for label, prob in p["top"]))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .config import train_options_from_args
    from .hyperparameters import parse_assignment

    options = train_options_from_args(args, dict(parse_assignment(s) for s in getattr(args, "hyperparameters", [])))
    options = {k: v for k, v in options.items() if k not in ("out", "seed")}  # compare's own --out; seeds 0..N-1
    _quiet_tensorflow()
    from .comparison import compare

    board = compare(args.names or None, seeds=args.seeds, out=args.out, overwrite=args.overwrite,
                    progress=None if args.json else (lambda line: print(line, flush=True)), **options)
    if args.json:
        print(json.dumps([e.summary() for e in board.ranked()], indent=2))
    else:
        print(board.markdown())
        print(f"wrote {board.out}/leaderboard.json, leaderboard.md and leaderboard.png")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from .exporting import export

    result = export(args.dir, args.format, args.out, overwrite=args.overwrite, seq_len=args.seq_len)
    print(result.summary())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from .serving import serve

    print(f"serving {args.dir} on http://{args.host}:{args.port} (docs at /docs); Ctrl-C or SIGTERM stops it",
          flush=True)
    serve(args.dir, host=args.host, port=args.port, engine=args.engine, max_batch=args.max_batch,
          max_wait_ms=args.max_wait_ms, batching=not args.no_batching)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from .config import data_options_from_args
    from .hyperparameters import parse_assignment

    name = default_registry().get(args.name).name
    overrides = dict(parse_assignment(s) for s in args.set)
    _quiet_tensorflow()
    from .tuning import tune

    result = tune(name, args.data, val=args.val, trials=args.trials, strategy=args.strategy, epochs=args.epochs,
                  batch_size=args.batch_size, seed=args.seed, overrides=overrides, out=args.out,
                  overwrite=args.overwrite, data_options=data_options_from_args(args), embeddings=args.embeddings)
    for note in result.notes:
        print(f"note: {note}")
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


def _add_catalog_commands(sub: Any) -> None:
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


def _add_callback_flags(p: argparse.ArgumentParser) -> None:
    """``--callback NAME`` for any training callback a plugin provides, and ``--NAME`` for each (where free)."""
    g = p.add_argument_group("training callbacks from plugins")
    g.add_argument("--callback", dest="callbacks", action="append", metavar="NAME", default=argparse.SUPPRESS,
                   help="add a plugin's training callback (repeatable; `zoo plugins` lists them)")
    try:
        callbacks = default_registry().callbacks()
    except ZooError:  # a broken preset file: the command itself reports it
        return
    taken = {opt for action in p._actions for opt in action.option_strings}
    for cb in callbacks:
        if f"--{cb.name}" not in taken:
            g.add_argument(f"--{cb.name}", dest="callbacks", action="append_const", const=cb.name,
                           default=argparse.SUPPRESS, help=f"{cb.help} (plugin '{cb.plugin}')")


def _add_run_commands(sub: Any) -> None:
    from .config import DataOptions, TrainConfig, add_arguments

    p = sub.add_parser("train", help="train an architecture on a data file",
                       description="Train, evaluate and save a classifier. With no --data, trains on the built-in "
                                   "Japanese Vowels data set.")
    p.add_argument("name", help="architecture, alias or preset")
    add_arguments(p, TrainConfig)
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in OUT.partial")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it is a zoo run (and discard an "
                                                            "interrupted one)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    _add_callback_flags(p)
    add_arguments(p, DataOptions, "data format", prefix="data.")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a trained run on a data file",
                       description="Print the metrics of a trained run on a labelled data file.")
    p.add_argument("dir", help="run directory written by zoo train")
    p.add_argument("--data", required=True)
    p.add_argument("--engine", default="keras", choices=ENGINES, help="prediction engine (default: keras; "
                                                                      "onnxruntime also reads an ONNX export)")
    p.add_argument("--json", action="store_true")
    add_arguments(p, DataOptions, "data format (default: the run's own)", prefix="data.")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="predict labels with a trained run",
                       description="Print the top labels and probabilities for texts or a data file.")
    p.add_argument("dir", help="run directory written by zoo train")
    p.add_argument("texts", nargs="*", metavar="TEXT")
    p.add_argument("--data", help="predict every example of a file, labelled or not (labels are ignored)")
    p.add_argument("--output", metavar="FILE", help="write the predictions of --data to a .csv or .jsonl file, "
                                                    "streaming the input in chunks")
    p.add_argument("--probabilities", action="store_true", help="with --output: every class's probability too")
    p.add_argument("--engine", default="keras", choices=ENGINES, help="prediction engine (default: keras)")
    p.add_argument("--top-k", type=int, default=1)
    p.add_argument("--json", action="store_true")
    add_arguments(p, DataOptions, "data format (default: the run's own)", prefix="data.")
    p.set_defaults(func=cmd_predict)


def _add_compare_command(sub: Any) -> None:
    from .config import DataOptions, TrainConfig, add_arguments

    p = sub.add_parser("compare", help="train several architectures over several seeds and rank them",
                       description="Train each architecture (default: every installed one, plugins included) with "
                                   "the same recipe over --seeds seeds and print a leaderboard; writes "
                                   "leaderboard.json, .md and .png and keeps every run under --out.")
    p.add_argument("names", nargs="*", metavar="NAME", help="architectures to compare (default: all)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per architecture (default: 3)")
    p.add_argument("--out", default="runs/compare", help="directory for the runs and the leaderboard")
    p.add_argument("--overwrite", action="store_true", help="replace runs trained with other settings")
    p.add_argument("--json", action="store_true", help="print the leaderboard as JSON")
    add_arguments(p, TrainConfig, "training options (the same for every run)", exclude=("out", "seed", "preset"))
    _add_callback_flags(p)
    add_arguments(p, DataOptions, "data format", prefix="data.")
    p.set_defaults(func=cmd_compare)


def _add_export_command(sub: Any) -> None:
    p = sub.add_parser("export", help="export a trained run as a SavedModel, ONNX or LiteRT model",
                       description="Export a run for use without the zoo: savedmodel (TensorFlow Serving layout, raw "
                                   "strings or features in), onnx (the network plus preprocessing.json; pip install "
                                   "\"keras-zoo[onnx]\"), litert (on-device, batch 1 at a fixed length; pip install "
                                   "\"keras-zoo[litert]\"). Each export is checked against the run before it is "
                                   "written.")
    p.add_argument("dir", help="run directory written by zoo train")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    p.add_argument("--out", required=True, metavar="PATH", help="directory to create")
    p.add_argument("--overwrite", action="store_true", help="replace PATH if it is a zoo export")
    p.add_argument("--seq-len", type=int, help="litert: the fixed length (default: the run's sequence length)")
    p.set_defaults(func=cmd_export)


def _add_serve_command(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve a trained run over HTTP (pip install \"keras-zoo[serve]\")",
                       description="Serve a trained run as an HTTP JSON API: GET /health, GET /v1/metadata, POST "
                                   "/v1/predict, OpenAPI docs at /docs. Concurrent requests are batched together.")
    p.add_argument("dir", help="run directory written by zoo train")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--engine", default="keras", choices=ENGINES, help="prediction engine (default: keras)")
    p.add_argument("--max-batch", type=int, default=64, help="rows per model call, at most (default: 64)")
    p.add_argument("--max-wait-ms", type=float, default=5.0,
                   help="while requests come concurrently, how long the first of a batch waits for others "
                        "(default: 5)")
    p.add_argument("--no-batching", action="store_true", help="one model call per request (for comparison)")
    p.set_defaults(func=cmd_serve)


def _add_tune_command(sub: Any) -> None:
    from .config import DataOptions, add_arguments

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
    p.add_argument("--embeddings", metavar="FILE", help="text: start every trial's word embeddings from these "
                                                         "pretrained vectors, as zoo train --embeddings does")
    p.add_argument("--out", default="preset.yaml", help="preset file to write (default: preset.yaml)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if zoo tune wrote it")
    add_arguments(p, DataOptions, "data format", prefix="data.")
    p.set_defaults(func=cmd_tune)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="A plugin-based model zoo of Keras sequence classifiers.",
        epilog="Run `zoo COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"zoo {__version__}")
    parser.add_argument("--presets", metavar="FILE", action="append", default=[],
                        help=f"a YAML file of presets to add (repeatable; also ${PRESETS_ENV}, {os.pathsep}-separated)")
    parser.add_argument("--debug", action="store_true", help=f"show the traceback of an error (also {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_catalog_commands(sub)
    _add_run_commands(sub)
    _add_compare_command(sub)
    _add_export_command(sub)
    _add_serve_command(sub)
    _add_tune_command(sub)
    return parser


def _show_warning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    print(f"zoo: warning: {message}", file=sys.stderr)


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser``'s arguments; texts to ``zoo predict`` may also follow its options (argparse gives a ``nargs="*"``
    positional only the words before the first option)."""
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "func", None) is cmd_predict and not any(e.startswith("-") for e in extra):
        args.texts = [*args.texts, *extra]
    elif extra:
        parser.parse_args(argv)  # argparse's own one-line error, exit 2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any TensorFlow import: C++ log noise
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = _show_warning  # one line per warning; restored when main returns
        args = _parse(build_parser(), argv)  # (discovery runs here: plugins' warnings are shown this way too)
        try:
            with preset_files(args.presets):
                return args.func(args) or 0
        except ZooError as e:
            if debug:
                raise
            print(f"zoo: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("zoo: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `zoo list | head`
            return 0
        except OSError as e:  # the machine, not the zoo: a full disk, a read-only directory
            if debug:
                raise
            where = f": {e.filename}" if e.filename else ""
            print(f"zoo: error: {e.strerror or e}{where}.", file=sys.stderr)
            return 2
        except Exception as e:  # noqa: BLE001 - a bug: one line here, the traceback with --debug
            if debug:
                raise
            detail = (str(e).strip().splitlines() or [""])[0][:200]
            print(f"zoo: error: internal error ({type(e).__name__}: {detail}); run again with --debug for the "
                  "traceback and please report it.", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
