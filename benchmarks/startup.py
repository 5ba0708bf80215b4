"""Start-up time of `zoo list` with five extra plugins installed (the project's bound: under 0.15 s).

    python benchmarks/startup.py [--runs 7] [--plugins 5] [--baseline OTHER/bin/zoo] [--out FILE.md]

Makes ``--plugins`` throwaway plugin distributions (a ``*.dist-info`` with the ``zoo.plugins`` entry point, a plugin
module and its catalog, as a pip install leaves them) in a temporary directory put on PYTHONPATH, then times
``zoo list`` in ``--runs`` fresh processes after one untimed run, and reports the median, with the same command
without the extra plugins for comparison. ``--baseline`` times another installation's ``zoo`` (another checkout)
the same way; all variants run interleaved, round by round, so a busy machine slows them alike. Not a timed
test (a shared CI machine's noise would make it flaky); prints a markdown report and writes it to ``--out``
(default benchmarks/results/startup.md).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import cpu_model, versions, zoo_command  # noqa: E402  (benchmarks/speed.py)

BOUND_S = 0.15
PLUGIN = '''\
from pathlib import Path

import zoo

CATALOG = Path(__file__).with_name("zoo.yaml")


def build(num_classes, hp):
    import keras

    inputs, x = zoo.sequence_inputs(hp)
    return keras.Model(inputs, zoo.softmax_head(keras.layers.GRU(hp.units)(x), num_classes))


@zoo.hookimpl
def register_architectures(register):
    register("{name}", build, catalog=CATALOG)
'''
CATALOG = """\
version: 1
architectures:
  {name}:
    aliases: [{name}-alias]
    summary: benchmark plugin {name}
    plugin: {name}
    inputs: [tokens, features]
    defaults: {{vocab_size: 1000, embed_dim: 16, seq_len: 50, units: 16}}
    hyperparameters:
      vocab_size: {{type: int, min: 2, max: 1000000}}
      embed_dim: {{type: int, min: 1, max: 4096}}
      seq_len: {{type: int, min: 1, max: 100000, nullable: true}}
      units: {{type: int, min: 1, max: 4096}}
"""


def make_plugins(root: Path, count: int) -> list[str]:
    """``count`` plugin distributions in ``root``, as pip would install them; their architecture names."""
    names = []
    for i in range(count):
        name, package = f"bench{i}", f"zoo-bench{i}"
        info = root / f"zoo_bench{i}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[zoo.plugins]\n{name} = zoo_bench{i}\n")
        module = root / f"zoo_bench{i}"
        module.mkdir()
        (module / "__init__.py").write_text(PLUGIN.format(name=name))
        (module / "zoo.yaml").write_text(CATALOG.format(name=name))
        names.append(name)
    return names


def time_commands(variants: dict[str, tuple[list[str], dict]], runs: int) -> dict[str, list[float]]:
    """Wall times of ``runs`` fresh processes of each variant (command, environment), interleaved round by round,
    after one untimed run each (it warms the file cache)."""
    for cmd, env in variants.values():
        subprocess.run(cmd, env=env, capture_output=True, check=True)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (cmd, env) in variants.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    return times


def lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration, subprocess.SubprocessError):
        return cpu_model()


def report(times: dict[str, list[float]], args: argparse.Namespace, load: float) -> str:
    v = versions()
    rows = [f"| {name} | {statistics.median(t):.3f} s | {min(t):.3f} s | {max(t):.3f} s | {len(t)} |"
            for name, t in times.items()]
    median = statistics.median(times[WITH_PLUGINS])
    return "\n".join([
        "# `zoo list` start-up",
        "",
        f"`python benchmarks/startup.py --runs {args.runs} --plugins {args.plugins}"
        + (" --baseline ..." if args.baseline else "") + f"`, {datetime.date.today().isoformat()}, {lscpu_model()} "
        f"({os.cpu_count()} logical CPUs), Python {v['python']}, keras-zoo {v['zoo']}; load average {load:.2f} when "
        "it started.",
        "",
        "| `zoo list` | median | min | max | runs |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Bound: under {BOUND_S} s with {args.plugins} extra plugins: {'met' if median < BOUND_S else 'NOT met'} "
        f"({median:.3f} s).",
    ]) + "\n"


WITH_PLUGINS = "this checkout, installed plugins + the throwaway ones"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plugins", type=int, default=5)
    parser.add_argument("--baseline", metavar="ZOO", help="another installation's zoo executable to time alike")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "startup.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]  # other work on the machine shows up in wall times: say how busy it was
    cmd = [*zoo_command(), "list"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    with tempfile.TemporaryDirectory() as tmp:
        names = make_plugins(Path(tmp), args.plugins)
        env = {**base, "PYTHONPATH": os.pathsep.join(filter(None, [tmp, base.get("PYTHONPATH")]))}
        listed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        missing = [n for n in names if f"\n{n} " not in listed]
        if missing:
            raise SystemExit(f"startup.py: the benchmark plugins {missing} are not listed:\n{listed}")
        variants = {WITH_PLUGINS: (cmd, env), "this checkout, installed plugins only": (cmd, base)}
        if args.baseline:
            variants[f"baseline ({args.baseline}), installed + the throwaway ones"] = ([args.baseline, "list"], env)
        times = time_commands(variants, args.runs)
    text = report(times, args, load)
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0 if statistics.median(times[WITH_PLUGINS]) < BOUND_S else 1


if __name__ == "__main__":
    sys.exit(main())
