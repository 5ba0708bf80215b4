"""Runs that survive anything: kill -9 and --resume equals the uninterrupted run, a run killed in its first epoch
resumes, two processes on one --out give one run and one refusal, --overwrite replaces only zoo runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zoo

# stacked_lstm has a Dropout layer: its random state must be checkpointed too for an exact resume
SMALL = ["--set", "units=8,6", "--set", "embed_dim=8", "--set", "vocab_size=64", "--set", "learning_rate=0.01"]


@pytest.fixture(scope="module")
def train_file(tmp_path_factory, keyword_file):
    return keyword_file(tmp_path_factory.mktemp("data") / "train.txt", 300, 0, filler=(3, 12))


def command(train_file, out, *extra):
    return [sys.executable, "-m", "zoo.cli", "train", "stacked_lstm", "--data", str(train_file), "--out", str(out),
            "--epochs", "8", "--patience", "8", "--seed", "0", *SMALL, *extra]


def run(args, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def checkpoints(out: Path) -> list[str]:
    root = out.with_name(out.name + ".partial") / "checkpoints"
    return sorted(p.name for p in root.glob("epoch-????")) if root.exists() else []


def kill_when(args, ready, timeout=240):
    """Start ``args``, SIGKILL it as soon as ``ready()`` holds (no clean-up code runs), return when it is dead."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def weights(out: Path) -> list:
    model = zoo.load(out).model
    return [w.numpy() for w in model.weights]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, train_file):
    out = tmp_path_factory.mktemp("runs") / "whole"
    r = run(command(train_file, out))
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def assert_same_run(a: Path, b: Path) -> None:
    for name in ("metrics.json", "history.json"):
        ma, mb = json.loads((a / name).read_text()), json.loads((b / name).read_text())
        if name == "metrics.json":
            ma.pop("train_seconds"), mb.pop("train_seconds")
        assert ma == mb, name
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_allclose(wa, wb, atol=1e-6)


def test_a_run_killed_after_some_epochs_resumes_to_exactly_the_uninterrupted_run(tmp_path, train_file,
                                                                                  uninterrupted):
    out = tmp_path / "run"
    kill_when(command(train_file, out), lambda: len(checkpoints(out)) and checkpoints(out)[-1] >= "epoch-0003")
    assert not out.exists(), "an interrupted run must not leave a directory that looks complete"
    done = int(checkpoints(out)[-1].split("-")[1])
    r = run(command(train_file, out))
    assert r.returncode == 2 and "pass --resume to continue it, --overwrite to start over" in r.stderr
    with pytest.raises(zoo.ZooError, match="An interrupted run is in"):
        zoo.load(out)
    r = run(command(train_file, out, "--resume"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"note: resumed after epoch {done}" in r.stdout
    assert "Skipping variable loading for optimizer" not in r.stderr  # Adam's state came back
    assert not out.with_name("run.partial").exists()
    assert_same_run(uninterrupted, out)


def test_a_run_killed_in_its_first_epoch_can_be_resumed(tmp_path, train_file, uninterrupted):
    out = tmp_path / "early"
    staging = out.with_name("early.partial")
    kill_when(command(train_file, out), lambda: (staging / "config.json").exists())
    assert staging.is_dir() and checkpoints(out) == []
    r = run(command(train_file, out, "--resume"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert_same_run(uninterrupted, out)


def test_a_different_command_cannot_resume_the_interrupted_run(tmp_path, train_file):
    out = tmp_path / "mismatch"
    kill_when(command(train_file, out), lambda: bool(checkpoints(out)))
    r = run(command(train_file, out, "--resume", "--batch-size", "16"))
    assert r.returncode == 2
    assert r.stderr == ("zoo: error: --resume with different settings than the interrupted run (batch_size); use "
                        "the same command, or --overwrite to start over.\n")
    assert checkpoints(out), "a refused resume keeps the interrupted run"
    r = run(command(train_file, out, "--overwrite", "--epochs", "1"))
    assert r.returncode == 0 and "discarded the interrupted run" in r.stdout


def test_two_processes_on_one_out_give_one_run_and_one_refusal(tmp_path, train_file):
    out = tmp_path / "shared"
    first = subprocess.Popen(command(train_file, out, "--epochs", "30", "--patience", "30"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    marker = out.with_name("shared.partial") / ".zoo-staging"
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and first.poll() is None:
        time.sleep(0.02)
    for extra in ((), ("--resume",), ("--overwrite",)):
        second = run(command(train_file, out, *extra))
        assert second.returncode == 2, second.stderr
        assert second.stderr == (f"zoo: error: {out} is being trained by another zoo process (pid {first.pid}); wait "
                                 "for it to finish or stop it, or choose another --out.\n")
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr[-2000:]
    assert zoo.load(out).predict(["i feel happy"])[0]["label"] in ("anger", "joy", "sadness")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]


def test_overwrite_replaces_only_a_zoo_run_and_nothing_beside_it(tmp_path, train_file, uninterrupted):
    import shutil

    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "thesis.txt").write_text("precious")
    r = run(command(train_file, docs, "--overwrite", "--epochs", "1"))
    assert r.returncode == 2 and r.stderr == (f"zoo: error: {docs} exists and is not a zoo run; --overwrite only "
                                              "replaces runs zoo wrote. Choose another --out.\n")
    assert (docs / "thesis.txt").read_text() == "precious" and not (tmp_path / "mydocs.partial").exists()

    keep = tmp_path / "keep"
    shutil.copytree(uninterrupted, keep)
    (tmp_path / "keep.old").mkdir()
    (tmp_path / "keep.old" / "notes.txt").write_text("mine")
    before = json.loads((keep / "config.json").read_text())
    r = run(command(train_file, keep, "--overwrite", "--epochs", "1"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((keep / "config.json").read_text())["train"]["epochs"] == 1 != before["train"]["epochs"]
    assert (tmp_path / "keep.old" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep", "keep.old", "mydocs"]


@pytest.mark.parametrize("out,message", [
    (".", "--out . is the current directory or one of its parents"),
    ("..", "--out .. is the current directory or one of its parents"),
])
def test_out_may_not_be_the_working_directory_or_above(tmp_path, train_file, out, message):
    work = tmp_path / "work"
    work.mkdir()
    r = subprocess.run(command(train_file, out, "--overwrite"), capture_output=True, text=True, cwd=work,
                       timeout=120)
    assert r.returncode == 2 and r.stderr.startswith(f"zoo: error: {message}") and "Traceback" not in r.stderr
    assert list(work.iterdir()) == []


def test_an_out_that_cannot_be_created_is_one_line(tmp_path, train_file):
    blocker = tmp_path / "afile"
    blocker.write_text("x")  # a file where a directory is needed: mkdir fails (as in a read-only directory)
    r = run(command(train_file, blocker / "run"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr in (f"zoo: error: cannot create {blocker / 'run.partial'}: Not a directory.\n",
                        f"zoo: error: cannot create {blocker / 'run.partial'}: {blocker} is not a directory.\n")
