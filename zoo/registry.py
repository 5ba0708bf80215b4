"""The :class:`Registry` of what plugins provide: architectures (:class:`zoo.Architecture`) and training callbacks.

Plugins are found through the ``zoo.plugins`` entry-point group, the built-ins too (:mod:`zoo.discovery`). Each is
registered on its own: one that fails is reported as a warning and the rest of the zoo keeps working. A plugin
that claims a name (architecture, alias or callback) another plugin has is refused, whole: a built-in keeps its
names, and between two third-party plugins neither wins. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .callbacks import CallbackContext, CallbackPlugin, check_registration
from .catalog import CatalogEntry, load_catalog, load_presets
from .architecture import Architecture
from .discovery import DISABLE_ENV, LOAD_ENV, PluginInfo, catalog_files, load_entry_points
from .errors import (CatalogError, HyperparameterError, PluginError, UnknownArchitectureError, ZooError,
                     ZooWarning)
from .hyperparameters import COMMON, COMMON_DEFAULTS

PRESETS_ENV = "ZOO_PRESETS"
HOOKS = ("register_architectures", "register_callbacks")


@dataclass
class _Offer:
    """What one plugin registered: kept while it is refused too, to say what it would provide."""

    info: PluginInfo
    architectures: list[Architecture] = field(default_factory=list)
    callbacks: list[CallbackPlugin] = field(default_factory=list)

    def names(self) -> list[tuple[str, str]]:
        """Every ``(kind, name)`` it claims: architecture names and aliases, callback names."""
        return ([("architecture", n) for a in self.architectures for n in (a.name, *a.aliases)]
                + [("callback", c.name) for c in self.callbacks])


class Registry:
    """The architectures and training callbacks provided by a set of plugins.

    Normally created by :func:`default_registry` from installed entry points; tests build their own from
    explicit ``(name, module, package, version)`` plugins.

    >>> import importlib
    >>> lstm = importlib.import_module("zoo.plugins.lstm")
    >>> reg = Registry([("lstm", lstm, "keras-zoo", "0.1.0")])
    >>> reg.names(), reg.plugins["lstm"].status, reg.get("basic").package
    (['lstm'], 'loaded', 'keras-zoo')
    """

    def __init__(self, plugins: Iterable[tuple[str, Any, str, str]] = (), presets: Iterable[str | os.PathLike] = ()):
        """``plugins``: ``(name, module, package, version)``; ``presets``: preset YAML file paths."""
        self.plugins: dict[str, PluginInfo] = {}
        self.notes: list[str] = []  # warnings that are about no single plugin (e.g. unknown names in the env)
        self._offers: dict[str, _Offer] = {}
        self._archs: dict[str, Architecture] = {}
        self._names: dict[str, str] = {}  # every name and alias -> canonical name
        self._callbacks: dict[str, CallbackPlugin] = {}
        self._presets: list[tuple[str, Architecture]] = []  # (FILE:LINE, preset)
        self._catalogs: dict[str, dict[str, CatalogEntry]] = {}
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        for name, module, package, version in plugins:
            self.add_plugin(name, module, package, version)
        for path in presets:
            self.add_presets(path)

    @property
    def warnings(self) -> list[str]:
        """One line per plugin that failed or was refused, then the notes; what :func:`default_registry` warns."""
        lines = [p.warning for p in self.plugins.values() if p.warning] + self.notes
        return list(dict.fromkeys(lines))

    # -- plugins ---------------------------------------------------------------------------------------------
    def add_plugin(self, name: str, module: Any, package: str = "", version: str = "", *, key: str | None = None,
                   module_name: str | None = None) -> PluginInfo:
        """Register one plugin module and what it declares; failures and refusals are recorded, not raised."""
        info = PluginInfo(name, package or getattr(module, "__name__", name), version or "?",
                          module_name or getattr(module, "__name__", ""), key=key or name)
        self.plugins[info.key] = info
        try:
            typos = [a for a in dir(module)
                     if hasattr(getattr(module, a, None), f"{hookspecs.PROJECT}_impl") and a not in HOOKS]
            if typos:
                raise PluginError(f"hook '{typos[0]}' matches no zoo hook (expected "
                                  f"{' or '.join(repr(h) for h in HOOKS)})")
            self._pm.register(module, name=info.key)
        except Exception as e:
            return self._fail(info, e)
        try:
            offer = self._collect(info)
        except Exception as e:  # all or nothing: a plugin with one bad registration provides nothing
            self._pm.unregister(name=info.key)
            return self._fail(info, e)
        self._offers[info.key] = offer
        self._settle()
        return info

    def add_unloaded(self, info: PluginInfo) -> None:
        """Record a plugin that was not imported (disabled, failed to import, or refused before loading)."""
        self.plugins[info.key] = info

    def _fail(self, info: PluginInfo, exc: BaseException) -> PluginInfo:
        info.status = "failed"
        info.reason = f"{type(exc).__name__}: {str(exc).rstrip('.')}"
        return info

    def _collect(self, info: PluginInfo) -> _Offer:
        """Call the plugin's hooks, validating each registration."""
        offer = _Offer(info)

        def architecture(name: str, build: Callable, *, catalog: Any) -> None:
            offer.architectures.append(self._make(info, name, build, catalog))

        def callback(name: str, factory: Callable, *, help: str | None = None) -> None:
            check_registration(name, factory, help)
            offer.callbacks.append(CallbackPlugin(name, help.strip(), info.name, info.package, info.version, factory))

        for hook, register in zip(HOOKS, (architecture, callback)):
            for impl in getattr(self._pm.hook, hook).get_hookimpls():
                if impl.plugin_name == info.key:
                    impl.function(register=register)
        names = offer.names()
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice:
            raise PluginError(f"it registers {twice[0]} '{twice[1]}' twice (as a name or an alias)")
        return offer

    def _make(self, info: PluginInfo, name: str, build: Callable, catalog: Any) -> Architecture:
        if not callable(build):
            raise PluginError(f"register({name!r}, ...): build must be callable, got {type(build).__name__}")
        entries = self._catalog(catalog)
        key = str(catalog)
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
            test_hyperparameters=e.test_hyperparameters, waivers=e.waivers, custom_objects=e.custom_objects,
            catalog=e.source,
        )

    def _catalog(self, path: Any) -> dict[str, CatalogEntry]:
        key = str(path)
        if key not in self._catalogs:
            self._catalogs[key] = load_catalog(path)
        return self._catalogs[key]

    # -- conflicts -------------------------------------------------------------------------------------------
    def _settle(self) -> None:
        """Refuse every plugin that claims a contested name, then rebuild the name tables from the rest.

        A built-in keeps its names; between other plugins neither wins. The outcome depends only on the set of
        plugins, never on the order they were added in (nor on their alphabetical order).
        """
        claims: dict[tuple[str, str], list[PluginInfo]] = {}
        for offer in self._offers.values():
            for claim in offer.names():
                claims.setdefault(claim, []).append(offer.info)
        contested = sorted((claim, sorted(infos, key=lambda i: i.key)) for claim, infos in claims.items()
                           if len(infos) > 1)
        refused: dict[str, tuple[str, list[PluginInfo]]] = {}
        for (kind, name), infos in contested:  # a built-in keeps its names
            builtin = next((i for i in infos if i.builtin), None)
            for info in infos:
                if builtin is not None and not info.builtin:
                    refused.setdefault(info.key, (f"{kind} '{name}' is already provided by {builtin.label}",
                                                  [builtin]))
        for (kind, name), infos in contested:  # between the others, nobody wins
            rivals = [i for i in infos if i.key not in refused]
            for info in rivals if len(rivals) > 1 else []:
                others = [r for r in rivals if r is not info]
                refused.setdefault(info.key, (f"{kind} '{name}' is also defined by "
                                              f"{', '.join(o.label for o in others)}, so neither is loaded", others))
        self._archs, self._names, self._callbacks = {}, {}, {}
        for key, offer in self._offers.items():
            if key in refused:
                offer.info.refuse(*refused[key])
                continue
            offer.info.architectures = [a.name for a in offer.architectures]
            offer.info.callbacks = [c.name for c in offer.callbacks]
            for arch in offer.architectures:
                self._archs[arch.name] = arch
                self._names.update({n: arch.name for n in (arch.name, *arch.aliases)})
            self._callbacks.update({c.name: c for c in offer.callbacks})
        for source, preset in self._presets:
            self._add_preset(source, preset)

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
                preset_of=base.name, custom_objects=base.custom_objects, catalog=base.catalog,
            )
            self._add_preset(preset.source, arch)
            self._presets.append((preset.source, arch))
            added.append(preset.name)
        return added

    def _add_preset(self, source: str, arch: Architecture) -> None:
        owner = self.owner(arch.name)
        if owner:
            raise CatalogError(f"{source}: preset '{arch.name}': the name is already taken by {owner}; rename the "
                               "preset.")
        self._archs[arch.name] = arch
        self._names[arch.name] = arch.name

    # -- lookup ----------------------------------------------------------------------------------------------
    def _lookup(self, name: str, prefix: str = "") -> Architecture:
        if not isinstance(name, str):
            raise UnknownArchitectureError(f"{prefix}Architecture names are strings, got {name!r}.")
        key = name.strip().lower()
        if key in self._names:
            return self._archs[self._names[key]]
        elsewhere = self._not_loaded("architecture", key)
        if elsewhere:
            raise UnknownArchitectureError(prefix + elsewhere)
        close = _closest(key, self._names)
        hint = f" Did you mean '{self._names[close]}'?" if close else ""
        raise UnknownArchitectureError(f"{prefix}No architecture named '{name}'.{hint} Run `zoo list` to see all "
                                       f"{len(self._archs)}.{self._unloaded_note()}")

    def get(self, name: str) -> Architecture:
        """The architecture with this name, alias or preset name."""
        return self._lookup(name)

    def owner(self, name: str) -> str | None:
        """Who already has ``name`` (an architecture, alias, preset or plugin name), for messages; None if free.

        >>> import zoo
        >>> zoo.default_registry().owner("bidirectional"), zoo.default_registry().owner("transformer")
        ("architecture 'bilstm' (an alias of it) from plugin 'bilstm' (keras-zoo 0.1.0)", None)
        """
        arch = self._archs.get(self._names.get(name, ""))
        if arch is not None and arch.preset_of:
            return f"preset '{arch.name}' of preset file {arch.module}"
        if arch is not None:
            alias = " (an alias of it)" if name != arch.name else ""
            return f"architecture '{arch.name}'{alias} from plugin '{arch.plugin}' ({arch.package} {arch.version})"
        plugin = next((p for p in self.plugins.values() if p.name == name), None)
        return f"plugin {plugin.label}" if plugin else None

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted canonical names, optionally filtered by a glob ``pattern``."""
        return sorted(n for n in self._archs if pattern is None or fnmatch.fnmatchcase(n, pattern))

    def architectures(self) -> list[Architecture]:
        """Every architecture (presets included), sorted by name."""
        return [self._archs[n] for n in self.names()]

    # -- names a plugin that is not loaded would provide -----------------------------------------------------
    def _not_loaded(self, kind: str, name: str) -> str | None:
        """'Architecture X is provided by plugin P, which is disabled ...' when a plugin that is not loaded
        declares ``name``, else None. A disabled or failed plugin was never imported: its catalog is read."""
        for key, info in self.plugins.items():
            if info.status == "loaded":
                continue
            offer = self._offers.get(key)
            provided = offer.names() if offer else self._catalog_names(info) if kind == "architecture" else []
            if (kind, name) in provided:
                return f"{kind.capitalize()} '{name}' is provided by plugin {info.label}, which {_why_not(info)}."
        return None

    def _catalog_names(self, info: PluginInfo) -> list[tuple[str, str]]:
        names = []
        for path in catalog_files(info.module):
            try:
                entries = self._catalog(path)
            except ZooError:  # a YAML file that is not a catalog
                continue
            names += [("architecture", n) for e in entries.values() if e.plugin == info.name
                      for n in (e.name, *e.aliases)]
        return names

    def _unloaded_note(self) -> str:
        unloaded = [f"'{p.name}' ({p.package} {p.version}, {p.status})" for p in self.plugins.values()
                    if p.status != "loaded"]
        return f" Not loaded, so not searched: {', '.join(unloaded)} (see `zoo plugins`)." if unloaded else ""

    # -- training callbacks ----------------------------------------------------------------------------------
    def callbacks(self) -> list[CallbackPlugin]:
        """Every registered training callback, sorted by name."""
        return [self._callbacks[n] for n in sorted(self._callbacks)]

    def get_callback(self, name: str) -> CallbackPlugin:
        """The training callback registered under ``name``; an unknown name suggests the closest one."""
        key = name.strip().lower() if isinstance(name, str) else name
        if key in self._callbacks:
            return self._callbacks[key]
        elsewhere = self._not_loaded("callback", key)
        if elsewhere:
            raise ZooError(elsewhere)
        close = _closest(str(key), self._callbacks)
        hint = f" Did you mean '{close}'?" if close else ""
        have = ", ".join(sorted(self._callbacks)) or "none"
        raise ZooError(f"No callback named {name!r}.{hint} Available: {have}.{self._unloaded_note()}")

    def make_callbacks(self, names: Iterable[str], context: CallbackContext) -> list[Any]:
        """The ``keras.callbacks.Callback`` of each named callback for this run, in order; every name is checked
        before any factory runs. A factory that returns None (nothing to do here) adds nothing."""
        plugins = [self.get_callback(n) for n in dict.fromkeys(names)]
        return [cb for cb in (p.make(context) for p in plugins) if cb is not None]


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    import difflib  # only on the error path: `zoo list` does not pay for it

    close = difflib.get_close_matches(name, list(candidates), n=1)
    return close[0] if close else None


def _why_not(info: PluginInfo) -> str:
    """Why a plugin is not loaded, and how to load it, as the end of a sentence."""
    if info.status == "disabled" and info.reason == DISABLE_ENV:
        return f"is disabled by {DISABLE_ENV}; remove '{info.switch}' from {DISABLE_ENV} to use it"
    if info.status == "disabled":
        return f"is not loaded: {LOAD_ENV} does not name it; add '{info.switch}' to {LOAD_ENV} to use it"
    if info.status == "failed":
        return f"failed to load ({info.reason})"
    return f"is refused ({info.reason}); {info.fix}"


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
    """The registry of installed plugins plus the presets named by ``zoo --presets`` and ``$ZOO_PRESETS`` (built
    once per process and set of preset files).

    Each broken or refused plugin is reported once, as a :class:`zoo.ZooWarning` naming its package, version and
    what went wrong.
    """
    global _default, _default_key
    key = (*(os.environ.get(k) for k in (LOAD_ENV, DISABLE_ENV, PRESETS_ENV)), tuple(_preset_files))
    if _default is not None and _default_key == key:
        return _default
    reg = Registry()
    load_entry_points(reg, hookspecs.ENTRY_POINT_GROUP)
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
