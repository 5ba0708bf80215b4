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

from . import __version__
from .errors import ZooError
from .registry import PRESETS_ENV, default_registry


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*map(str, r)).rstrip() for r in rows]
    return "\n".join(lines)


def _quiet_tensorflow() -> None:
    """Keep TensorFlow's retracing warnings off the user's terminal."""
    import logging

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
    plugins = sorted(reg.plugins.values(), key=lambda p: p.name)
    if args.json:
        print(json.dumps([{"name": p.name, "package": p.package, "version": p.version, "module": p.module,
                           "status": p.status, "reason": p.reason, "architectures": p.architectures}
                          for p in plugins], indent=2))
        return 0
    rows = [[p.name, p.package, p.version, p.status + (f": {p.reason}" if p.reason else ""),
             ", ".join(p.architectures) or "-"] for p in plugins]
    print(_table(rows, ["plugin", "package", "version", "status", "architectures"]))
    for conflict in reg.conflicts:
        print(f"conflict: {conflict}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from .testing import run_checks

    def show(r: Any) -> None:
        nc = "-" if r.check.num_classes is None else r.check.num_classes
        detail = f"  {r.detail}" if r.detail else ""
        print(f"{r.check.architecture.name:<16} {r.check.name:<20} {nc!s:>3}  {r.status:<6} "
              f"{r.seconds:5.1f}s{detail}", flush=True)

    print(f"{'architecture':<16} {'check':<20} {'n':>3}  {'status':<6} {'time':>6}")
    report = run_checks(args.names or None, class_counts=args.class_counts, checks=args.checks, progress=show)
    print(report.summary())
    if report.ran == 0:
        print("zoo: error: no contract checks ran; a green run needs at least one.", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import create_plugin_package

    path = create_plugin_package(args.package, name=args.name, directory=args.dir)
    print(f"Created {path}. Next: pip install -e {path} && zoo check {args.name or path.name.split('-', 1)[-1]}")
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
                       description="List installed plugins: package, version and status (loaded/failed/disabled).")
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
    p.add_argument("--name", help="architecture name (default: the package name without its 'zoo-' prefix)")
    p.add_argument("--dir", default=".", help="where to create it (default: current directory)")
    p.set_defaults(func=cmd_new)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.presets:
        os.environ[PRESETS_ENV] = os.pathsep.join(filter(None, [*args.presets, os.environ.get(PRESETS_ENV, "")]))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before any TensorFlow import
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
