"""The README's first command: `zoo train bilstm` with no data trains on the bundled dataset, offline."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_starts_with_the_main_job_and_the_test_command():
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert blocks[0] == "pip install . && zoo train bilstm"
    assert blocks[1].startswith("pip install -e \".[test]\"") and blocks[1].endswith("&& pytest -n auto")


def test_zoo_train_bilstm_without_data_trains_on_the_bundled_dataset(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "zoo.cli", "train", "bilstm", "--seed", "0"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "runs" / "bilstm"  # the documented default run directory
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["train"]["source"] == "builtin:japanese_vowels/train" and config["train"]["data"] is None
    assert metrics["split"] == "test" and metrics["num_examples"] == 370
    assert metrics["accuracy"] >= 0.85  # nine speakers: chance is about 0.11
    assert f"test accuracy {metrics['accuracy']:.4f}" in proc.stdout
