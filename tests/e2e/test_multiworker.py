"""Multi-worker training for real: two `zoo train --distribute multiworker` processes on localhost, configured by
TF_CONFIG, train in lockstep; only the chief writes the run, the other worker's scratch directory is removed."""

import json
import os
import socket
import subprocess
import sys

import numpy as np

import zoo



def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_train_in_lockstep_and_only_the_chief_writes_the_run(tmp_path, keyword_file):
    keyword_file(tmp_path / "train.txt", 240, 0)
    cluster = {"worker": [f"localhost:{p}" for p in free_ports(2)]}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = [sys.executable, "-m", "zoo.cli", "train", "lstm", "--data", "train.txt", "--out", "run", "--distribute",
            "multiworker", "--epochs", "4", "--seed", "0", "--set", "units=8", "--set", "embed_dim=8",
            "--set", "vocab_size=64", "--set", "learning_rate=0.02", "--chrono", "16"]  # the biases set, in lockstep
    procs = []
    for index in (1, 0):  # the non-chief first: it waits for the chief
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TMPDIR": str(scratch),
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    (worker_out, worker_err), (chief_out, chief_err) = (p.communicate(timeout=540) for p in procs)
    assert procs[1].returncode == 0, chief_err[-3000:]
    assert procs[0].returncode == 0, worker_err[-3000:]
    assert "trained as a non-chief worker; the chief writes the run" in worker_out
    assert "saved to run" in chief_out

    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tmp", "train.txt"]  # one run, no .partial
    assert [p.name for p in scratch.iterdir() if p.name.startswith("zoo-worker-")] == []  # scratch removed
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["replicas"] == 2 and config["train"]["distribute"] == "multiworker"
    assert config["recipe"]["chrono"] == 16 and "drawn for memories of 1 to 16 steps" in chief_out
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["loss"]) == 4 and history["loss"][-1] < history["loss"][0]
    clf = zoo.load(tmp_path / "run")
    probs = clf.predict_proba(["i feel so happy and glad", "rage furious mad"])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
