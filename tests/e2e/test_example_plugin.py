"""The example third-party plugin, pip-installed as its own distribution (CI: `pip install ./examples/zoo-gru`):
the installed `zoo` command lists it, shows its package, and its contract checks pass."""

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

ZOO = Path(sys.executable).with_name("zoo")  # the console script pip installed beside this interpreter


@pytest.fixture(scope="module", autouse=True)
def installed():
    try:
        dist = distribution("zoo-gru")
    except PackageNotFoundError:
        pytest.fail("the example plugin is not installed: run pip install ./examples/zoo-gru (the README's test "
                    "command does)")
    return dist


def zoo_cmd(*args, timeout=300):
    from os import environ

    env = {k: v for k, v in environ.items() if not k.startswith("ZOO_")}
    return subprocess.run([str(ZOO), *args], capture_output=True, text=True, env=env, timeout=timeout)


def cells(line):
    return re.split(r"\s{2,}", line.strip())


def test_the_example_is_a_separate_distribution_declaring_the_entry_point(installed):
    assert installed.version == "0.1.0"
    assert [(ep.name, ep.value) for ep in installed.entry_points if ep.group == "zoo.plugins"] == [("gru", "zoo_gru")]
    assert distribution("keras-zoo").metadata["Name"] == "keras-zoo"


def test_zoo_list_shows_gru_provided_by_its_plugin():
    proc = zoo_cmd("list")
    assert (proc.returncode, proc.stderr) == (0, "")
    rows = {cells(line)[0]: cells(line) for line in proc.stdout.splitlines()[2:]}
    assert rows["gru"] == ["gru", "-", "gru", "Embedding -> GRU -> Dense softmax"]
    assert {"bilstm", "lstm", "stacked_lstm"} <= set(rows)


def test_zoo_plugins_shows_the_zoo_gru_package():
    proc = zoo_cmd("plugins")
    assert (proc.returncode, proc.stderr) == (0, "")
    rows = {cells(line)[0]: cells(line) for line in proc.stdout.splitlines()[2:]}
    assert rows["gru"] == ["gru", "zoo-gru", "0.1.0", "loaded", "gru", "-"]


def test_zoo_check_passes_on_the_example_plugin():
    proc = zoo_cmd("check", "gru", "--class-counts", "2", "--checks", "softmax_head,save_load,lazy_import")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [cells(line)[:4] for line in lines[1:4]] == [["gru", "softmax_head", "2", "passed"],
                                                        ["gru", "save_load", "2", "passed"],
                                                        ["gru", "lazy_import", "-", "passed"]]
    assert lines[-1] == "3 checks run: 3 passed, 0 failed, 0 waived"
    assert "Traceback" not in proc.stderr
