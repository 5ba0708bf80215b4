"""Discovery of architecture plugins and the :class:`Architecture` records users get back.

Plugins are found through the ``zoo.plugins`` entry-point group (the built-ins too). Each plugin is loaded on its
own, so one that fails to import is reported as a warning and the rest of the zoo keeps working. Duplicate names
and alias collisions are errors naming both packages. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .catalog import CatalogEntry, Preset, load_catalog, load_presets
from .errors import (CatalogError, HyperparameterError, PluginError, UnknownArchitectureError, ZooError,
                     ZooWarning)
from .hyperparameters import COMMON, COMMON_DEFAULTS, Hyperparameters, Param, resolve

PRESETS_ENV = "ZOO_PRESETS"
LOAD_ENV = "ZOO_LOAD_PLUGINS"
DISABLE_ENV = "ZOO_DISABLE_PLUGINS"


@dataclass
class PluginInfo:
    """What ``zoo plugins`` shows for one plugin: its package, version and status."""

    name: str
    package: str
    version: str
    module: str = ""
    status: str = "loaded"  # loaded | failed | disabled
    reason: str = ""
    architectures: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.package} {self.version})"


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: its metadata and a way to build it.

    >>> import zoo
    >>> arch = zoo.get("bidirectional")
    >>> arch.name, arch.plugin, arch.defaults["units"]
    ('bilstm', 'bilstm', 64)
    """

    name: str
    aliases: tuple[str, ...]
    summary: str
    plugin: str
    package: str
    version: str
    module: str
    inputs: tuple[str, ...]
    defaults: dict[str, Any]
    schema: dict[str, Param]
    builder: Callable[..., Any] = field(repr=False)
    test_hyperparameters: dict[str, Any] = field(default_factory=dict, repr=False)
    waivers: dict[str, str] = field(default_factory=dict, repr=False)
    preset_of: str | None = None

    @property
    def masks_padding(self) -> bool:
        """Whether padding never changes this architecture's predictions, as the contract's ``variable_length``
        check verifies (unless the catalog waives it): then training may cut batches to their longest row and
        prediction may sort rows by length.

        >>> import zoo
        >>> zoo.get("lstm").masks_padding
        True
        """
        return "variable_length" not in self.waivers

    def hyperparameters(self, **overrides: Any) -> Hyperparameters:
        """Validate ``overrides`` against the schema and merge them into the defaults.

        >>> import zoo
        >>> zoo.get("lstm").hyperparameters(units=32).units
        32
        """
        return resolve(self.name, self.schema, self.defaults, overrides, self.inputs)

    def build(self, num_classes: int, **overrides: Any) -> Any:
        """Build and compile a ``keras.Model`` for ``num_classes`` classes; see :func:`zoo.build`."""
        from .builder import build_model

        return build_model(self, num_classes, self.hyperparameters(**overrides))


class Registry:
    """The architectures provided by a set of plugins.

    Normally created by :func:`default_registry` from installed entry points; tests build their own from
    explicit ``(name, module)`` pairs.
    """

    def __init__(self, plugins: Iterable[tuple[str, Any, str, str]] = (), presets: Iterable[str | os.PathLike] = ()):
        """``plugins``: ``(name, module, package, version)``; ``presets``: preset YAML file paths."""
        self.plugins: dict[str, PluginInfo] = {}
        self.warnings: list[str] = []
        self.conflicts: list[str] = []
        self._archs: dict[str, Architecture] = {}
        self._names: dict[str, str] = {}  # every name and alias -> canonical name
        self._catalogs: dict[str, dict[str, CatalogEntry]] = {}
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        for name, module, package, version in plugins:
            self.add_plugin(name, module, package, version)
        for path in presets:
            self.add_presets(path)

    # -- plugins ---------------------------------------------------------------------------------------------
    def add_plugin(self, name: str, module: Any, package: str = "", version: str = "") -> PluginInfo:
        """Register one plugin module and the architectures it declares; failures are recorded, not raised."""
        info = PluginInfo(name, package or getattr(module, "__name__", name), version or "?",
                          getattr(module, "__name__", ""))
        self.plugins[name] = info
        try:
            typos = [a for a in dir(module)
                     if hasattr(getattr(module, a, None), f"{hookspecs.PROJECT}_impl")
                     and not hasattr(self._pm.hook, a)]
            if typos:
                raise PluginError(f"hook '{typos[0]}' matches no zoo hook (expected 'register_architectures')")
            self._pm.register(module, name=name)
        except Exception as e:
            return self._fail(info, e)
        staged: list[Architecture] = []
        try:
            for impl in self._pm.hook.register_architectures.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=lambda n, b, *, catalog: staged.append(self._make(info, n, b, catalog)))
        except Exception as e:
            self._pm.unregister(name=name)
            return self._fail(info, e)
        for arch in staged:  # all or nothing: a plugin with one bad entry registers none
            self._add(arch, info)
        info.architectures = [a.name for a in staged]
        return info

    def _fail(self, info: PluginInfo, exc: BaseException) -> PluginInfo:
        info.status = "failed"
        info.reason = f"{type(exc).__name__}: {str(exc).rstrip('.')}"
        self.warnings.append(f"plugin {info.label} failed to load: {info.reason}; "
                             f"it is skipped (disable it with {DISABLE_ENV}={info.name}).")
        return info

    def _make(self, info: PluginInfo, name: str, build: Callable, catalog: Any) -> Architecture:
        if not callable(build):
            raise PluginError(f"register({name!r}, ...): build must be callable, got {type(build).__name__}")
        key = str(catalog)
        if key not in self._catalogs:
            self._catalogs[key] = load_catalog(catalog)
        entries = self._catalogs[key]
        if name not in entries:
            raise CatalogError(f"{key}: no entry for architecture '{name}' (has: {', '.join(entries) or 'none'}).")
        e = entries[name]
        if e.plugin != info.name:
            raise CatalogError(f"{key}: architectures.{name}.plugin is '{e.plugin}' but plugin '{info.name}' "
                               "registers it; make them the same string.")
        return Architecture(
            name=name, aliases=e.aliases, summary=e.summary, plugin=info.name, package=info.package,
            version=info.version, module=info.module, inputs=e.inputs,
            defaults={**COMMON_DEFAULTS, **e.defaults}, schema={**COMMON, **e.schema}, builder=build,
            test_hyperparameters=e.test_hyperparameters, waivers=e.waivers,
        )

    def _owner(self, name: str) -> str:
        arch = self._archs[self._names[name]]
        if arch.preset_of:
            return f"preset file {arch.module}"
        return self.plugins[arch.plugin].label if arch.plugin in self.plugins else f"'{arch.plugin}'"

    def _add(self, arch: Architecture, info: PluginInfo | None) -> None:
        for n in (arch.name, *arch.aliases):
            if n in self._names:
                theirs = self._owner(n)
                ours = info.label if info else f"preset file {arch.module}"
                self.conflicts.append(
                    f"The name '{n}' is defined twice: by {theirs} and by {ours}. Uninstall one of them, or disable "
                    f"one with {DISABLE_ENV}=NAME."
                )
                if info is not None:
                    info.status, info.reason = "failed", f"name '{n}' already defined by {theirs}"
                return
        self._archs[arch.name] = arch
        for n in (arch.name, *arch.aliases):
            self._names[n] = arch.name

    # -- presets ---------------------------------------------------------------------------------------------
    def add_presets(self, path: str | os.PathLike) -> list[str]:
        """Add the presets of a user's YAML file; each becomes a name usable anywhere an architecture is."""
        added = []
        for preset in load_presets(path).values():
            base = self._lookup(preset.architecture, f"{preset.source}: preset '{preset.name}': architecture: ")
            try:
                base.hyperparameters(**preset.hyperparameters)
            except HyperparameterError as e:
                raise CatalogError(f"{preset.source}: preset '{preset.name}': {e}") from None
            arch = Architecture(
                name=preset.name, aliases=(), summary=preset.summary or f"preset: {base.name} with "
                + ", ".join(f"{k}={v}" for k, v in preset.hyperparameters.items()),
                plugin=base.plugin, package=base.package, version=base.version, module=str(path),
                inputs=base.inputs, defaults={**base.defaults, **preset.hyperparameters}, schema=base.schema,
                builder=base.builder, test_hyperparameters=base.test_hyperparameters, waivers=base.waivers,
                preset_of=base.name,
            )
            self._add(arch, None)
            added.append(preset.name)
        return added

    # -- lookup ----------------------------------------------------------------------------------------------
    def _raise_conflicts(self) -> None:
        if self.conflicts:
            raise PluginError(self.conflicts[0])

    def _lookup(self, name: str, prefix: str = "") -> Architecture:
        if not isinstance(name, str):
            raise UnknownArchitectureError(f"{prefix}Architecture names are strings, got {name!r}.")
        key = name.strip().lower()
        if key in self._names:
            return self._archs[self._names[key]]
        import difflib

        close = difflib.get_close_matches(key, list(self._names), n=1)
        hint = f" Did you mean '{self._names[close[0]]}'?" if close else ""
        n = len(self._archs)
        raise UnknownArchitectureError(
            f"{prefix}No architecture named '{name}'.{hint} Run `zoo list` to see all {n}."
        )

    def get(self, name: str) -> Architecture:
        """The architecture with this name, alias or preset name."""
        self._raise_conflicts()
        return self._lookup(name)

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted canonical names, optionally filtered by a glob ``pattern``."""
        self._raise_conflicts()
        return sorted(n for n in self._archs if pattern is None or fnmatch.fnmatchcase(n, pattern))

    def architectures(self) -> list[Architecture]:
        """Every architecture (presets included), sorted by name."""
        return [self._archs[n] for n in self.names()]


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


def _load_entry_point(value: str) -> Any:
    module, _, attr = value.partition(":")
    obj = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def _entry_point_plugins() -> tuple[list[tuple[str, Any, str, str]], list[PluginInfo], list[str], list[str]]:
    """Load the plugins of the entry-point group, honouring the allow and deny lists, each load isolated."""
    allow_raw = os.environ.get(LOAD_ENV)
    allow = None if allow_raw is None else {s.strip() for s in allow_raw.split(",") if s.strip()}
    deny = {s.strip() for s in os.environ.get(DISABLE_ENV, "").split(",") if s.strip()}
    loaded, skipped, problems, conflicts = [], [], [], []
    seen: dict[str, str] = {}
    for name, value, package, version in scan_entry_points(hookspecs.ENTRY_POINT_GROUP):
        if name in seen:
            if seen[name] != package:
                conflicts.append(f"The plugin name '{name}' is declared by two packages: {seen[name]} and "
                                 f"{package}. Uninstall one of them.")
            continue
        seen[name] = package
        names = {name, package}
        if names & deny or (allow is not None and not names & allow):
            why = f"{DISABLE_ENV}" if names & deny else f"not in {LOAD_ENV}"
            skipped.append(PluginInfo(name, package, version, value, "disabled", why))
            continue
        try:
            module = _load_entry_point(value)
        except BaseException as e:  # a broken plugin must not take the zoo down; Ctrl-C still stops us
            if isinstance(e, KeyboardInterrupt):
                raise
            info = PluginInfo(name, package, version, value, "failed", f"{type(e).__name__}: {str(e).rstrip('.')}")
            skipped.append(info)
            problems.append(f"plugin {info.label} failed to load: {info.reason}; it is skipped "
                            f"(disable it with {DISABLE_ENV}={name}).")
            continue
        loaded.append((name, module, package, version))
    return loaded, skipped, problems, conflicts


_default: Registry | None = None
_default_key: tuple | None = None
_preset_files: list[str] = []  # preset files given in code or as `zoo --presets`, read before $ZOO_PRESETS


@contextlib.contextmanager
def preset_files(paths: Iterable[str | os.PathLike]) -> Iterator[None]:
    """Within the block, the default registry also has the presets of these files (``zoo --presets FILE``)."""
    before = list(_preset_files)
    _preset_files.extend(os.fspath(p) for p in paths if os.fspath(p) not in _preset_files)
    try:
        yield
    finally:
        _preset_files[:] = before


def default_registry() -> Registry:
    """The registry of installed plugins plus the presets named by ``$ZOO_PRESETS`` (built once per process).

    Each broken plugin is reported once, as a :class:`zoo.ZooWarning` naming its package, version and error.
    """
    global _default, _default_key
    key = (*(os.environ.get(k) for k in (LOAD_ENV, DISABLE_ENV, PRESETS_ENV)), tuple(_preset_files))
    if _default is not None and _default_key == key:
        return _default
    loaded, skipped, problems, conflicts = _entry_point_plugins()
    reg = Registry(loaded)
    for info in skipped:
        reg.plugins[info.name] = info
    reg.warnings[:0] = problems
    reg.conflicts[:0] = conflicts
    for path in _preset_files:
        reg.add_presets(path)
    for path in filter(None, os.environ.get(PRESETS_ENV, "").split(os.pathsep)):
        try:
            reg.add_presets(path)
        except ZooError as e:
            raise type(e)(f"{e} (from ${PRESETS_ENV})") from None
    for w in reg.warnings:
        warnings.warn(w, ZooWarning, stacklevel=2)
    _default, _default_key = reg, key
    return reg
