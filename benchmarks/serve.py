"""Throughput and latency of ``zoo serve`` against a naive server, with 1, 8 and 64 concurrent clients (not CI).

    python benchmarks/serve.py [--run DIR] [--engine keras|onnxruntime] [--duration 10] [--rounds 3]

Both servers are the same FastAPI app on uvicorn serving the same run: ``zoo serve`` batches concurrent requests
together (up to --max-batch rows or --max-wait-ms), the naive one (``zoo serve --no-batching``) calls the model
once per request. Load comes from ``wrk`` (Debian/Ubuntu: ``apt install wrk``) with one thread and N connections,
each request one text from the emotion data set (rotating). The servers run alternately, the same client counts
against each, over ``--rounds`` rounds, each server fresh in each round; every measured point follows
``WARM_UP_S`` seconds of the same load unmeasured, so the figures are the steady state (the Keras engine traces
and compiles the shapes a load brings while warming up). The report gives medians. Without ``--run`` it first
trains a bilstm on ../shared/data/emotion (a short budget: the model's size, not its accuracy, decides its speed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emotion"
RESULTS = Path(__file__).with_name("results")
WARM_UP_S = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(run: str, engine: str, batching: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = [sys.executable, "-m", "zoo.cli", "serve", run, "--port", str(port), "--engine", engine]
    proc = subprocess.Popen(args + ([] if batching else ["--no-batching"]), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=1).read()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read())
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


LUA = """
texts = {TEXTS}
i = 0
request = function()
  i = i %% #texts + 1
  return wrk.format("POST", "/v1/predict", {["Content-Type"] = "application/json"}, texts[i])
end
"""


def wrk(url: str, clients: int, duration: int, script: str) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{duration}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    pct = {p: float(v) * unit[u] for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_s": rate, "p50_ms": pct.get("50"), "p99_ms": pct.get("99"),
            "errors": int(errors.group(1)) if errors else 0}


def lua_script(directory: Path, n: int = 512) -> str:
    lines = [line.rpartition(";")[0] for line in (DATA / "test.txt").read_text().splitlines()[:n] if line.strip()]
    bodies = ", ".join(json.dumps(json.dumps({"inputs": [t]})) for t in lines)
    path = directory / "load.lua"
    path.write_text(LUA.replace("{TEXTS}", "{" + bodies + "}").replace("%%", "%"))
    return str(path)


def train_run(directory: Path) -> str:
    out = directory / "run"
    subprocess.run([sys.executable, "-m", "zoo.cli", "train", "bilstm", "--data", str(DATA / "train.txt"), "--val",
                    str(DATA / "val.txt"), "--out", str(out), "--steps", "500", "--seed", "0"], check=True,
                   stdout=subprocess.DEVNULL)
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run")
    parser.add_argument("--engine", default="keras")
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("benchmarks/serve.py needs wrk: apt install wrk")
    sys.path.insert(0, str(Path(__file__).parent))
    from speed import cpu_model

    clients = [int(c) for c in args.clients.split(",")]
    results: dict = {"batched": {c: [] for c in clients}, "naive": {c: [] for c in clients}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = args.run or train_run(tmp)
        script = lua_script(tmp)
        for r in range(args.rounds):
            for kind in ("batched", "naive"):
                proc, url = start(run, args.engine, kind == "batched")
                for c in clients:  # the steady state: each load first runs unmeasured (traces, compiles its shapes)
                    wrk(url, c, WARM_UP_S, script)
                    results[kind][c].append(wrk(url, c, args.duration, script))
                proc.terminate()
                proc.wait(timeout=60)
            print(f"round {r + 1}: {json.dumps(results)}", flush=True)
    med = lambda kind, c, key: statistics.median(x[key] for x in results[kind][c])  # noqa: E731
    lines = [f"Command: `python benchmarks/serve.py --engine {args.engine}`; CPU: {cpu_model()}, "
             f"{len(os.sched_getaffinity(0))} cores (wrk shares them); bilstm on emotion texts, one text per request; "
             f"{args.rounds} rounds of {args.duration} s per point after {WARM_UP_S} s of the same load unmeasured, "
             "medians.", "",
             "| clients | zoo serve requests/s | p50 / p99 ms | naive requests/s | p50 / p99 ms | throughput ratio |",
             "|---|---|---|---|---|---|"]
    for c in clients:
        lines.append(f"| {c} | {med('batched', c, 'requests_per_s'):,.0f} | {med('batched', c, 'p50_ms'):.1f} / "
                     f"{med('batched', c, 'p99_ms'):.1f} | {med('naive', c, 'requests_per_s'):,.0f} | "
                     f"{med('naive', c, 'p50_ms'):.1f} / {med('naive', c, 'p99_ms'):.1f} | "
                     f"{med('batched', c, 'requests_per_s') / med('naive', c, 'requests_per_s'):.2f}x |")
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"serve-{args.engine}.json").write_text(json.dumps(results, indent=1) + "\n")
    (RESULTS / f"serve-{args.engine}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
