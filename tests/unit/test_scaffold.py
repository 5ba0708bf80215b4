"""`zoo new`: the scaffolded package is complete, substituted, registrable, and the example is made from it."""

import importlib.util
from pathlib import Path

import pytest

import zoo
from zoo.catalog import load_catalog
from zoo.errors import ZooError
from zoo.scaffold import create_plugin_package, plugin_names

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "zoo-gru"
FILES = ["README.md", "pyproject.toml", "tests/test_contract.py", "zoo_gru/__init__.py", "zoo_gru/zoo.yaml"]


def files_of(root: Path) -> list[str]:
    """Source files of a package directory: what `zoo new` writes, not what pip or Python leave behind."""
    skip = ("__pycache__", ".egg-info", "build", "dist", ".pytest_cache")
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not any(part.endswith(skip) for part in p.relative_to(root).parts))


@pytest.mark.parametrize("package,name,module", [
    ("zoo-foo", "foo", "zoo_foo"),
    ("zoo-attention-lstm", "attention_lstm", "zoo_attention_lstm"),
    ("zoo_foo", "foo", "zoo_foo"),
    ("Zoo.Tcn", "tcn", "zoo_tcn"),
    ("mynet", "mynet", "mynet"),
])
def test_plugin_names_derive_module_and_architecture_from_the_package(package, name, module):
    assert plugin_names(package) == {"package": package, "module": module, "name": name, "title": package}


def test_new_writes_every_file_with_substitutions(tmp_path):
    out = create_plugin_package("zoo-foo", directory=tmp_path)
    assert out == tmp_path / "zoo-foo"
    assert files_of(out) == ["README.md", "pyproject.toml", "tests/test_contract.py", "zoo_foo/__init__.py",
                             "zoo_foo/zoo.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo-foo"]  # no staging directory left behind
    texts = {f: (out / f).read_text() for f in files_of(out)}
    assert not [f for f, t in texts.items() if "{{" in t or "}}" in t]
    pyproject = texts["pyproject.toml"]
    assert 'name = "zoo-foo"' in pyproject
    assert '[project.entry-points."zoo.plugins"]\nfoo = "zoo_foo"\n' in pyproject
    assert 'packages = ["zoo_foo"]' in pyproject and 'zoo_foo = ["zoo.yaml"]' in pyproject
    assert 'register("foo", build, catalog=CATALOG)' in texts["zoo_foo/__init__.py"]
    assert '@parametrize_with_checks(["foo"])' in texts["tests/test_contract.py"]
    assert 'zoo.get("foo").package == "zoo-foo"' in texts["tests/test_contract.py"]
    assert texts["README.md"].startswith("# zoo-foo\n")
    entry = load_catalog(out / "zoo_foo" / "zoo.yaml")["foo"]
    assert (entry.plugin, entry.inputs, entry.waivers) == ("foo", ("tokens", "features"), {})


def test_new_takes_an_explicit_architecture_name(tmp_path):
    out = create_plugin_package("zoo-foo", name="my_net", directory=tmp_path)
    assert '[project.entry-points."zoo.plugins"]\nmy_net = "zoo_foo"\n' in (out / "pyproject.toml").read_text()
    assert list(load_catalog(out / "zoo_foo" / "zoo.yaml")) == ["my_net"]


def test_the_scaffolded_plugin_registers_and_builds_a_contract_model(tmp_path):
    import numpy as np

    out = create_plugin_package("zoo-scaffolded", directory=tmp_path)
    spec = importlib.util.spec_from_file_location("zoo_scaffolded", out / "zoo_scaffolded" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reg = zoo.Registry([("scaffolded", module, "zoo-scaffolded", "0.1.0")])
    assert reg.plugins["scaffolded"].status == "loaded", reg.plugins["scaffolded"].reason
    arch = reg.get("scaffolded")
    assert (arch.package, arch.defaults["units"], arch.test_hyperparameters) == (
        "zoo-scaffolded", 128, {"vocab_size": 64, "embed_dim": 8, "seq_len": 12, "units": 8})
    model = arch.build(5, **arch.test_hyperparameters)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Embedding", "GRU", "Dense"]
    p = model.predict(np.arange(1, 25, dtype="int32").reshape(2, 12), verbose=0)
    assert p.shape == (2, 5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_new_refuses_an_existing_directory_and_leaves_it_alone(tmp_path):
    (tmp_path / "zoo-foo").mkdir()
    (tmp_path / "zoo-foo" / "mine.txt").write_text("keep me")
    with pytest.raises(ZooError) as e:
        create_plugin_package("zoo-foo", directory=tmp_path)
    assert str(e.value) == f"{tmp_path / 'zoo-foo'} already exists; choose another --dir or remove it first."
    assert files_of(tmp_path / "zoo-foo") == ["mine.txt"]


def test_new_refuses_bad_names(tmp_path):
    with pytest.raises(ZooError, match=r"^Bad package name 'zoo foo': use letters"):
        create_plugin_package("zoo foo", directory=tmp_path)
    with pytest.raises(ZooError, match=r"^Bad architecture name '9lives': use lower-case letters"):
        create_plugin_package("zoo-9lives", directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- the example is made from the template -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return create_plugin_package("zoo-gru", directory=tmp_path_factory.mktemp("regen"))


def test_regenerating_the_example_gives_the_same_files(regenerated):
    assert files_of(regenerated) == files_of(EXAMPLE) == FILES


@pytest.mark.parametrize("path", FILES)
def test_regenerating_the_example_is_byte_identical(regenerated, path):
    assert (regenerated / path).read_bytes() == (EXAMPLE / path).read_bytes()
