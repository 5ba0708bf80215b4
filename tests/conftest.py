"""Shared fixtures: explicit plugin lists, fake plugins with their own catalogs, fake installed distributions and
a `zoo` subprocess runner. Nothing here imports TensorFlow or Keras (fake builders import Keras when called)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

BUILTINS = ("lstm", "stacked_lstm", "bilstm")

# A catalog entry that every fake architecture below shares (small sizes: builds take ~0.1 s).
FAKE_ENTRY = """\
  {name}:
    aliases: {aliases}
    summary: fake {name}
    plugin: {plugin}
    inputs: {inputs}
    defaults: {{vocab_size: 50, embed_dim: 8, seq_len: 10, units: 8}}
    hyperparameters:
      vocab_size: {{type: int, min: 2, max: 1000}}
      embed_dim: {{type: int, min: 1, max: 64}}
      seq_len: {{type: int, min: 1, max: 100, nullable: true}}
      units: {{type: int, min: 1, max: 64}}
"""


def fake_catalog_text(plugin: str, names, aliases=None, waivers=None, inputs="[tokens]") -> str:
    """Catalog YAML declaring ``names`` for ``plugin``; ``aliases``/``waivers`` map name -> list / dict."""
    text = "version: 1\narchitectures:\n"
    for name in names:
        text += FAKE_ENTRY.format(name=name, plugin=plugin, inputs=inputs,
                                  aliases="[" + ", ".join((aliases or {}).get(name, [])) + "]")
        own = (waivers or {}).get(name)
        if own:
            text += "    waivers:\n" + "".join(f"      {check}: {reason!r}\n" for check, reason in own.items())
    return text


def good_build(num_classes, hp):
    """Embedding -> LSTM -> zoo.softmax_head: a fake architecture that meets the contract."""
    import keras

    import zoo

    inputs, x = zoo.sequence_inputs(hp)
    x = keras.layers.LSTM(hp.units)(x)
    return keras.Model(inputs, zoo.softmax_head(x, num_classes))


@pytest.fixture(name="fake_catalog_text")
def fake_catalog_text_fixture():
    """:func:`fake_catalog_text`, for tests (conftest is not importable under --import-mode=importlib)."""
    return fake_catalog_text


@pytest.fixture(name="good_build")
def good_build_fixture():
    """A builder that meets the contract (see :func:`good_build`)."""
    return good_build


@pytest.fixture
def builtin_plugins():
    """The three built-in plugins as explicit ``(name, module, package, version)`` tuples."""
    return [(n, importlib.import_module(f"zoo.plugins.{n}"), "keras-zoo", "0.1.0") for n in BUILTINS]


@pytest.fixture
def write(tmp_path):
    """``write(name, text)``: a dedented text file in tmp_path; returns its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def make_plugin(tmp_path):
    """``make_plugin(plugin, {arch: build}, ...)``: an in-memory plugin module with its own catalog in tmp_path.

    ``catalog_text`` replaces the generated catalog; ``hook`` names the hook attribute (to misspell it);
    ``raises`` is an exception the hook raises; ``register_as`` maps arch -> the name passed to register();
    ``catalog_plugin`` is the catalog's ``plugin`` field (default: ``plugin``).
    """

    def _make(plugin, builds, *, aliases=None, waivers=None, inputs="[tokens]", catalog_text=None,
              hook="register_architectures", raises=None, register_as=None, catalog_plugin=None):
        import zoo

        catalog = tmp_path / f"{plugin}-catalog.yaml"
        if catalog_text is None:
            catalog_text = fake_catalog_text(catalog_plugin or plugin, list(builds), aliases, waivers, inputs)
        catalog.write_text(catalog_text, encoding="utf-8")
        module = types.ModuleType(f"fake_zoo_{plugin}")

        def register_architectures(register):
            if raises is not None:
                raise raises
            for name, build in builds.items():
                register((register_as or {}).get(name, name), build, catalog=catalog)

        setattr(module, hook, zoo.hookimpl(register_architectures))
        module.CATALOG = catalog
        return module

    return _make


# A plugin's own Keras layers, in a module of their own (as a plugin package ships them): registered with Keras
# when imported, and named in a catalog's custom_objects as "zoo_test_custom_layers:Scale".
CUSTOM_LAYERS = """\
    import keras


    @keras.saving.register_keras_serializable(package="zoo_tests")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}


    @keras.saving.register_keras_serializable(package="zoo_tests")
    class ForgetfulScale(Scale):
        def get_config(self):  # forgets `factor`, so it comes back as 1.0
            config = super().get_config()
            config.pop("factor")
            return config
"""


@pytest.fixture(scope="session")
def custom_layers(tmp_path_factory):
    """The module ``zoo_test_custom_layers`` (classes Scale and ForgetfulScale), importable for the session."""
    root = tmp_path_factory.mktemp("custom_layers")
    (root / "zoo_test_custom_layers.py").write_text(textwrap.dedent(CUSTOM_LAYERS), encoding="utf-8")
    sys.path.insert(0, str(root))
    yield importlib.import_module("zoo_test_custom_layers")
    sys.path.remove(str(root))


@pytest.fixture
def make_dist():
    """``make_dist(root, package, version, {ep_name: module}, {file: source})``: a fake installed distribution.

    Writes ``root/PACKAGE-VERSION.dist-info`` (METADATA, entry_points.txt in group ``zoo.plugins``) and the given
    files, so a subprocess with ``root`` on PYTHONPATH discovers it like a pip-installed plugin.
    """

    def _make(root: Path, package: str, version: str, entry_points: dict, files: dict) -> Path:
        info = root / f"{package.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(
            "[zoo.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
        for rel, source in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
        return root

    return _make


PLUGIN_MODULE = """\
    from pathlib import Path

    import zoo

    CATALOG = Path(__file__).with_name("zoo.yaml")


    def build(num_classes, hp):
        raise NotImplementedError("never built in these tests")


    @zoo.hookimpl
    def register_architectures(register):
        for name in {archs!r}:
            register(name, build, catalog=CATALOG)
"""


@pytest.fixture
def plugin_dist(tmp_path, make_dist):
    """``plugin_dist(package, version, plugin, arch, waivers=None, prefix="", aliases=None)``: a working plugin
    distribution registering architecture ``arch`` (a list: several) in its own directory; returns the directory
    for PYTHONPATH."""

    def _make(package, version, plugin, arch, waivers=None, prefix="", aliases=None):
        module = package.replace("-", "_").replace(".", "_")
        archs = [arch] if isinstance(arch, str) else list(arch)
        return make_dist(tmp_path / f"{package}-{version}", package, version, {plugin: module}, {
            f"{module}/__init__.py": prefix + textwrap.dedent(PLUGIN_MODULE).format(archs=archs),
            f"{module}/zoo.yaml": fake_catalog_text(plugin, archs, aliases=aliases,
                                                    waivers={a: waivers or {} for a in archs}),
        })

    return _make


def clean_env(**extra: str) -> dict:
    """os.environ without the zoo's own variables (so the caller's shell cannot change a test), plus ``extra``;
    a PYTHONPATH in ``extra`` goes in front of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if "PYTHONPATH" in extra:
        extra = {**extra, "PYTHONPATH": os.pathsep.join(filter(None, [extra["PYTHONPATH"],
                                                                      os.environ.get("PYTHONPATH")]))}
    env.update(extra)
    return env


@pytest.fixture
def run_zoo():
    """``run_zoo(*args, env={...}, cwd=...)``: run ``python -m zoo.cli ARGS`` in a subprocess; CompletedProcess."""

    def _run(*args: str, env: dict | None = None, cwd=None, timeout: float = 300):
        return subprocess.run([sys.executable, "-m", "zoo.cli", *map(str, args)], capture_output=True, text=True,
                              env=clean_env(**(env or {})), cwd=cwd, timeout=timeout)

    return _run


@pytest.fixture
def keras_session():
    """Put Keras's global dtype policy back to float32 after a test that may change it."""
    yield
    if "keras" in sys.modules:
        sys.modules["keras"].config.set_dtype_policy("float32")


# -- small text data with a learnable signal: each label has its keywords among filler words ------------------------
KEYWORDS = {"joy": ["happy", "glad", "great"], "sadness": ["down", "blue", "cry"],
            "anger": ["mad", "rage", "furious"]}
FILLER = ["i", "feel", "so", "today", "really", "the", "was", "it", "and", "very"]


def keyword_rows(n: int, seed: int, filler: tuple[int, int] = (3, 9)) -> list[tuple[str, str]]:
    """``n`` (text, label) rows, labels cycling through KEYWORDS, each text two of its label's keywords among
    ``filler`` (low, high) filler words, in a random order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = list(KEYWORDS)[i % len(KEYWORDS)]
        words = list(rng.choice(FILLER, size=rng.integers(*filler))) + list(rng.choice(KEYWORDS[label], size=2))
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


@pytest.fixture(name="keyword_rows", scope="session")
def keyword_rows_fixture():
    """:func:`keyword_rows`, for tests."""
    return keyword_rows


@pytest.fixture(name="keyword_file", scope="session")
def keyword_file_fixture():
    """``keyword_file(path, n, seed, filler=(3, 9))``: :func:`keyword_rows` written as ``TEXT;LABEL`` lines."""

    def _write(path: Path, n: int, seed: int, filler: tuple[int, int] = (3, 9)) -> Path:
        path.write_text("".join(f"{t};{label}\n" for t, label in keyword_rows(n, seed, filler)), encoding="utf-8")
        return path

    return _write
