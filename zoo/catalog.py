"""Reading and validating catalog files (``registry.yaml`` and plugins' own) and preset files.

Files are read with ``yaml.safe_load`` semantics, keeping each key's line so that a mistake is reported as
``FILE:LINE: KEY: what is wrong``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .contract import CHECKS, UNWAIVABLE
from .errors import CatalogError
from .hyperparameters import COMMON, TYPES, Param

NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]*$")
ENTRY_KEYS = {"aliases", "summary", "plugin", "inputs", "defaults", "hyperparameters",
              "test_hyperparameters", "waivers", "custom_objects"}
# "module:Name" (dotted on both sides): a class or function a saved model needs, imported only when loading one
OBJECT_REF_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
PARAM_KEYS = {"type", "min", "max", "choices", "nullable", "min_length", "help", "search"}
PRESET_KEYS = {"architecture", "summary", "hyperparameters"}
INPUT_MODES = ("tokens", "features")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 100_000  # values a catalog or preset file may hold once its aliases are expanded


@dataclass(frozen=True)
class CatalogEntry:
    """One architecture's metadata, as declared in a catalog file."""

    name: str
    aliases: tuple[str, ...]
    summary: str
    plugin: str
    inputs: tuple[str, ...]
    defaults: dict[str, Any]
    schema: dict[str, Param]
    test_hyperparameters: dict[str, Any] = field(default_factory=dict)
    waivers: dict[str, str] = field(default_factory=dict)
    source: str = ""
    custom_objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    """A user's named preset: an architecture plus hyperparameter overrides."""

    name: str
    architecture: str
    hyperparameters: dict[str, Any]
    summary: str
    source: str


class _Doc:
    """A parsed YAML document plus the line of every key path, for error messages."""

    def __init__(self, path: str | os.PathLike, text: str | None = None):
        self.path = str(path)
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except FileNotFoundError:
                raise CatalogError(f"{self.path}: file not found.") from None
            except (OSError, UnicodeDecodeError) as e:
                raise CatalogError(f"{self.path}: cannot read it as UTF-8 text ({e}).") from None
        self.lines: dict[tuple, int] = {}
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_expansion(self.path, node)  # before anything walks it: aliases can expand exponentially
                self._walk(node, ())
            self.data = loader.construct_document(node) if node is not None else None
        except RecursionError:
            raise CatalogError(f"{self.path}: nested too deeply to be a catalog or preset file.") from None
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = f":{mark.line + 1}" if mark else ""
            raise CatalogError(f"{self.path}{line}: invalid YAML: {e.problem or e.context}.") from None
        except yaml.YAMLError as e:
            raise CatalogError(f"{self.path}: invalid YAML: {e}.") from None
        finally:
            loader.dispose()

    def _walk(self, node: yaml.Node, keypath: tuple) -> None:
        # (aliases are walked again where they are used: _check_expansion bounded the total first)
        self.lines.setdefault(keypath, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                k = key.value
                if k in seen:
                    raise CatalogError(f"{self.path}:{key.start_mark.line + 1}: {'.'.join(map(str, keypath + (k,)))}: "
                                       "duplicate key; each key may appear once.")
                seen.add(k)
                self.lines[keypath + (k,)] = key.start_mark.line + 1
                self._walk(value, keypath + (k,))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                self._walk(value, keypath + (i,))

    def error(self, keypath: tuple, problem: str) -> CatalogError:
        line = self.lines.get(keypath)
        while line is None and keypath:
            keypath = keypath[:-1]
            line = self.lines.get(keypath)
        where = f"{self.path}:{line}" if line else self.path
        key = ".".join(map(str, keypath)) or "(top level)"
        return CatalogError(f"{where}: {key}: {problem}")


def _check_expansion(path: str, root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than ``MAX_NODES`` values, or refer to themselves.

    Each distinct node is sized once (iteratively, memoized), so a "billion laughs" file costs its own length
    to check, not its expansion.
    """
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in size:
            continue
        kids = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else
                list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if children_done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            if size[key] > MAX_NODES:
                raise CatalogError(f"{path}:{node.start_mark.line + 1}: expands to more than {MAX_NODES:,} values "
                                   "through YAML aliases (&anchor / *alias); write the values out instead.")
            continue
        if key in open_:
            raise CatalogError(f"{path}:{node.start_mark.line + 1}: a YAML alias refers to the node that contains it "
                               "(a recursive structure); catalogs and presets must be plain trees.")
        open_.add(key)
        stack.append((node, True))
        for kid in kids:
            if id(kid) in open_:
                raise CatalogError(f"{path}:{kid.start_mark.line + 1}: a YAML alias refers to the node that "
                                   "contains it (a recursive structure); catalogs and presets must be plain trees.")
            stack.append((kid, False))


def _expect(doc: _Doc, keypath: tuple, value: Any, kind: type | tuple, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise doc.error(keypath, f"expected {what}, got {type(value).__name__} {value!r}.")
    return value


def _check_keys(doc: _Doc, keypath: tuple, mapping: dict, allowed: set) -> None:
    for k in mapping:
        if k not in allowed:
            raise doc.error(keypath + (k,), f"unknown key; allowed keys: {', '.join(sorted(allowed))}.")


def _parse_param(doc: _Doc, keypath: tuple, name: str, raw: Any) -> Param:
    _expect(doc, keypath, raw, dict, "a mapping with at least `type`")
    _check_keys(doc, keypath, raw, PARAM_KEYS)
    if raw.get("type") not in TYPES:
        raise doc.error(keypath + ("type",), f"expected one of {', '.join(TYPES)}, got {raw.get('type')!r}.")
    for k in ("min", "max"):
        if k in raw:
            _expect(doc, keypath + (k,), raw[k], (int, float), "a number")
    if "choices" in raw:
        _expect(doc, keypath + ("choices",), raw["choices"], list, "a list")
    if "nullable" in raw:
        _expect(doc, keypath + ("nullable",), raw["nullable"], bool, "true or false")
    if "min_length" in raw:
        _expect(doc, keypath + ("min_length",), raw["min_length"], int, "an integer")
    if "help" in raw:
        _expect(doc, keypath + ("help",), raw["help"], str, "a string")
    if "search" in raw:
        s = raw["search"]
        if not (isinstance(s, list) and s or isinstance(s, dict) and {"min", "max"} <= set(s)):
            raise doc.error(keypath + ("search",), "expected a list of values or a mapping with min and max.")
    return Param(name, raw["type"], raw.get("min"), raw.get("max"),
                 tuple(raw["choices"]) if "choices" in raw else None, raw.get("nullable", False),
                 raw.get("min_length"), raw.get("help", ""), raw.get("search"))


def _parse_entry(doc: _Doc, name: str, raw: Any) -> CatalogEntry:
    kp = ("architectures", name)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise doc.error(kp, "architecture names are lower-case letters, digits, '_' or '-', starting with a letter.")
    _expect(doc, kp, raw, dict, "a mapping")
    _check_keys(doc, kp, raw, ENTRY_KEYS)
    for required in ("summary", "plugin", "defaults", "hyperparameters"):
        if required not in raw:
            raise doc.error(kp, f"missing required key '{required}'.")
    summary = _expect(doc, kp + ("summary",), raw["summary"], str, "a one-line string")
    plugin = _expect(doc, kp + ("plugin",), raw["plugin"], str, "the plugin's entry-point name")
    aliases = _expect(doc, kp + ("aliases",), raw.get("aliases", []), list, "a list of names")
    for i, alias in enumerate(aliases):
        if not isinstance(alias, str) or not NAME_RE.match(alias):
            raise doc.error(kp + ("aliases", i), f"bad alias {alias!r}: use lower-case letters, digits, '_' or '-'.")
    inputs = _expect(doc, kp + ("inputs",), raw.get("inputs", ["tokens"]), list, "a list")
    if not inputs:
        raise doc.error(kp + ("inputs",), f"an empty list; name at least one of {', '.join(INPUT_MODES)}.")
    for i, mode in enumerate(inputs):
        if mode not in INPUT_MODES:
            raise doc.error(kp + ("inputs", i), f"unknown input mode {mode!r}; expected {' or '.join(INPUT_MODES)}.")
    params = _expect(doc, kp + ("hyperparameters",), raw["hyperparameters"], dict, "a mapping")
    schema: dict[str, Param] = {}
    for pname, praw in params.items():
        if pname in COMMON:
            raise doc.error(kp + ("hyperparameters", pname),
                            f"'{pname}' is a zoo-wide hyperparameter; set its default under `defaults` instead.")
        schema[pname] = _parse_param(doc, kp + ("hyperparameters", pname), pname, praw)
    full = {**COMMON, **schema}
    defaults = _expect(doc, kp + ("defaults",), raw["defaults"], dict, "a mapping")
    for section in ("defaults", "test_hyperparameters"):
        values = _expect(doc, kp + (section,), raw.get(section, {}), dict, "a mapping")
        for k, v in values.items():
            if k not in full:
                raise doc.error(kp + (section, k), "not a declared hyperparameter; declare it under `hyperparameters`.")
            try:
                full[k].validate(v, name)
            except Exception as e:  # HyperparameterError: re-point it at the file and line
                raise doc.error(kp + (section, k), str(e)) from None
    missing = [p for p in schema if p not in defaults]
    if missing:
        raise doc.error(kp + ("defaults",), f"no default for {', '.join(missing)}; every hyperparameter needs one.")
    waivers = _expect(doc, kp + ("waivers",), raw.get("waivers", {}), dict, "a mapping of check name to reason")
    for check, reason in waivers.items():
        if check in UNWAIVABLE:
            raise doc.error(kp + ("waivers", check), f"the {check} check cannot be waived.")
        if check not in CHECKS:
            import difflib

            close = difflib.get_close_matches(str(check), CHECKS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else f" Checks: {', '.join(CHECKS)}."
            raise doc.error(kp + ("waivers", check), f"no contract check named {check!r}.{hint}")
        if not isinstance(reason, str) or not reason.strip():
            raise doc.error(kp + ("waivers", check), "a waiver needs a written reason.")
    return CatalogEntry(name, tuple(aliases), summary, plugin, tuple(inputs), dict(defaults), schema,
                        dict(raw.get("test_hyperparameters", {})), dict(waivers), doc.path,
                        _parse_custom_objects(doc, kp, raw.get("custom_objects", [])))


def _parse_custom_objects(doc: _Doc, kp: tuple, refs: Any) -> tuple[str, ...]:
    """The ``custom_objects`` list: ``"module:ClassName"`` strings, checked here, imported only to load a model."""
    _expect(doc, kp + ("custom_objects",), refs, list, 'a list of "module:ClassName" strings')
    for i, ref in enumerate(refs):
        if not isinstance(ref, str) or not OBJECT_REF_RE.match(ref):
            raise doc.error(kp + ("custom_objects", i), f'expected "module:ClassName" (e.g. "zoo_foo.layers:MyLayer"), '
                                                        f"got {ref!r}.")
    return tuple(refs)


def load_catalog(path: str | os.PathLike, text: str | None = None) -> dict[str, CatalogEntry]:
    """Read and validate a catalog file; return its entries by name.

    >>> import zoo, pathlib
    >>> entries = load_catalog(pathlib.Path(zoo.__file__).with_name("registry.yaml"))
    >>> entries["bilstm"].defaults["units"], entries["bilstm"].aliases
    (64, ('bidirectional',))
    """
    doc = _Doc(path, text)
    data = doc.data
    _expect(doc, (), data, dict, "a mapping with a top-level `architectures` key")
    _check_keys(doc, (), data, {"version", "architectures"})
    if data.get("version", 1) != 1:
        raise doc.error(("version",), f"unsupported catalog version {data['version']!r}; this zoo reads version 1.")
    archs = _expect(doc, ("architectures",), data.get("architectures"), dict, "a mapping of name to entry")
    return {name: _parse_entry(doc, name, raw) for name, raw in archs.items()}


def load_presets(path: str | os.PathLike) -> dict[str, Preset]:
    """Read a user's preset file: ``presets: {NAME: {architecture: ..., hyperparameters: {...}}}``.

    Hyperparameter values are checked against the architecture when the preset is used.
    """
    doc = _Doc(path)
    data = doc.data
    _expect(doc, (), data, dict, "a mapping with a top-level `presets` key")
    _check_keys(doc, (), data, {"version", "presets"})
    presets = _expect(doc, ("presets",), data.get("presets"), dict, "a mapping of preset name to preset")
    out = {}
    for name, raw in presets.items():
        kp = ("presets", name)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise doc.error(kp, "preset names are lower-case letters, digits, '_' or '-', starting with a letter.")
        _expect(doc, kp, raw, dict, "a mapping with `architecture` and `hyperparameters`")
        _check_keys(doc, kp, raw, PRESET_KEYS)
        arch = _expect(doc, kp + ("architecture",), raw.get("architecture"), str, "an architecture name")
        hps = _expect(doc, kp + ("hyperparameters",), raw.get("hyperparameters", {}), dict, "a mapping")
        summary = _expect(doc, kp + ("summary",), raw.get("summary", ""), str, "a string")
        out[name] = Preset(name, arch, dict(hps), summary, f"{doc.path}:{doc.lines.get(kp, 0)}")
    return out
