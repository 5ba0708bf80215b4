"""``zoo new``: scaffold a third-party plugin package from the template in ``zoo/plugin-template``."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from .errors import ZooError

PACKAGE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


def plugin_names(package: str, name: str | None = None) -> dict[str, str]:
    """The template's substitutions for a distribution name.

    >>> plugin_names("zoo-attention-lstm")["name"], plugin_names("zoo-attention-lstm")["module"]
    ('attention_lstm', 'zoo_attention_lstm')
    """
    if not PACKAGE_RE.match(package):
        raise ZooError(f"Bad package name {package!r}: use letters, digits, '-', '_' or '.', starting with a letter.")
    module = re.sub(r"[^a-z0-9]+", "_", package.lower())
    stem = re.sub(r"^zoo[-_.]", "", package.lower())
    name = name or re.sub(r"[^a-z0-9]+", "_", stem)
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise ZooError(f"Bad architecture name {name!r}: use lower-case letters, digits and '_', starting with a "
                       "letter (pass --name).")
    return {"package": package, "module": module, "name": name, "title": package}


def create_plugin_package(package: str, name: str | None = None, directory: str | Path = ".") -> Path:
    """Write a new plugin package ``DIRECTORY/PACKAGE`` and return its path; never overwrites anything.

    >>> import tempfile, pathlib
    >>> out = create_plugin_package("zoo-gru", directory=tempfile.mkdtemp())
    >>> sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    ['README.md', 'pyproject.toml', 'tests/test_contract.py', 'zoo_gru/__init__.py', 'zoo_gru/zoo.yaml']
    """
    subs = plugin_names(package, name)
    target = Path(directory) / package
    if target.exists():
        raise ZooError(f"{target} already exists; choose another --dir or remove it first.")
    template = resources.files("zoo") / "plugin-template"
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

    collect(template, Path())
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
