"""Listing, info, --help and discovery never import TensorFlow or Keras (importing them costs ~5 s)."""

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("tensorflow", "keras")


def module_level_heavy_imports(source: str) -> list[str]:
    """The module-level (top-level statement) imports of TensorFlow/Keras in ``source``, as written."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in HEAVY]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in HEAVY:
            found.append(f"from {node.module} import ...")
    return found


def test_the_static_checker_finds_only_top_level_imports():
    source = textwrap.dedent("""\
        import os, keras
        import tensorflow.keras as tfk
        from keras import layers
        from tensorflow.python import ops
        from .keras import x
        import kerasish
        def build():
            import keras
        if False:
            import tensorflow
    """)
    assert module_level_heavy_imports(source) == ["import keras", "import tensorflow.keras",
                                                  "from keras import ...", "from tensorflow.python import ..."]


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for folder in ("zoo", "plugins")
                                        for p in (ROOT / folder).rglob("*.py")))
def test_no_module_imports_tensorflow_or_keras_at_module_level(path):
    assert module_level_heavy_imports((ROOT / path).read_text(encoding="utf-8")) == []


SCRIPT = r"""
import contextlib, io, json, sys
HEAVY = ("tensorflow", "keras", "jax", "torch")
def heavy():
    return sorted(m for m in HEAVY if m in sys.modules)
out = {}
import zoo
out["import zoo"] = heavy()
names = zoo.list_architectures()
arch = zoo.get("bilstm")
zoo.get("basic").hyperparameters(units=3)
out["api"] = heavy()
import zoo.testing, zoo.info, zoo.scaffold, zoo.builder, zoo.contract, zoo.layers, zoo.discovery, zoo.callbacks
import zoo.architecture
import zoo.plugins.lstm, zoo.plugins.stacked_lstm, zoo.plugins.bilstm, zoo.plugins.tensorboard
zoo.list_callbacks()
# zoo.layers' classes are imported on first use only (zoo/keras_layers.py imports Keras)
out["modules"] = heavy() + (["zoo.keras_layers"] if "zoo.keras_layers" in sys.modules else [])
from zoo.cli import main
for argv in (["list"], ["list", "--json"], ["info", "bilstm"], ["info", "stacked", "--json"], ["plugins"],
             ["plugins", "--json"], ["--help"], ["check", "--help"], ["info", "bilstn"], ["new", "--help"],
             ["new", "zoo-lazy", "--dir", sys.argv[1]]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    out[" ".join(argv[:2])] = [code, bool(buf.getvalue()), heavy()]
out["names"] = names
print(json.dumps(out))
"""


def test_discovery_listing_info_help_and_new_import_no_framework(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"bilstm", "lstm", "stacked_lstm"} <= set(out.pop("names"))
    assert out == {
        "import zoo": [], "api": [], "modules": [],
        "list": [0, True, []], "list --json": [0, True, []], "info bilstm": [0, True, []],
        "info stacked": [0, True, []], "plugins": [0, True, []], "plugins --json": [0, True, []],
        "--help": [0, True, []], "check --help": [0, True, []], "new --help": [0, True, []],
        "info bilstn": [2, False, []],  # an error, and still nothing heavy
        "new zoo-lazy": [0, True, []],
    }
    assert (tmp_path / "zoo-lazy" / "zoo_lazy" / "__init__.py").is_file()
