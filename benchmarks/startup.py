"""Start-up time of `zoo list` with five extra plugins installed (the project's bound: under 0.15 s).

    python benchmarks/startup.py [--runs 7] [--plugins 5] [--out benchmarks/results/startup.md]

Makes ``--plugins`` throwaway plugin distributions (a ``*.dist-info`` with the ``zoo.plugins`` entry point, a plugin
module and its catalog, as a pip install leaves them) in a temporary directory put on PYTHONPATH, then times
``zoo list`` in ``--runs`` fresh processes after one untimed run, and reports the median, with the same command
without the extra plugins for comparison. Not a timed test (a shared CI machine's noise would make it flaky);
prints a markdown report and writes it to ``--out``.
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


def time_command(cmd: list[str], env: dict, runs: int) -> list[float]:
    """Wall times of ``runs`` fresh processes, after one untimed run (it warms the file cache)."""
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration, subprocess.SubprocessError):
        return cpu_model()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plugins", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "startup.md")
    args = parser.parse_args()
    cmd = [*zoo_command(), "list"]
    load = os.getloadavg()[0]  # other work on the machine shows up in wall times: say how busy it was
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    with tempfile.TemporaryDirectory() as tmp:
        names = make_plugins(Path(tmp), args.plugins)
        env = {**base, "PYTHONPATH": os.pathsep.join(filter(None, [tmp, base.get("PYTHONPATH")]))}
        listed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        missing = [n for n in names if f"\n{n} " not in listed]
        if missing:
            raise SystemExit(f"startup.py: the benchmark plugins {missing} are not listed:\n{listed}")
        with_plugins = time_command(cmd, env, args.runs)
    without = time_command(cmd, base, args.runs)
    median = statistics.median(with_plugins)
    v = versions()
    lines = [
        "# `zoo list` start-up",
        "",
        f"`python benchmarks/startup.py --runs {args.runs} --plugins {args.plugins}`, "
        f"{datetime.date.today().isoformat()}, {lscpu_model()} ({os.cpu_count()} logical CPUs), "
        f"Python {v['python']}, keras-zoo {v['zoo']}; load average {load:.2f} when it started.",
        "",
        "| command | plugins | median | min | max | runs |",
        "|---|---|---|---|---|---|",
        f"| `zoo list` | installed + {args.plugins} throwaway | {median:.3f} s | {min(with_plugins):.3f} s | "
        f"{max(with_plugins):.3f} s | {args.runs} |",
        f"| `zoo list` | installed only | {statistics.median(without):.3f} s | {min(without):.3f} s | "
        f"{max(without):.3f} s | {args.runs} |",
        "",
        f"Bound: {BOUND_S} s with {args.plugins} plugins: {'met' if median < BOUND_S else 'NOT met'}.",
    ]
    report = "\n".join(lines) + "\n"
    print(report, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    return 0 if median < BOUND_S else 1


if __name__ == "__main__":
    sys.exit(main())
