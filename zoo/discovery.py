"""Finding installed plugins: the ``zoo.plugins`` entry points, the allow and deny lists, isolated imports.

pluggy's own ``load_setuptools_entrypoints`` stops at the first plugin that fails to import and skips a second
package declaring a taken entry-point name without a word. The zoo reads the entry points itself instead: it
applies ``$ZOO_DISABLE_PLUGINS`` and ``$ZOO_LOAD_PLUGINS`` before importing anything, imports each plugin on its
own (a broken one is recorded as failed, never fatal), and settles a name declared by several packages before
loading: a built-in (package ``keras-zoo``) keeps it, otherwise none of the claimants loads. Nothing here
imports TensorFlow.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOAD_ENV = "ZOO_LOAD_PLUGINS"
DISABLE_ENV = "ZOO_DISABLE_PLUGINS"
BUILTIN_PACKAGE = "keras-zoo"  # the zoo's own distribution: its plugins win every name conflict


@dataclass
class PluginInfo:
    """What ``zoo plugins`` shows for one plugin: its package, version, status and what it provides.

    ``status`` is ``loaded``, ``failed`` (it raised while importing or registering), ``disabled`` (by
    ``$ZOO_DISABLE_PLUGINS`` or ``$ZOO_LOAD_PLUGINS``) or ``refused`` (it claims a name another plugin has);
    ``reason`` says why it is not loaded.

    >>> PluginInfo("gru", "zoo-gru", "0.1.0").label
    "'gru' (zoo-gru 0.1.0)"
    """

    name: str
    package: str
    version: str
    module: str = ""
    status: str = "loaded"  # loaded | failed | disabled | refused
    reason: str = ""
    architectures: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)
    key: str = ""  # its key in Registry.plugins: the name, or "NAME (PACKAGE)" when packages share the name
    fix: str = ""  # for a refused plugin: how to settle the clash (its warning line ends with it)

    def __post_init__(self) -> None:
        self.key = self.key or self.name

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.package} {self.version})"

    @property
    def builtin(self) -> bool:
        return self.package == BUILTIN_PACKAGE

    @property
    def switch(self) -> str:
        """The name that disables this plugin alone: its own, or its package's when packages share the name."""
        return self.name if self.key == self.name else self.package

    def refuse(self, reason: str, rivals: list["PluginInfo"]) -> None:
        """Mark it refused for ``reason``; the fix names the way out (only the loser moves when a built-in won)."""
        self.status, self.reason, self.architectures, self.callbacks = "refused", reason, [], []
        if any(r.builtin for r in rivals):
            self.fix = f"uninstall {self.package}, or disable it with {DISABLE_ENV}={self.switch}"
        else:
            either = " or ".join(f"{DISABLE_ENV}={p.switch}" for p in [self, *rivals])
            self.fix = f"uninstall one of them, or disable one with {either}"

    @property
    def warning(self) -> str | None:
        """The one-line warning for a plugin that is not loaded through no choice of the user's, else None."""
        if self.status == "failed":
            return (f"plugin {self.label} failed to load: {self.reason}; it is skipped (disable it with "
                    f"{DISABLE_ENV}={self.switch}).")
        if self.status == "refused":
            return f"plugin {self.label} is refused: {self.reason}; {self.fix}."
        return None


# -- reading the installed distributions -------------------------------------------------------------------------
def _dist_header(path: str) -> dict[str, str]:
    """Name and Version from a dist-info METADATA (or egg-info PKG-INFO) header, reading only the first lines."""
    out: dict[str, str] = {}
    for fname in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(path, fname), encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    if key in ("Name", "Version"):
                        out.setdefault(key, value.strip())
        except OSError:
            continue
        break
    return out


def scan_entry_points(group: str) -> list[tuple[str, str, str, str]]:
    """``(name, value, package, version)`` of every entry point in ``group`` among the installed distributions.

    Equivalent to ``importlib.metadata.entry_points(group=...)`` (the first distribution of a name on
    ``sys.path`` wins) but reads only the files it needs, which keeps ``zoo list`` fast.
    """
    found = []
    seen: set[str] = set()
    header = f"[{group}]"
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            dirs = sorted((d.name, d.path) for d in listing if d.name.endswith((".dist-info", ".egg-info")))
        for dname, dpath in dirs:
            key = re.sub(r"[-_.]+", "-", dname.rsplit(".", 1)[0].split("-")[0]).lower()
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(os.path.join(dpath, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if header not in text:
                continue
            meta = _dist_header(dpath)
            section = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif section == group and "=" in line and not line.startswith(("#", ";")):
                    name, _, value = line.partition("=")
                    found.append((name.strip(), value.strip(), meta.get("Name", key), meta.get("Version", "?")))
    return sorted(found)


def import_object(value: str) -> Any:
    """The object an entry-point style reference names: ``"module"`` or ``"module:attr.attr"``.

    >>> import_object("zoo.catalog:load_catalog").__name__
    'load_catalog'
    """
    module, _, attr = value.partition(":")
    obj = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def catalog_files(module: str) -> list[Path]:
    """The YAML files in a plugin package's folders, found without importing the plugin.

    They are the candidates for its catalog, read only to explain a name that a disabled, failed or refused
    plugin would provide; a single-file plugin module has no folder of its own, hence none.

    >>> [p.name for p in catalog_files("zoo.plugins.lstm")]
    ['registry.yaml']
    """
    parts = module.partition(":")[0].strip().split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name is located, not executed
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    files: list[Path] = []
    for root in spec.submodule_search_locations:
        folder = Path(root)
        for part in [None, *parts[1:]]:
            folder = folder / part if part else folder
            if not folder.is_dir():
                break
            files += sorted(folder.glob("*.yaml"))
    return files


# -- the allow and deny lists ------------------------------------------------------------------------------------
def _env_names(var: str) -> set[str] | None:
    raw = os.environ.get(var)
    return None if raw is None else {s.strip() for s in raw.split(",") if s.strip()}


def _unknown_names_note(var: str, given: set[str], known: set[str], loads_nothing: bool) -> str | None:
    """One line naming the entries of ``var`` that match no installed plugin or package, and the known ones."""
    unknown = sorted(given - known)
    if not unknown:
        return None
    what = ", ".join(repr(u) for u in unknown)
    effect = "so no plugin is loaded" if loads_nothing else "ignored"
    return (f"{var}: no installed plugin or package is named {what} ({effect}); known: "
            f"{', '.join(sorted(known)) or 'none'}.")


def load_entry_points(registry: Any, group: str) -> None:
    """Add every plugin of the entry-point ``group`` to ``registry``: loaded, or recorded with why it is not.

    The deny list applies first (so disabling one of two packages that declare a name settles the clash), then
    the allow list; then a name still declared by several packages goes to the built-in one, or to none.
    """
    allow, deny = _env_names(LOAD_ENV), _env_names(DISABLE_ENV) or set()
    found = scan_entry_points(group)
    known = {n for n, _, _, _ in found} | {p for _, _, p, _ in found}
    by_name: dict[str, list[PluginInfo]] = {}
    for name, value, package, version in found:
        # status "" until decided below: disabled, refused, or loaded (or failed) when imported
        by_name.setdefault(name, []).append(PluginInfo(name, package, version, value, status=""))
    for name, candidates in by_name.items():
        for info in candidates:
            if len(candidates) > 1:  # packages sharing a name get distinct keys; the one that loads keeps the name
                info.key = f"{name} ({info.package})"
            if {info.name, info.package} & deny:
                info.status, info.reason = "disabled", DISABLE_ENV
            elif allow is not None and not {info.name, info.package} & allow:
                info.status, info.reason = "disabled", f"not in {LOAD_ENV}"
        _settle_shared_name([c for c in candidates if not c.status])
        for info in candidates:
            if not info.status:
                info.key = name
                _load(registry, info)
            else:
                registry.add_unloaded(info)
    loaded = any(p.status == "loaded" for p in registry.plugins.values())
    for var, given in ((LOAD_ENV, allow or set()), (DISABLE_ENV, deny)):
        note = _unknown_names_note(var, given, known, var == LOAD_ENV and not loaded)
        if note:
            registry.notes.append(note)


def _load(registry: Any, info: PluginInfo) -> None:
    """Import one plugin and add it to the registry; an exception only marks it failed."""
    try:
        module = import_object(info.module)
    except BaseException as e:  # a broken plugin must not take the zoo down; Ctrl-C still stops us
        if isinstance(e, KeyboardInterrupt):
            raise
        info.status, info.reason = "failed", f"{type(e).__name__}: {str(e).rstrip('.')}"
        registry.add_unloaded(info)
        return
    registry.add_plugin(info.name, module, info.package, info.version, key=info.key, module_name=info.module)


def _settle_shared_name(claimants: list[PluginInfo]) -> None:
    """Packages declaring one entry-point name: a built-in keeps it and the rest are refused; else all are."""
    if len(claimants) < 2:
        return
    builtin = next((c for c in claimants if c.builtin), None)
    for info in claimants:
        if info is builtin:
            continue
        rivals = [builtin] if builtin else [c for c in claimants if c is not info]
        if builtin:
            reason = f"plugin name '{info.name}' is already declared by {builtin.package} {builtin.version}"
        else:
            others = ", ".join(f"{o.package} {o.version}" for o in rivals)
            reason = f"plugin name '{info.name}' is also declared by {others}, so neither is loaded"
        info.refuse(reason, rivals)


__all__ = ["BUILTIN_PACKAGE", "DISABLE_ENV", "LOAD_ENV", "PluginInfo", "catalog_files", "import_object",
           "load_entry_points", "scan_entry_points"]
