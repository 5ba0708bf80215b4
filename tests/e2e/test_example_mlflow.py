"""The MLflow example callback plugin (examples/zoo-mlflow), installed as its own distribution: `zoo plugins` shows
it and its own tests pass (params and per-epoch metrics land in a local MLflow file store).

It needs mlflow-skinny from PyPI, so it is skipped, saying how to install it, where the example is not installed.
"""

import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "zoo-mlflow"

try:
    distribution("zoo-mlflow")
except PackageNotFoundError:
    pytestmark = pytest.mark.skip(reason="the MLflow example is not installed: pip install ./examples/zoo-mlflow")


def test_zoo_plugins_shows_the_callback_plugin(run_zoo):
    proc = run_zoo("plugins")
    assert (proc.returncode, proc.stderr) == (0, "")
    row = next(line for line in proc.stdout.splitlines() if line.startswith("mlflow "))
    assert re.split(r"\s{2,}", row) == ["mlflow", "zoo-mlflow", "0.1.0", "loaded", "-", "mlflow"]


def test_the_examples_own_tests_pass():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "MLFLOW_"))}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=EXAMPLE,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"^6 passed", proc.stdout.splitlines()[-1]), proc.stdout[-500:]
