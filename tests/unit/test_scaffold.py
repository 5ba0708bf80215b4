"""`zoo new`: the scaffolded package is complete, substituted for its name and template, registrable, refuses a
taken name, and the example is made from it. (tests/e2e/test_templates.py installs each template and runs it.)"""

import importlib.util
from pathlib import Path

import pytest

import zoo
from zoo.catalog import load_catalog
from zoo.errors import ZooError
from zoo.scaffold import TEMPLATES, create_plugin_package, plugin_names

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "zoo-gru"
FILES = ["README.md", "pyproject.toml", "tests/test_contract.py", "zoo_gru/__init__.py", "zoo_gru/zoo.yaml"]


def files_of(root: Path) -> list[str]:
    """Source files of a package directory: what `zoo new` writes, not what pip or Python leave behind."""
    skip = ("__pycache__", ".egg-info", "build", "dist", ".pytest_cache")
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not any(part.endswith(skip) for part in p.relative_to(root).parts))


@pytest.fixture
def no_plugins():
    """An empty registry: names are free, whatever is installed here."""
    return zoo.Registry()


@pytest.mark.parametrize("package,name,module", [
    ("zoo-foo", "foo", "zoo_foo"),
    ("zoo-attention-lstm", "attention_lstm", "zoo_attention_lstm"),
    ("zoo_foo", "foo", "zoo_foo"),
    ("Zoo.Tcn", "tcn", "zoo_tcn"),
    ("mynet", "mynet", "mynet"),
])
def test_plugin_names_derive_module_and_architecture_from_the_package(package, name, module):
    assert plugin_names(package) == {"package": package, "module": module, "name": name, "title": package,
                                     "template": "gru", "summary": "Embedding -> GRU -> Dense softmax"}


def test_new_writes_every_file_with_substitutions(tmp_path, no_plugins):
    out = create_plugin_package("zoo-foo", directory=tmp_path, registry=no_plugins)
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


def test_new_takes_an_explicit_architecture_name(tmp_path, no_plugins):
    out = create_plugin_package("zoo-foo", name="my_net", directory=tmp_path, registry=no_plugins)
    assert '[project.entry-points."zoo.plugins"]\nmy_net = "zoo_foo"\n' in (out / "pyproject.toml").read_text()
    assert list(load_catalog(out / "zoo_foo" / "zoo.yaml")) == ["my_net"]


LAYERS = {
    "gru": ["InputLayer", "Embedding", "GRU", "Dense"],
    "conv-lstm": ["InputLayer", "Embedding", "MaskedConv1D", "LSTM", "Dense"],
    "attention": ["InputLayer", "Embedding", "GRU", "AttentionPooling1D", "Dense"],
}


@pytest.mark.parametrize("template", list(LAYERS))
def test_each_template_registers_and_builds_its_network(tmp_path, no_plugins, template):
    import numpy as np

    out = create_plugin_package("zoo-scaffolded", directory=tmp_path, template=template, registry=no_plugins)
    spec = importlib.util.spec_from_file_location("zoo_scaffolded", out / "zoo_scaffolded" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reg = zoo.Registry([("scaffolded", module, "zoo-scaffolded", "0.1.0")])
    assert reg.plugins["scaffolded"].status == "loaded", reg.plugins["scaffolded"].reason
    arch = reg.get("scaffolded")
    assert (arch.package, arch.summary) == ("zoo-scaffolded", TEMPLATES[template])
    model = arch.build(5, **arch.test_hyperparameters)
    assert [type(layer).__name__ for layer in model.layers] == LAYERS[template]
    p = model.predict(np.arange(1, 25, dtype="int32").reshape(2, 12), verbose=0)
    assert p.shape == (2, 5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("template", list(LAYERS))
def test_summary_docstring_and_readme_follow_the_name_and_template(tmp_path, no_plugins, template):
    out = create_plugin_package("zoo-tcn", directory=tmp_path, template=template, registry=no_plugins)
    summary = TEMPLATES[template]
    assert load_catalog(out / "zoo_tcn" / "zoo.yaml")["tcn"].summary == summary
    module = (out / "zoo_tcn" / "__init__.py").read_text()
    assert module.startswith(f'"""``tcn``: {summary}, a zoo architecture plugin.\n\nGenerated by `zoo new zoo-tcn '
                             f'--template {template}`.')
    readme = (out / "README.md").read_text()
    assert readme.startswith(f"# zoo-tcn\n\nA [zoo](https://pypi.org/project/keras-zoo/) architecture plugin: `tcn`, "
                             f"{summary}.\nMade with `zoo new zoo-tcn --template {template}`.\n")
    assert f'description = "zoo-tcn: {summary}, an architecture plugin for the zoo model zoo"' in (
        out / "pyproject.toml").read_text()


@pytest.mark.parametrize("package,name,owner", [
    ("zoo-bilstm", None, "architecture 'bilstm' from plugin 'bilstm' (keras-zoo 0.1.0)"),
    ("zoo-x", "basic", "architecture 'lstm' (an alias of it) from plugin 'lstm' (keras-zoo 0.1.0)"),
    ("zoo-tensorboard", None, "plugin 'tensorboard' (keras-zoo 0.1.0)"),
])
def test_new_refuses_a_name_an_installed_plugin_has(tmp_path, package, name, owner):
    with pytest.raises(ZooError) as e:
        create_plugin_package(package, name=name, directory=tmp_path)
    taken = name or package.removeprefix("zoo-")
    assert str(e.value) == (f"The name '{taken}' is taken by {owner}; a plugin using it would be refused. Pass --name "
                            "NAME to choose another.")
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_an_unknown_template(tmp_path, no_plugins):
    with pytest.raises(ZooError, match=r"^Unknown template 'lstm'; choose one of gru, conv-lstm, attention\.$"):
        create_plugin_package("zoo-foo", directory=tmp_path, template="lstm", registry=no_plugins)


def test_new_refuses_an_existing_directory_and_leaves_it_alone(tmp_path, no_plugins):
    (tmp_path / "zoo-foo").mkdir()
    (tmp_path / "zoo-foo" / "mine.txt").write_text("keep me")
    with pytest.raises(ZooError) as e:
        create_plugin_package("zoo-foo", directory=tmp_path, registry=no_plugins)
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
    # an empty registry: the example itself may be installed, and then 'gru' is taken
    return create_plugin_package("zoo-gru", directory=tmp_path_factory.mktemp("regen"), registry=zoo.Registry())


def test_regenerating_the_example_gives_the_same_files(regenerated):
    assert files_of(regenerated) == files_of(EXAMPLE) == FILES


@pytest.mark.parametrize("path", FILES)
def test_regenerating_the_example_is_byte_identical(regenerated, path):
    assert (regenerated / path).read_bytes() == (EXAMPLE / path).read_bytes()
