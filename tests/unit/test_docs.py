"""The docstring examples of the core modules and the README's Python session run and print what they show.

`pytest` collects only tests/ (pyproject's testpaths), so the library's own doctests would never run without this.
"""

import doctest
import importlib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
CORE = ["zoo", "zoo.errors", "zoo.hookspecs", "zoo.hyperparameters", "zoo.catalog", "zoo.discovery", "zoo.architecture",
        "zoo.registry", "zoo.callbacks", "zoo.contract", "zoo.builder", "zoo.layers", "zoo.info", "zoo.scaffold",
        "zoo.testing", "zoo.cli", "zoo.config", "zoo.files", "zoo.rundir", "zoo.record", "zoo.data", "zoo.fitting",
        "zoo.metrics", "zoo.recipe", "zoo.engines"]
EXTRA_PLUGINS = sorted({ep.name for ep in entry_points(group="zoo.plugins")} - {"lstm", "stacked_lstm", "bilstm"})

pytestmark = pytest.mark.usefixtures("keras_session")


def run_doctests(module_name: str) -> tuple[int, int, str]:
    import io

    module = importlib.import_module(module_name)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=out.write)
    return runner.failures, runner.tries, out.getvalue()


@pytest.mark.parametrize("module_name", CORE)
def test_docstring_examples_run(module_name):
    failures, tries, report = run_doctests(module_name)
    assert failures == 0, report
    assert tries > 0 or module_name in ("zoo.hookspecs", "zoo.builder", "zoo.cli")


def test_the_python_api_has_runnable_examples():
    import zoo

    api = ["list_architectures", "list_callbacks", "get", "build", "Architecture", "Hyperparameters", "ZooError",
           "sequence_inputs", "softmax_head", "CallbackContext", "Registry"]
    assert [name for name in api if ">>>" not in (getattr(zoo, name).__doc__ or "")] == []


def test_the_readme_python_session_runs():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=FLAGS, verbose=False)
    assert result.attempted >= 9
    assert result.failed == 0


def fenced(path: Path, language: str) -> list[str]:
    """The fenced code blocks of one language in a Markdown file."""
    import re

    return re.findall(rf"^```{language}\n(.*?)^```$", path.read_text(encoding="utf-8"), re.M | re.S)


def test_the_plugin_guides_catalog_example_is_a_valid_catalog():
    from zoo.catalog import load_catalog

    [catalog] = [block for block in fenced(ROOT / "docs" / "plugins.md", "yaml") if "architectures:" in block]
    entry = load_catalog("docs/plugins.md", text=catalog)["foo"]
    assert (entry.plugin, entry.aliases, entry.custom_objects) == ("foo", ("foo-net",), ("zoo_foo.layers:Gate",))
    assert set(entry.schema) == {"vocab_size", "embed_dim", "seq_len", "filters", "units"}


def test_the_plugin_guides_python_examples_compile():
    blocks = fenced(ROOT / "docs" / "plugins.md", "python")
    assert len(blocks) >= 3
    for block in blocks:
        compile(block, "docs/plugins.md", "exec")

