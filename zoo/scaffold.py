"""``zoo new``: scaffold a third-party plugin package from a template in ``zoo/plugin-template``.

A package is the template's ``common/`` files (pyproject with the entry point, README, tests) plus its own
``TEMPLATE/MODULE/`` (the plugin module and its catalog), with ``{{placeholders}}`` filled in.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ZooError

if TYPE_CHECKING:
    from .registry import Registry

PACKAGE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
# template -> the network it generates, as its summary says (one line, in zoo list)
TEMPLATES = {
    "gru": "Embedding -> GRU -> Dense softmax",
    "conv-lstm": "Embedding -> masked Conv1D -> LSTM -> Dense softmax",
    "attention": "Embedding -> GRU -> attention pooling -> Dense softmax",
}
DEFAULT_TEMPLATE = "gru"


def plugin_names(package: str, name: str | None = None, template: str = DEFAULT_TEMPLATE) -> dict[str, str]:
    """The template's substitutions for a distribution name.

    >>> subs = plugin_names("zoo-attention-lstm", template="attention")
    >>> subs["name"], subs["module"], subs["summary"]
    ('attention_lstm', 'zoo_attention_lstm', 'Embedding -> GRU -> attention pooling -> Dense softmax')
    """
    if not PACKAGE_RE.match(package):
        raise ZooError(f"Bad package name {package!r}: use letters, digits, '-', '_' or '.', starting with a letter.")
    if template not in TEMPLATES:
        raise ZooError(f"Unknown template {template!r}; choose one of {', '.join(TEMPLATES)}.")
    module = re.sub(r"[^a-z0-9]+", "_", package.lower())
    stem = re.sub(r"^zoo[-_.]", "", package.lower())
    name = name or re.sub(r"[^a-z0-9]+", "_", stem)
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise ZooError(f"Bad architecture name {name!r}: use lower-case letters, digits and '_', starting with a "
                       "letter (pass --name).")
    return {"package": package, "module": module, "name": name, "title": package, "template": template,
            "summary": TEMPLATES[template]}


def check_name_free(name: str, registry: "Registry") -> None:
    """Refuse an architecture name that an installed architecture, alias, preset or plugin already has: the new
    plugin would be refused when installed.

    >>> import zoo
    >>> check_name_free("basic", zoo.default_registry())
    Traceback (most recent call last):
    ...
    zoo.errors.ZooError: The name 'basic' is taken by architecture 'lstm' (an alias of it) from plugin 'lstm' (keras-zoo 0.1.0); a plugin using it would be refused. Pass --name NAME to choose another.
    """
    owner = registry.owner(name)
    if owner:
        raise ZooError(f"The name '{name}' is taken by {owner}; a plugin using it would be refused. Pass --name NAME "
                       "to choose another.")


def _template_files(subs: dict[str, str]) -> dict[Path, str]:
    """Every file of the package, relative to its root, with the substitutions made."""
    root = resources.files("zoo") / "plugin-template"
    files: dict[Path, str] = {}

    def collect(node, rel: Path) -> None:
        for child in node.iterdir():
            if child.name == "__pycache__":
                continue
            out = rel / (subs["module"] if child.name == "MODULE" else child.name)
            if child.is_dir():
                collect(child, out)
            else:
                text = child.read_text(encoding="utf-8")
                for key, value in subs.items():
                    text = text.replace("{{" + key + "}}", value)
                files[out] = text

    collect(root / "common", Path())
    collect(root / subs["template"], Path())
    return files


def create_plugin_package(package: str, name: str | None = None, directory: str | Path = ".",
                          template: str = DEFAULT_TEMPLATE, registry: "Registry | None" = None) -> Path:
    """Write a new plugin package ``DIRECTORY/PACKAGE`` and return its path; never overwrites anything.

    The architecture name must be free among the installed plugins (``registry``, default: the installed ones).

    >>> import tempfile, pathlib, zoo
    >>> out = create_plugin_package("zoo-conv", directory=tempfile.mkdtemp(), template="conv-lstm")
    >>> sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    ['README.md', 'pyproject.toml', 'tests/test_contract.py', 'zoo_conv/__init__.py', 'zoo_conv/zoo.yaml']
    """
    subs = plugin_names(package, name, template)
    if registry is None:
        from .registry import default_registry

        registry = default_registry()
    check_name_free(subs["name"], registry)
    target = Path(directory) / package
    if target.exists():
        raise ZooError(f"{target} already exists; choose another --dir or remove it first.")
    files = _template_files(subs)
    # write into a temporary sibling, then rename: an interrupted run leaves no half-made package
    staging = target.with_name(f".{package}.tmp")
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        staging.rename(target)
    except OSError as e:
        raise ZooError(f"Cannot create {target}: {e}") from None
    finally:
        if staging.exists():
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
    return target
